"""Generated lines traced to the template lines that wrote them
(pytest_provd.rendering.sourcemap and provd.plugins.renders), and what a build ships
(pytest_provd.rendering.shipping)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jinja2
import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem
from pytest_provd.provd.plugins import loader, renders
from pytest_provd.provd.plugins.manager import PluginManager
from pytest_provd.provd.plugins.rawconfig import sample_common_raw_config, sample_raw_config
from pytest_provd.provd.plugins.survey import device_for, snapshot_files
from pytest_provd.rendering.shipping import copy_steps, missing_template_fix
from pytest_provd.rendering.sourcemap import at_template, column_of, matching_line, source_line

DATA = Path(__file__).parent / "data"
REAL_PROVD = Path(os.environ.get("PYTEST_PROVD_REAL_PROVD", "/tmp/real/wazo-provd"))

TEMPLATES = {
    "base.tpl": """\
        <?xml version="1.0"?>
        {% import 'macros.tpl' as m -%}
        <settings>
        {%- block lines %}
        {% for n, line in sip_lines.items() %}
          <line id="{{ n }}">{{ line.username }}</line>
        {% endfor %}
        {%- endblock %}
        {% include 'footer.tpl' %}
        {{ m.tag('macro', line_name) }}
        </settings>
        """,
    "footer.tpl": """\
          <footer>first
          second & third</footer>
        """,
    "macros.tpl": """\
        {% macro tag(name, value) -%}
        <{{ name }}>
          {{ value }}
        </{{ name }}x>
        {%- endmacro %}
        """,
    "M1.tpl": """\
        {% extends 'base.tpl' %}
        {% block lines %}
          <own>{{ sip_lines['1'].username }}</bad>
        {{ super() }}
        {% endblock %}
        """,
}
CONTEXT = {"sip_lines": {"1": {"username": "alice"}, "2": {"username": "bob"}}, "line_name": "x"}


def write_templates(root: Path, templates: dict[str, str]) -> Path:
    folder = root / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of *path* holding *needle* (the expectations read the templates)."""
    lines = path.read_text().splitlines()
    return next(n for n, text in enumerate(lines, start=1) if needle in text)


class Helper:
    """Holds a jinja2 environment as ``_env``, as both template helpers do."""

    def __init__(self, folder: Path) -> None:
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)))


def test_trace_follows_extends_include_blocks_and_macros(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, TEMPLATES)
    helper = Helper(folder)
    assert renders.watch(helper, tmp_path) == 1
    text = helper._env.get_template("M1.tpl").render(CONTEXT)
    render = renders.find(text.encode())
    assert render is not None and render.plugin_dir == tmp_path
    trace = render.trace()
    assert trace is not None and trace.text == text
    out = text.splitlines()

    def origin(needle: str, column: int | None = None) -> tuple[str, int]:
        found = trace.origin(next(n for n, t in enumerate(out, 1) if needle in t), column)
        assert found is not None
        return Path(found.filename).name, found.line

    assert origin("<own>") == ("M1.tpl", line_of(folder / "M1.tpl", "</bad>"))
    assert origin('<line id="2">') == ("base.tpl", line_of(folder / "base.tpl", "<line id="))
    assert origin("second & third") == ("footer.tpl", 2)
    assert origin("<footer>") == ("footer.tpl", 1)
    assert origin("</macrox>") == ("macros.tpl", line_of(folder / "macros.tpl", "x>"))
    assert origin("</settings>") == ("base.tpl", line_of(folder / "base.tpl", "</settings>"))
    # A column picks the piece of the line: the value of an expression is its line's.
    assert origin("<line id=", column=12) == ("base.tpl", line_of(folder / "base.tpl", "<line"))


def test_watching_changes_nothing_rendered(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, TEMPLATES)
    plain = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)))
    helper = Helper(folder)
    renders.watch(helper)
    for name in ("M1.tpl", "base.tpl", "footer.tpl"):
        watched = helper._env.get_template(name)
        assert type(watched) is not jinja2.Template  # watching is on...
        assert watched.render(CONTEXT) == plain.get_template(name).render(CONTEXT)  # ...unseen
        streamed = "".join(watched.generate(CONTEXT))
        assert streamed == plain.get_template(name).render(CONTEXT)
        assert renders.find(streamed.encode()) is not None


def test_a_trace_that_would_differ_is_none(tmp_path: Path) -> None:
    # The length of a macro's output counts the markers: the marked render differs.
    folder = write_templates(
        tmp_path,
        {
            "macros.tpl": TEMPLATES["macros.tpl"],
            "len.tpl": "{% import 'macros.tpl' as m %}<a>{{ m.tag('b', 'c')|length }}</a>\n",
        },
    )
    helper = Helper(folder)
    renders.watch(helper, tmp_path)
    text = helper._env.get_template("len.tpl").render()
    render = renders.find(text.encode())
    assert render is not None and render.trace() is None


