"""``provd-harness fidelity --matrix gate``: every model under the configs of its
``<model>::matrix`` item (and the default), worked out by the plan worker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_provd import cli, tree
from pytest_provd.fidelity import gate
from pytest_provd.fidelity.matrix import RenderConfig
from pytest_provd.rendering.matrix import sample_raw_config
from tests.test_fidelity import SAMPLES, SNOM, _real_python

MODELS = ["D735", "D785"]


def _plan(tmp_path: Path, job: gate.PlanJob) -> gate.Plan:
    job.dump(tmp_path / "plan.json")
    subprocess.run(
        [sys.executable, "-m", "pytest_provd.fidelity.worker", "plan", "plan.json", "out.json"],
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    return gate.Plan.load(tmp_path / "out.json")


def _item_configs(tmp_path: Path) -> dict[str, list[str]]:
    """The config labels each model's matrix item lists in its report section."""
    argv = ["--provd-plugins-dir", str(SAMPLES), "--provd-plugin", SNOM, "-rA"]
    argv += ["-k", f"matrix and ({' or '.join(MODELS)})"]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # Without the caller's PYTEST_ADDOPTS: CI's --randomly-seed needs the plugin disabled here.
        env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},
    ).stdout
    found: dict[str, list[str]] = {}
    for head, body in re.findall(
        r"\n(\S+): the default config and \d+ matrix configs:\n((?:  .*\n)+)", out
    ):
        found[head] = [line.strip() for line in body.splitlines()]
    assert set(found) == set(MODELS), out
    return found


def test_the_plan_is_the_matrix_items_configs_and_the_default(tmp_path: Path) -> None:
    target = tree.discover(SAMPLES).targets[SNOM]
    job = gate.PlanJob(SNOM, str(tree.build_cached(target)), str(tmp_path / "state"), MODELS)
    planned = _plan(tmp_path, job)
    assert planned.error is None
    items = _item_configs(tmp_path)
    for model in MODELS:
        configs = planned.configs[model]
        assert [c.label for c in configs] == [gate.DEFAULT_LABEL, *items[model]]
        assert configs[0].raw_config == sample_raw_config()
    # D735 has more function keys than D785: its matrix is its own.
    assert planned.configs["D785"] != planned.configs["D735"]
    no_ntp = next(c for c in planned.configs["D785"] if "no-ntp" in c.label.split("+"))
    assert "ntp_ip" not in no_ntp.raw_config


def test_a_plugin_that_does_not_load_is_planned_with_the_default_alone(tmp_path: Path) -> None:
    built = tmp_path / "built"
    built.mkdir()
    (built / "plugin-info").write_text(
        json.dumps({"version": "1", "description": "broken", "capabilities": {}})
    )
    (built / "entry.py").write_text("raise ImportError('no such provd name')\n")
    planned = _plan(tmp_path, gate.PlanJob("wazo-broken-1", str(built), str(tmp_path / "s"), ["X"]))
    assert planned.error is not None and "no such provd name" in planned.error
    assert planned.configs == gate.default_only(["X"])


def test_config_documents_are_shared_parentless_and_devices_unique() -> None:
    a, b = RenderConfig("default", {"x": 1}), RenderConfig("tz=UTC", {"x": 2})
    caps = {"Snom, D785, 10.1.215.13": {}}
    docs, devices = gate.docs_and_devices("p-1", {"D785": [a, b], "D717": [a]}, caps)
    assert [d["raw_config"] for d in docs] == [{"x": 1}, {"x": 2}]
    assert all(d["parent_ids"] == [] for d in docs)
    assert [(d.label, d.model, d.device["config"]) for d in devices] == [
        ("default", "D785", docs[0]["id"]),
        ("tz=UTC", "D785", docs[1]["id"]),
        ("default", "D717", docs[0]["id"]),
    ]
    assert len({d.device["mac"] for d in devices}) == len({d.device["id"] for d in devices}) == 3
    assert devices[0].device["version"] == "10.1.215.13"


def test_the_gate_matrix_is_the_default_and_the_builtin_one_stays() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["fidelity", "--plugin", "x"]).matrix == "gate"
    assert parser.parse_args(["fidelity", "--plugin", "x", "--matrix", "builtin"]).matrix == (
        "builtin"
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["fidelity", "--plugin", "x", "--matrix", "other"])


@pytest.mark.skipif(
    _real_python() is None,
    reason="wazo_provd is not importable here and PYTEST_PROVD_REAL_PYTHON is not set",
)
def test_sample_target_renders_its_gate_matrix_identically_on_real_provd(tmp_path: Path) -> None:
    python = _real_python()
    assert python is not None
    out = tmp_path / "report.json"
    argv = ["fidelity", "--plugins-dir", str(SAMPLES), "--plugin", SNOM, "--python", python]
    code = cli.main([*argv, "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["configs"] == "gate"
    assert report["summary"]["differs"] == 0, report
    (target,) = report["targets"]
    assert not target["problems"] and code == 0
    wheres = {f["where"] for f in target["files"]}
    assert any(w.startswith("default/") for w in wheres)
    assert any("no-ntp" in w for w in wheres)
