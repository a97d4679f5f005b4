"""Static checks on a good tiny family and on mutated copies of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_provd.checks import CHECKS, iter_items, model_ids, run_check
from pytest_provd.problems import Problem
from tests.checks_helpers import context, edit, make_family, pkgs_db

PID = "wazo-acme-2.1.0"


@pytest.fixture(autouse=True)
def _private_build_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "plugins"
    make_family(root, ("2.0.0", "2.1.0"))
    return root


def run(plugins: Path, name: str, model: str | None = None, pid: str = PID) -> list[Problem]:
    return run_check(name, context(plugins, pid), model)


def texts(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


VDIR = "wazo_acme/v2_1_0"


def test_registry_order_and_items(plugins: Path) -> None:
    assert list(CHECKS) == [
        "plugin-info",
        "entry",
        "models",
        "firmware-consistency",
        "pkgs-db",
        "templates",
        "version-bump",
    ]
    assert CHECKS["models"].per_model and not CHECKS["entry"].per_model
    ctx = context(plugins, PID)
    names = [name for name, _ in iter_items(ctx)]
    assert names == [
        "plugin-info",
        "entry",
        "models[A100]",
        "models[A200]",
        "models[B300]",
        "firmware-consistency",
        "pkgs-db",
        "templates",
    ]
    assert CHECKS["version-bump"].item_names(ctx) == []


def test_good_family_passes_everything(plugins: Path) -> None:
    for pid in ("wazo-acme-2.0.0", PID):
        ctx = context(plugins, pid)
        for name, runner in iter_items(ctx):
            assert runner() == [], f"{pid}::{name}"


# --- plugin-info ---------------------------------------------------------------------------


def test_plugin_info_invalid_json_has_line(plugins: Path) -> None:
    edit(plugins / VDIR / "plugin-info", '"lines": 2,', '"lines": 2,,')
    [problem] = run(plugins, "plugin-info")
    assert str(problem.path).endswith("plugins/wazo_acme/v2_1_0/plugin-info")
    assert problem.line == 6
    assert "invalid JSON" in problem.message


def test_plugin_info_missing_key_suggests(plugins: Path) -> None:
    edit(plugins / VDIR / "plugin-info", '"description"', '"desciption"')
    out = texts(run(plugins, "plugin-info"))
    assert "required key 'description' is missing; did you mean 'desciption'?" in out


def test_plugin_info_bad_version(plugins: Path) -> None:
    edit(plugins / VDIR / "plugin-info", '"version": "1.0.0"', '"version": "one"')
    [problem] = run(plugins, "plugin-info")
    assert "version 'one' does not parse" in problem.message and problem.line == 2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"Acme, A100, 2.1.0"', '"Acme A100 2.1.0"', "is not of the form 'Vendor, Model, Version'"),
        ('"lines": 2', '"lines": "2"', "lines is '2', expected a non-negative integer"),
        ('"switchboard": false', '"switchboard": 0', "switchboard is 0, expected true or false"),
        ('"type": "deskphone"', '"type": "deskfone"', "did you mean 'deskphone'?"),
        ('"protocol": "sip"', '"protocol": "iax"', "expected one of sip, sccp"),
        ('"high_availability"', '"ha"', "unknown key 'ha'; did you mean 'high_availability'?"),
    ],
)
def test_plugin_info_capability_errors(plugins: Path, old: str, new: str, expected: str) -> None:
    edit(plugins / VDIR / "plugin-info", old, new)
    problems = run(plugins, "plugin-info")
    assert expected in texts(problems)
    assert all(p.line is not None for p in problems)


# --- entry / models ------------------------------------------------------------------------


def test_entry_syntax_error_has_line(plugins: Path) -> None:
    edit(plugins / VDIR / "entry.py", "IS_PLUGIN = True", "IS_PLUGIN = = True")
    [problem] = run(plugins, "entry")
    assert "does not compile" in problem.message and problem.line == 13


def test_entry_unresolvable_models_is_said(plugins: Path) -> None:
    edit(plugins / VDIR / "entry.py", "MODELS = [", "MODELS = load_models() + [")
    [problem] = run(plugins, "entry")
    assert "MODELS is not statically resolvable" in problem.message
    assert problem.line == 4


@pytest.mark.parametrize(
    "models",
    [
        "MODELS = ('A100', 'A200', 'B300')",
        "MODELS = {'A100': 1, 'A200': 2, 'B300': 3}",
        "MODELS = [('A100', 'r'), ('A200', 'f'), ('B300', 'r')]",
        "PSN = ['100', '200']\nMODELS = ['A' + p for p in PSN] + ['B300']",
        "MODELS = [f'A{n}' for n in ('100', '200')] + ['B300']",
    ],
)
def test_entry_models_shapes(plugins: Path, models: str) -> None:
    path = plugins / VDIR / "entry.py"
    text = path.read_text()
    start, end = text.index("MODELS = ["), text.index("]\n", text.index("MODELS = [")) + 2
    path.write_text(text[:start] + models + "\n" + text[end:])
    ctx = context(plugins, PID)
    assert run_check("entry", ctx) == []
    assert model_ids(ctx) == ["A100", "A200", "B300"]
    assert all(run_check("models", ctx, m) == [] for m in model_ids(ctx))


def test_model_typo_in_models_did_you_mean(plugins: Path) -> None:
    edit(plugins / VDIR / "entry.py", "'A200',", "'A2000',")
    ctx = context(plugins, PID)
    assert "models[A2000]" in [n for n, _ in iter_items(ctx)]
    out = texts(run_check("models", ctx, "A2000"))
    assert "plugins/wazo_acme/v2_1_0/entry.py:6: model 'A2000' in MODELS has no capability" in out
    assert "did you mean 'A200'?" in out
    out = texts(run_check("models", ctx, "A200"))
    assert "capability 'Acme, A200, 2.1.0' names model 'A200', which is not in MODELS" in out


def test_model_capability_version_differs(plugins: Path) -> None:
    edit(plugins / VDIR / "plugin-info", "Acme, B300, 2.1.0", "Acme, B300, 2.0.9")
    # One cause, said once: by firmware-consistency, not again by models[B300].
    assert run(plugins, "models", "B300") == []
    out = texts(run(plugins, "firmware-consistency"))
    assert "capability 'Acme, B300, 2.0.9'" in out and "says 2.0.9" in out


def test_model_missing_per_model_template(plugins: Path) -> None:
    shipped = plugins / "wazo_acme/common/templates/B300.tpl"
    # provd falls back to base.tpl: no template anywhere in the family is no defect...
    moved = shipped.rename(plugins / "B300.tpl")
    assert run(plugins, "models", "B300") == []
    # ...one the family has (another version's) but the build leaves out, rendering
    # otherwise than base.tpl, is.
    (plugins / "wazo_acme/v2_0_0/templates").mkdir(exist_ok=True)
    moved.rename(plugins / "wazo_acme/v2_0_0/templates/B300.tpl")
    out = texts(run(plugins, "models", "B300"))
    assert (
        "plugins/wazo_acme/v2_0_0/templates/B300.tpl: wazo-acme-2.1.0 leaves this template " in out
    )
    assert "provd configures 'B300' with base.tpl instead, which renders differently" in out
    assert run(plugins, "models", "A100") == []


def test_no_per_model_templates_no_template_rule(plugins: Path) -> None:
    for model in ("A100", "A200", "B300"):
        (plugins / f"wazo_acme/common/templates/{model}.tpl").unlink()
    assert run(plugins, "models", "B300") == []


def test_grouped_capability_models_cover_entry_models(plugins: Path) -> None:
    info = plugins / VDIR / "plugin-info"
    edit(info, "Acme, A100, 2.1.0", "Acme, A100(W), 2.1.0")
    edit(plugins / VDIR / "entry.py", "'A100',", "'A100', 'A100W',")
    (plugins / "wazo_acme/common/templates/A100W.tpl").write_text("x\n")
    ctx = context(plugins, PID)
    assert model_ids(ctx) == ["A100", "A100W", "A200", "B300"]
    assert all(run_check("models", ctx, m) == [] for m in model_ids(ctx))


# --- firmware consistency ------------------------------------------------------------------


def test_firmware_entry_version_not_updated(plugins: Path) -> None:
    edit(plugins / VDIR / "entry.py", "VERSION = '2.1.0'", "VERSION = '2.0.0'")
    [problem] = run(plugins, "firmware-consistency")
    assert str(problem.path).endswith("v2_1_0/entry.py") and problem.line == 9
    assert "VERSION is 2.0.0 but capability 'Acme, A100, 2.1.0' (and 2 more" in problem.message
    assert (
        problem.fix and "update VERSION in plugins/wazo_acme/v2_1_0/entry.py line 9" in problem.fix
    )


def test_firmware_pkgs_db_version_not_updated(plugins: Path) -> None:
    (plugins / VDIR / "pkgs/pkgs.db").write_text(pkgs_db("2.0.0"))
    [problem] = run(plugins, "firmware-consistency")
    assert "no package has the capability firmware version 2.1.0" in problem.message
    assert "(the firmware of wazo-acme-2.0.0)" in problem.message
    assert problem.line == 1 and problem.fix and "[pkg_a100-fw] line 1" in problem.fix


def test_firmware_capabilities_and_entry_not_updated(plugins: Path) -> None:
    info = plugins / VDIR / "plugin-info"
    info.write_text(info.read_text().replace("2.1.0", "2.0.0"))
    edit(plugins / VDIR / "entry.py", "VERSION = '2.1.0'", "VERSION = '2.0.0'")
    problems = run(plugins, "firmware-consistency")
    out = texts(problems)
    assert "build.py:" in out and "target '2.1.0' (wazo-acme-2.1.0) names version 2.1.0" in out
    assert "no package has the firmware version 2.0.0 of the capabilities" in out


def test_firmware_convention_not_followed_by_family_is_not_enforced(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    make_family(plugins, ("2.0.0", "2.1.0", "2.2.0"))
    for fw in ("2.0.0", "2.1.0", "2.2.0"):
        vdir = plugins / f"wazo_acme/v{fw.replace('.', '_')}"
        edit(vdir / "entry.py", f"VERSION = '{fw}'", f"VERSION = '{fw}-build7'")
    assert run(plugins, "firmware-consistency", pid="wazo-acme-2.2.0") == []


# --- pkgs.db -------------------------------------------------------------------------------


def test_pkgs_db_missing_when_siblings_have_one(plugins: Path) -> None:
    (plugins / VDIR / "pkgs/pkgs.db").unlink()
    [problem] = run(plugins, "pkgs-db")
    assert "has no pkgs/pkgs.db, while all 1 other targets" in problem.message


def test_pkgs_db_absent_in_family_passes(plugins: Path) -> None:
    for vdir in ("v2_0_0", "v2_1_0"):
        (plugins / f"wazo_acme/{vdir}/pkgs/pkgs.db").unlink()
    assert run(plugins, "pkgs-db") == []


def test_pkgs_db_syntax_error_has_line(plugins: Path) -> None:
    path = plugins / VDIR / "pkgs/pkgs.db"
    path.write_text(path.read_text().replace("[pkg_a200-fw]", "[pkg_a200-fw"))
    problems = run(plugins, "pkgs-db")
    assert problems and all(str(p.path).endswith("pkgs/pkgs.db") for p in problems)
    assert any(p.line is not None for p in problems)


def test_pkgs_db_bad_reference(plugins: Path) -> None:
    edit(plugins / VDIR / "pkgs/pkgs.db", "files: b300-fw", "files: b300-fw b300-ramdisk")
    problems = run(plugins, "pkgs-db")
    assert "b300-ramdisk" in texts(problems)
    assert all(str(p.path).startswith("plugins/wazo_acme") for p in problems)


# --- templates -----------------------------------------------------------------------------


def test_template_syntax_error_file_and_line(plugins: Path) -> None:
    (plugins / "wazo_acme/common/templates/A200.tpl").write_text(
        "{% extends 'base.tpl' %}\n{% block main %}\n{% if x %}\n{% endblock %}\n"
    )
    [problem] = run(plugins, "templates")
    assert str(problem.path) == "plugins/wazo_acme/common/templates/A200.tpl"
    assert problem.line == 4 and "does not compile with jinja2" in problem.message


def test_template_unknown_filter(plugins: Path) -> None:
    (plugins / "wazo_acme/common/templates/A200.tpl").write_text("{{ x | nofilter }}\n")
    assert "No filter named 'nofilter'" in texts(run(plugins, "templates"))


def test_template_missing_include(plugins: Path) -> None:
    (plugins / "wazo_acme/common/templates/sub/extra.tpl").write_text(
        "line one\n{% include 'sub/missing.tpl' %}\n{% include name_var %}\n"
        "{% include 'gone.tpl' ignore missing %}\n{% import 'base.tpl' as b %}\n"
    )
    [problem] = run(plugins, "templates")
    assert str(problem.path) == "plugins/wazo_acme/common/templates/sub/extra.tpl"
    assert problem.line == 2 and "include 'sub/missing.tpl' names no template" in problem.message


def test_template_version_dir_overrides_are_checked(plugins: Path) -> None:
    (plugins / VDIR / "templates").mkdir()
    (plugins / VDIR / "templates/base.tpl").write_text("{{ broken\n")
    [problem] = run(plugins, "templates")
    assert str(problem.path) == "plugins/wazo_acme/v2_1_0/templates/base.tpl"


def test_fallback_comparison_is_remembered_by_every_template_it_can_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    from pytest_provd.checks import _templates
    from pytest_provd.tree import memo

    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    plugin = tmp_path / "plugin"
    (plugin / "templates").mkdir(parents=True)
    (plugin / "templates" / "base.tpl").write_text("{% include 'line.tpl' %}\n")
    (plugin / "templates" / "line.tpl").write_text("a\n")
    own = "a\n"

    def compare() -> tuple[int, str, str] | None:
        files = _templates.template_files(plugin)
        return _templates.remembered_fallback_difference(plugin, "M1.tpl", own, files)

    assert compare() is None
    (plugin / "templates" / "line.tpl").write_text("b\n")  # base.tpl now renders "b"
    assert compare() == (1, "a", "b")
    monkeypatch.setattr(memo, "_MEMORY", {})
    monkeypatch.setattr(_templates, "fallback_difference", lambda *_: pytest.fail("again"))
    assert compare() == (1, "a", "b")  # read back from the build cache
    own = "{% if %}"
    monkeypatch.undo()
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    with pytest.raises(jinja2.TemplateError):
        compare()
    with pytest.raises(jinja2.TemplateError):  # remembered too, and raised again
        compare()
