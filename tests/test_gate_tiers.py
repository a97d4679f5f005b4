"""The tiers as plugins: planner hook and item order, stable phone MACs, one models reader."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_provd import tree
from pytest_provd.capabilities import split_capability_key
from pytest_provd.checks import entry_models, model_ids
from pytest_provd.suite import target_models
from pytest_provd.tiers._run import TargetRun
from pytest_provd.tiers._wire import phone_macs
from tests.checks_helpers import context, edit
from tests.checks_helpers import make_family as make_acme_family
from tests.test_tree import make_family

# --- the planner hook ---------------------------------------------------------------------

THIRD_PARTY = """
from pytest_provd.suite import ItemSpec


def pytest_provd_plan_target(session, target, plan):
    plan.add(ItemSpec("extra", "provd_static", lambda: []))
    plan.add_model("M1", ItemSpec("extra-model", "provd_static", lambda: []))
"""


def test_tiers_plan_in_order_and_a_plugin_adds_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    pytester.makeconftest(THIRD_PARTY)
    result = pytester.runpytest("--provd-plugin", "acme-phone-1.0", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if line.startswith("acme-phone-1.0::")]
    assert ids == [
        "acme-phone-1.0::build",
        "acme-phone-1.0::plugin-info",
        "acme-phone-1.0::entry",
        "acme-phone-1.0::models[M1]",
        "acme-phone-1.0::firmware-consistency",
        "acme-phone-1.0::pkgs-db",
        "acme-phone-1.0::templates",
        "acme-phone-1.0::load",
        "acme-phone-1.0::hostile-values",
        "acme-phone-1.0::firmware",
        "acme-phone-1.0::extra",
        "acme-phone-1.0::M1::configure",
        "acme-phone-1.0::M1::wellformed",
        "acme-phone-1.0::M1::matrix",
        "acme-phone-1.0::M1::provision",
        "acme-phone-1.0::M1::fetched-wellformed",
        "acme-phone-1.0::M1::extra-model",
    ]


# --- phone MACs ---------------------------------------------------------------------------


def test_phone_macs_are_stable_and_ignore_what_else_runs() -> None:
    models = ["D785", "D717", "D140"]
    macs = phone_macs("wazo-snom-10.1.215.13", models)
    assert macs == phone_macs("wazo-snom-10.1.215.13", models)
    assert len(set(macs.values())) == 3
    assert all(len(bytes.fromhex(m.replace(":", ""))) == 3 for m in macs.values())
    # The MAC of a model depends on the target and the model, not on its place in the list.
    assert phone_macs("wazo-snom-10.1.215.13", ["D140"])["D140"] == macs["D140"]
    assert phone_macs("wazo-snom-10.1.215.13", list(reversed(models))) == macs
    assert phone_macs("wazo-snom-10.1.215.14", models)["D785"] != macs["D785"]


def _colliding_models(plugin_id: str) -> tuple[str, str]:
    """Two model names whose first-choice MAC bytes are the same (birthday search)."""
    seen: dict[str, str] = {}
    for number in itertools.count():
        model = f"M{number}"
        suffix = phone_macs(plugin_id, [model])[model]
        if suffix in seen:
            return seen[suffix], model
        seen[suffix] = model
    raise AssertionError("unreachable")


def test_a_collision_inside_a_target_is_resolved_by_model_order() -> None:
    first, second = _colliding_models("acme-1.0")
    alone = phone_macs("acme-1.0", [first])[first]
    assert phone_macs("acme-1.0", [second])[second] == alone
    macs = phone_macs("acme-1.0", [first, second])
    assert macs[first] == alone and macs[second] != alone
    assert phone_macs("acme-1.0", [first, second]) == macs
    swapped = phone_macs("acme-1.0", [second, first])
    assert swapped[second] == alone and swapped[first] != alone


# --- capability keys and the models of a target ---------------------------------------------


def test_capability_keys_have_three_non_empty_parts() -> None:
    assert split_capability_key(" Snom ,D785, 10.1.215.13") == ("Snom", "D785", "10.1.215.13")
    assert split_capability_key("Snom, D785, 10.1.215.13").model == "D785"  # type: ignore[union-attr]
    for bad in ("Snom, D785", "Snom, D785, 1, 2", "Snom, , 10.1", "*", ""):
        assert split_capability_key(bad) is None


ACME = "wazo-acme-2.1.0"
ENTRY = "wazo_acme/v2_1_0/entry.py"


@pytest.fixture(autouse=True)
def _private_build_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize(
    ("models", "declared"),
    [
        # A set: ast.literal_eval reads it, but the suite's own reader only took lists,
        # tuples and dicts and fell back to all three capability models.
        ("MODELS = {'B300', 'A100'}", ["A100", "B300"]),
        # Computed: the suite's reader (literal_eval) gave up, the checks' reader follows it.
        ("_BASE = ['A100']\nMODELS = _BASE + ['B300']", ["A100", "B300"]),
        # Assigned twice: the suite's reader took the first, Python (and the checks) the last.
        ("MODELS = ['A100', 'A200', 'B300']\nMODELS = ['A100', 'B300']", ["A100", "B300"]),
        # Only a model: version map: the suite's reader saw no MODELS at all.
        ("MODEL_VERSIONS = {'B300': '2.1.0', 'A100': '2.1.0'}", ["B300", "A100"]),
    ],
)
def test_suite_and_checks_read_the_same_models(
    tmp_path: Path, models: str, declared: list[str]
) -> None:
    plugins = tmp_path / "repo" / "plugins"
    make_acme_family(plugins)
    edit(plugins / ENTRY, "MODELS = [\n    'A100',\n    'A200',\n    'B300',\n]", models)
    target = tree.discover(plugins).targets[ACME]
    assert entry_models(target) == declared
    # The per-model items run the models entry.py declares, not plugin-info's A200 too; the
    # static models[A200] item is the one that says A200 is not declared.
    assert target_models(target) == declared
    assert model_ids(context(plugins, ACME)) == [*declared, "A200"]


def test_without_entry_models_the_capabilities_name_them(tmp_path: Path) -> None:
    plugins = tmp_path / "repo" / "plugins"
    make_acme_family(plugins)
    edit(plugins / ENTRY, "MODELS = [\n    'A100',\n    'A200',\n    'B300',\n]", "")
    target = tree.discover(plugins).targets[ACME]
    assert entry_models(target) is None
    assert target_models(target) == ["A100", "A200", "B300"]


def _run_with_capabilities(tmp_path: Path, capabilities: dict[str, object]) -> TargetRun:
    plugins = tmp_path / "repo" / "plugins"
    make_acme_family(plugins)
    run = TargetRun(None, tree.discover(plugins).targets[ACME])  # type: ignore[arg-type]
    run._loaded = SimpleNamespace(info={"capabilities": capabilities})
    return run


def test_a_model_takes_the_capability_that_names_it_or_stands_for_it(tmp_path: Path) -> None:
    run = _run_with_capabilities(
        tmp_path,
        {
            "Acme, A100(W), 2.0.9": {"lines": 1},
            "Acme, A100, 2.1.0": {"lines": 2},
            "Acme, B300 V2 & Pro, 2.1.0": {"protocol": "sccp"},
        },
    )
    assert run.capability_key("A100") == "Acme, A100, 2.1.0"  # its own name first
    assert run.capability_key("A100W") == "Acme, A100(W), 2.0.9"
    assert run.capability("A100W") == {"lines": 1}
    assert run.capability_key("B300 Pro") == "Acme, B300 V2 & Pro, 2.1.0"
    assert run.capability_key("A200") is None and run.capability("A200") == {}
    assert run.device("A100W", 3)["model"] == "A100W"
    assert run.device("A100W", 3)["version"] == "2.0.9"


def test_a_model_without_capability_runs_the_firmware_entry_py_gives_it(tmp_path: Path) -> None:
    run = _run_with_capabilities(tmp_path, {"Acme, A100, 2.0.9": {}})
    assert run.firmware_version("A100") == "2.0.9"
    assert run.firmware_version("A200") == "2.1.0"  # entry.py's VERSION