def test_find_takes_the_file_bytes_in_any_usual_encoding(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, {"e.tpl": "<a>{{ v }}</a>\n"})
    helper = Helper(folder)
    renders.watch(helper)
    text = helper._env.get_template("e.tpl").render(v="é €")
    assert renders.find(text.encode("utf-8")) is not None
    assert renders.find(text.replace("\n", "\r\n").encode("utf-8")) is not None
    latin = helper._env.get_template("e.tpl").render(v="é")
    assert renders.find(latin.encode("latin-1")) is not None
    assert renders.find(b"<a>never rendered</a>\n") is None


def test_the_recorded_variables_are_those_rendered(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, {"v.tpl": "<a>{{ d.v }}</a>\n<b/>\n"})
    helper = Helper(folder)
    renders.watch(helper, tmp_path)
    raw: dict[str, Any] = {"d": {"v": "first"}}
    text = helper._env.get_template("v.tpl").render(raw)
    raw["d"]["v"] = "changed after rendering"
    render = renders.find(text.encode())
    assert render is not None and render.trace() is not None


def sample_target(tmp_path: Path, plugin_id: str = "wazo-snom-10.1.215.13") -> tree.Target:
    plugins = tmp_path / "repo" / "plugins"
    shutil.copytree(DATA / "current" / "plugins", plugins)
    shutil.copytree(DATA / "sourcemap" / "wazo_snom", plugins / "wazo_snom", dirs_exist_ok=True)
    return tree.discover(plugins).targets[plugin_id]


def test_problem_moves_to_the_template_line_then_the_generated_one(tmp_path: Path) -> None:
    target = sample_target(tmp_path)
    built = tree.build(target, tmp_path / "built")
    folder = built / "templates"
    helper = Helper(folder)
    renders.watch(helper, built)
    raw = {"XX_lines": [("1", {"XX_dtmf": "RFC2833", "display_name": "A"})], "XX_server_url": "u"}
    data = helper._env.get_template("D785.tpl").render(raw).encode()
    generated = data.decode().splitlines()
    line = next(n for n, text in enumerate(generated, 1) if "</user_dtmf>" in text)
    problem = Problem("wazo-snom-10.1.215.13/var/tftpboot/000413000001.xml", "broken", line)
    located = at_template(target, problem, data)
    lines_tpl = target.family.path / "common" / "templates" / "common" / "lines.tpl"
    assert located.path == "plugins/wazo_snom/common/templates/common/lines.tpl"
    assert located.line == line_of(lines_tpl, "</user_dtmf>")
    # Baselines know the defect by the template line's text.
    assert located.source == lines_tpl.read_text().splitlines()[located.line - 1].strip()
    assert str(located) == (
        f"plugins/wazo_snom/common/templates/common/lines.tpl:{located.line}: "
        f"wazo-snom-10.1.215.13/var/tftpboot/000413000001.xml:{line}: broken"
    )
    assert at_template(target, problem, b"<not recorded/>") is problem


def test_a_template_made_by_sed_points_at_its_btpl(tmp_path: Path) -> None:
    target = sample_target(tmp_path)
    built = tree.build(target, tmp_path / "built")
    made = built / "templates" / "common" / "snomD785-firmware.xml.tpl"
    line = line_of(made, "chained_url")
    where = source_line(target, built, str(made), line)
    btpl = "plugins/wazo_snom/common/templates/common/snom-model-firmware.xml.tpl.btpl"
    assert (where.path, where.line) == (btpl, line_of(tmp_path / "repo" / btpl, "chained_url"))
    assert "built as wazo-snom-10.1.215.13/templates/common/snomD785-firmware.xml.tpl" in where.note
    copied = built / "templates" / "common" / "lines.tpl"
    assert source_line(target, built, str(copied), 3).path.endswith("common/lines.tpl")


def test_matching_line_and_column() -> None:
    before = ["a", "b", "c = 1", "d"]
    assert matching_line(before, ["a", "x", "b", "c = 1", "d"], 3) == 4
    assert matching_line(before, ["a", "b", "c = 22", "extra", "d"], 3) == 3
    assert column_of("Opening and ending tag mismatch: a line 3 and b, line 3, column 66") == 66
    assert column_of("not 'key = value'") is None


