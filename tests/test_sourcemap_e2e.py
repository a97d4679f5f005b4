"""The generated suite names the template line behind a broken generated file, then the
generated file and line; a missing template names the build.py target and its rules.

Runs the sample Snom family (tests/data/current) with the templates of tests/data/sourcemap
laid over it: a model template extending ``base.tpl``, which includes ``common/lines.tpl``
(broken on purpose) in a loop and imports a macro.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
PLUGIN = "wazo-snom-10.1.215.13"
LINES_TPL = "plugins/wazo_snom/common/templates/common/lines.tpl"
BTPL = "plugins/wazo_snom/common/templates/common/snom-model-firmware.xml.tpl.btpl"
TARGET = "@target('10.1.215.13'"


@pytest.fixture
def family(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    plugins = pytester.path / "plugins"
    shutil.copytree(DATA / "current" / "plugins", plugins)
    shutil.copytree(DATA / "sourcemap" / "wazo_snom", plugins / "wazo_snom", dirs_exist_ok=True)
    return plugins / "wazo_snom"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: these runs load the plugin and start provd (see tests/conftest.py).
    return pytester.runpytest_subprocess("--provd-plugin", PLUGIN, "-p", "no:cacheprovider", *args)


def line_of(path: Path, needle: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if n > after and needle in text)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_broken_lines_name_the_template_then_the_generated_file(
    pytester: pytest.Pytester, family: Path
) -> None:
    broken = line_of(pytester.path / LINES_TPL, "</user_dtmf>")
    btpl = pytester.path / BTPL
    replace(btpl, "&amp;chained_url", "&chained_url")
    chained = line_of(btpl, "&chained_url")
    result = run(pytester, "-k", "D785 and wellformed")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    # Configured in process: the file provd's plugin wrote, traced through extends + include.
    configured = re.search(
        rf"^  {re.escape(LINES_TPL)}:(\d+): {PLUGIN}/var/tftpboot/[0-9A-F]{{12}}\.xml:(\d+): "
        r"not well-formed XML: Opening and ending tag mismatch: user_dtmf_info",
        out,
        re.MULTILINE,
    )
    assert configured is not None, out
    assert int(configured.group(1)) == broken
    # Fetched by the emulated phone from the embedded provd: the render of that device.
    fetched = re.search(
        rf"^  {re.escape(LINES_TPL)}:(\d+): {PLUGIN}: [0-9A-F]{{12}}\.xml:\d+: "
        r"Opening and ending tag mismatch",
        out,
        re.MULTILINE,
    )
    assert fetched is not None, out
    assert int(fetched.group(1)) == broken
    # A template build.py made with sed: its .btpl line, then the built template and the
    # build.py lines that ran sed (the target's call first).
    build_py = family / "build.py"
    call = line_of(build_py, "_gen_model_templates(", after=line_of(build_py, TARGET))
    helper = line_of(build_py, "'snom-model-firmware.xml.tpl.btpl'")
    sed = line_of(build_py, "check_call(['sed'")
    assert (
        f"  {BTPL}:{chained}: {PLUGIN}: snomD785-firmware.xml:3: EntityRef: expecting ';'" in out
        and f"(built as {PLUGIN}/templates/common/snomD785-firmware.xml.tpl:{chained} by sed at "
        f"plugins/wazo_snom/build.py:{call} (via line {helper}, {sed}))"
        in out
    ), out
    # Stable for baselines: no temporary dir, no port.
    failures = out.split("= FAILURES =")[1].split("= provd =")[0]
    assert str(pytester.path) not in failures and "127.0.0.1" not in failures


def test_fixed_template_passes(pytester: pytest.Pytester, family: Path) -> None:
    replace(family / "common/templates/common/lines.tpl", "</user_dtmf>", "</user_dtmf_info>")
    run(pytester, "-k", "D785 and wellformed").assert_outcomes(passed=2)


def test_excluded_include_names_the_build_target_and_rule(
    pytester: pytest.Pytester, family: Path
) -> None:
    templates = family / "common" / "templates"
    (templates / "extra.tpl").write_text("<!-- extra -->\n")
    replace(
        templates / "D735.tpl",
        "{% extends 'base.tpl' %}",
        "{% extends 'base.tpl' %}\n{% block fkeys %}{% include 'extra.tpl' %}{% endblock %}",
    )
    build_py = family / "build.py"
    call = "'D8*.tpl'"
    result = run(pytester, "-k", "D735 and configure")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*D735.tpl:*: configure: TemplateNotFound: extra.tpl (fix: target '10.1.215.13' "
            f"(plugins/wazo_snom/build.py:{line_of(build_py, TARGET)}) ships "
            "templates/extra.tpl through none of its copies:",
            f"    plugins/wazo_snom/build.py:{line_of(build_py, call)} (via line "
            f"{line_of(build_py, 'check_call(cmd)')}): common/templates/extra.tpl is dropped by "
            "--exclude /templates/[*].tpl: add --include /templates/extra.tpl before it*",
        ]
    )
