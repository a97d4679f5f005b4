"""Run a fidelity comparison: every model of each target, on both sides, under each config.

The real side runs in the interpreter that has ``wazo_provd`` (this one, or ``--python``);
the embedded side in this interpreter, forced onto our compat namespace.  Both get the same
plugin package (built from the working tree), configs and devices.  The configs are a list
every model renders (the built-in matrix, ``--configs``), or ``None``: each model under its
gate matrix (:mod:`.gate`), worked out first by a ``plan`` worker in this interpreter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from pytest_provd import tree
from pytest_provd.fidelity import gate
from pytest_provd.fidelity.compare import TargetReport, compare
from pytest_provd.fidelity.job import SIDES, Job, SideResult, config_docs, devices_for
from pytest_provd.fidelity.matrix import BASE_RAW_CONFIG, RenderConfig, check_labels

WORKER = "pytest_provd.fidelity.worker"
TIMEOUT_S = 900.0
_PROBE = (
    "import importlib.util as u, sys\n"
    "missing = [m for m in ('wazo_provd', 'twisted', 'pytest_provd') if u.find_spec(m) is None]\n"
    "print(' '.join(missing))\n"
)


class FidelityUnavailable(RuntimeError):
    """The real side cannot run: the message says what to install."""


def check_real_python(python: str) -> None:
    """Raise :class:`FidelityUnavailable` unless *python* can run the real side."""
    try:
        probe = subprocess.run(
            [python, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise FidelityUnavailable(f"cannot run {python}: {exc}") from exc
    missing = probe.stdout.split()
    if "wazo_provd" in missing or "twisted" in missing:
        raise FidelityUnavailable(
            f"{python} cannot import wazo_provd: the fidelity check compares against the real "
            "provd you install. Install wazo-provd (from its source: pip install -e "
            "path/to/wazo-provd, with its requirements) in this environment, or pass "
            "--python PATH, an interpreter that has it."
        )
    if "pytest_provd" in missing:
        raise FidelityUnavailable(
            f"{python} has wazo_provd but not pytest_provd: install this package there too "
            "(pip install --no-deps -e path/to/pytest-provd, plus aiohttp, tftpy, lxml, "
            "hypothesis and pytest)."
        )


def _run_side(python: str, side: str, job: Job, workdir: Path, timeout: float) -> SideResult:
    job_path, out_path = workdir / f"{side}.job.json", workdir / f"{side}.out.json"
    job.dump(job_path)
    log = workdir / f"{side}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [python, "-m", WORKER, side, str(job_path), str(out_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return SideResult(side, error=f"timed out after {timeout:.0f} s (log: {log})")
    if rc != 0 or not out_path.is_file():
        tail = log.read_text(errors="replace")[-2000:]
        return SideResult(side, error=f"worker exited with {rc}:\n{tail}")
    return SideResult.load(out_path)


def _plan(job: gate.PlanJob, workdir: Path, timeout: float) -> gate.Plan:
    job_path, out_path = workdir / "plan.job.json", workdir / "plan.out.json"
    job.dump(job_path)
    log = workdir / "plan.log"
    with log.open("wb") as out:
        try:
            rc = subprocess.run(
                [sys.executable, "-m", WORKER, "plan", str(job_path), str(out_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            return gate.Plan(gate.default_only(job.models), f"timed out after {timeout:.0f} s")
    if rc != 0 or not out_path.is_file():
        tail = log.read_text(errors="replace")[-2000:]
        return gate.Plan(gate.default_only(job.models), f"plan worker exited with {rc}:\n{tail}")
    return gate.Plan.load(out_path)


def run_target(
    target: tree.Target,
    configs: list[RenderConfig] | None,
    *,
    real_python: str,
    workdir: Path,
    timeout: float = TIMEOUT_S,
) -> TargetReport:
    """Render *target* on both sides (in parallel processes) and compare; *configs* None:
    each model under its gate matrix."""
    # Lazy: the suite's model reader imports the checks (jinja2).
    from pytest_provd.suite import target_models

    if configs is not None:
        check_labels(configs)
    built = tree.build_cached(target)
    package_dir = workdir / "packages"
    tree.package(built, package_dir)
    tree.write_plugins_db(package_dir)
    caps = tree.read_plugin_info(built).get("capabilities") or {}
    caps = caps if isinstance(caps, dict) else {}
    models = target_models(target)
    report = TargetReport(target.plugin_id)
    if not models:
        report.problems.append("no models to render (entry.py and plugin-info name none)")
        return report
    notes = []
    if configs is None:
        planned = _plan(
            gate.PlanJob(target.plugin_id, str(built), str(workdir / "plan"), models),
            workdir,
            timeout,
        )
        if planned.error:
            notes.append(
                "no gate matrix (it needs the plugin loaded on the embedded provd): "
                f"default config only; {planned.error.strip().splitlines()[-1]}"
            )
        docs, devices = gate.docs_and_devices(target.plugin_id, planned.configs, caps)
    else:
        docs, devices = config_docs(configs), devices_for(target.plugin_id, models, caps, configs)
    jobs = {
        side: Job(
            target.plugin_id,
            str(package_dir),
            str(workdir / side),
            dict(BASE_RAW_CONFIG),
            docs,
            devices,
        )
        for side in SIDES
    }
    pythons = {"real": real_python, "embedded": sys.executable}
    # Both sides at once: separate processes, mostly waiting on plugin code.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {
            side: pool.submit(_run_side, pythons[side], side, jobs[side], workdir, timeout)
            for side in SIDES
        }
        results = {side: f.result() for side, f in futures.items()}
    report = compare(target.plugin_id, results["real"], results["embedded"])
    report.notes[:0] = notes
    return report


def run(
    targets: Iterable[tree.Target],
    configs: list[RenderConfig] | None,
    *,
    real_python: str,
    keep: Path | None = None,
    progress: Callable[[TargetReport], None] | None = None,
) -> list[TargetReport]:
    """Compare every target (*configs* None: each model under its gate matrix); *keep*
    keeps the work files (jobs, logs, state) there."""
    check_real_python(real_python)
    reports: list[TargetReport] = []
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="provd-fidelity-"))
    try:
        for target in targets:
            workdir = root / target.plugin_id
            if workdir.exists():
                shutil.rmtree(workdir)
            workdir.mkdir(parents=True)
            report = run_target(target, configs, real_python=real_python, workdir=workdir)
            reports.append(report)
            if progress is not None:
                progress(report)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return reports


def load_configs(path: Path) -> list[RenderConfig]:
    """Render configs from a JSON file: ``[{"label": ..., "raw_config": {...}}, ...]``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of {{label, raw_config}} objects")
    configs = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != {"label", "raw_config"}:
            raise ValueError(f"{path}: item {i}: expected keys label and raw_config")
        configs.append(RenderConfig(str(item["label"]), item["raw_config"]))
    check_labels(configs)
    return configs