def test_missing_template_names_the_target_and_the_rule_dropping_it(tmp_path: Path) -> None:
    target = sample_target(tmp_path)
    family = target.family.path
    (family / "common" / "templates" / "extra.tpl").write_text("<x/>\n")
    build_py = family / "build.py"
    steps = copy_steps(target)
    assert [s.sources for s in steps] == [("common/",), ("v10_1_215_13/",)]
    fix = missing_template_fix(target, "templates/extra.tpl")
    call = line_of(build_py, "_sync_common(path, ['D7*5.tpl'")
    rsync = line_of(build_py, "check_call(cmd)")
    assert f"target '10.1.215.13' (plugins/wazo_snom/build.py:{target.build_py_line})" in fix
    assert (
        f"plugins/wazo_snom/build.py:{call} (via line {rsync}): common/templates/extra.tpl is "
        "dropped by --exclude /templates/*.tpl: add --include /templates/extra.tpl before it"
    ) in fix
    assert "+ /templates/D8*.tpl - /templates/*.tpl" in fix
    assert "v10_1_215_13/ has no templates/extra.tpl" in fix
    assert "common/ has no templates/D999.tpl" in missing_template_fix(target, "templates/D999.tpl")


def configured_files(plugins_dir: Path, plugin_id: str) -> dict[str, bytes]:
    manager = PluginManager(plugins_dir, gen_cfg={})
    try:
        plugin = manager.load(plugin_id)
        plugin.configure_common(sample_common_raw_config())
        keys = [str(k) for k in plugin.info.get("capabilities", {})]
        for index, key in enumerate(keys, start=1):
            plugin.configure(device_for(key, index), sample_raw_config())
        return snapshot_files(plugin.path / "var" / "tftpboot")
    finally:
        manager.close()


@pytest.mark.parametrize("layout", ["current", "legacy", "extra"])
def test_sample_plugins_generate_the_same_bytes_watched_or_not(
    layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    found = tree.discover(DATA / layout / "plugins")
    traced = 0
    for target in found.targets.values():
        watched_dir, plain_dir = tmp_path / "watched", tmp_path / "plain"
        tree.build(target, watched_dir)
        tree.build(target, plain_dir)
        renders.forget()
        watched = configured_files(watched_dir, target.plugin_id)
        traced += sum(renders.find(data) is not None for data in watched.values())
        with monkeypatch.context() as patch:
            patch.setattr(loader.renders, "watch", lambda *args: 0)
            plain = configured_files(plain_dir, target.plugin_id)
        assert watched == plain, target.plugin_id
    assert traced >= len(found.targets), "the watched renders were not recorded"


REAL_HELPER_SCRIPT = """
import sys, types
from pathlib import Path

class _Meta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Meta(name, (), {"__init__": lambda self, *a, **k: None})

class _Stub(types.ModuleType):
    # xivo_fetchfw is not installed here; the template helper does not use it.
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Meta(name, (), {"__init__": lambda self, *a, **k: None})

for name in ("xivo_fetchfw", "xivo_fetchfw.download", "xivo_fetchfw.package",
             "xivo_fetchfw.storage", "xivo_fetchfw.util", "xivo_fetchfw.params"):
    sys.modules[name] = _Stub(name)
sys.path.insert(0, sys.argv[1])
from wazo_provd.plugins import TemplatePluginHelper
from pytest_provd.provd.plugins import renders

plugin_dir = Path(sys.argv[2])
assert TemplatePluginHelper.__module__ == "wazo_provd.plugins"
assert sys.modules["wazo_provd.plugins"].__file__.startswith(sys.argv[1])
class Plugin:
    def __init__(self):
        self._tpl_helper = TemplatePluginHelper(str(plugin_dir))
watched, plain = Plugin(), Plugin()
assert renders.watch(watched, plugin_dir) == 1
context = {"sip_lines": {"1": {"username": "alice"}, "2": {"username": "bob"}}, "line_name": "x"}
for plugin, out in ((watched, "watched.xml"), (plain, "plain.xml")):
    helper = plugin._tpl_helper
    helper.dump(helper.get_dev_template(None, {"model": "M1"}), context, str(plugin_dir / out))
data = (plugin_dir / "watched.xml").read_bytes()
assert data == (plugin_dir / "plain.xml").read_bytes()
trace = renders.find(data).trace()
for number, text in enumerate(data.decode().splitlines(), 1):
    origin = trace.origin(number)
    print(f"{text.strip()}|{Path(origin.filename).name}:{origin.line}")
"""


@pytest.mark.skipif(
    not (REAL_PROVD / "wazo_provd" / "plugins.py").is_file(),
    reason=f"no real wazo-provd at {REAL_PROVD}",
)
def test_the_real_template_helper_is_traced_too(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, TEMPLATES)
    proc = subprocess.run(
        [sys.executable, "-c", REAL_HELPER_SCRIPT, str(REAL_PROVD), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    assert proc.returncode == 0, proc.stderr
    traced = dict(line.rsplit("|", 1) for line in proc.stdout.splitlines())
    assert traced["<own>alice</bad>"] == f"M1.tpl:{line_of(folder / 'M1.tpl', '</bad>')}"
    assert traced["second & third</footer>"] == "footer.tpl:2"
    assert traced["</macrox>"] == f"macros.tpl:{line_of(folder / 'macros.tpl', 'x>')}"
