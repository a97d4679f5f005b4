"""The body of ``provd-harness fidelity`` (its parser is in :mod:`pytest_provd.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from pytest_provd import tree
from pytest_provd.fidelity import gate
from pytest_provd.fidelity.compare import VOLATILE, TargetReport, format_report, summary
from pytest_provd.fidelity.matrix import RenderConfig, default_configs
from pytest_provd.fidelity.run import FidelityUnavailable, load_configs, run


def run_command(targets: list[tree.Target], args: argparse.Namespace) -> int:
    """0 when every file is identical (volatile values aside), 1 when not, 2 on bad input."""
    configs: list[RenderConfig] | None = None  # each model under its gate matrix
    try:
        if args.configs:
            configs = load_configs(Path(args.configs))
        elif args.matrix == "builtin":
            configs = default_configs()
    except ValueError as exc:
        print(f"provd-harness fidelity: {exc}", file=sys.stderr)
        return 2
    python = args.python or sys.executable
    shown = (
        "each model under its gate matrix (the <model>::matrix configs and the default)"
        if configs is None
        else f"{len(configs)} config(s) ({', '.join(c.label for c in configs)})"
    )
    print(f"fidelity: {len(targets)} target(s) x {shown}; real side: {python}", flush=True)

    def progress(report: TargetReport) -> None:
        print(format_report(report, diffs=not args.no_diffs), flush=True)

    try:
        reports = run(
            targets,
            configs,
            real_python=python,
            keep=Path(args.keep) if args.keep else None,
            progress=progress,
        )
    except FidelityUnavailable as exc:
        print(f"provd-harness fidelity: {exc}", file=sys.stderr)
        return 2
    totals = summary(reports)
    print("volatile values set aside: " + "; ".join(f"{k}: {v[0]}" for k, v in VOLATILE.items()))
    print("total: " + ", ".join(f"{v} {k}" for k, v in totals.items()))
    if args.json:
        data = {
            "configs": gate.NAME if configs is None else [c.label for c in configs],
            "summary": totals,
            "targets": [
                {
                    "plugin_id": r.plugin_id,
                    "models": r.models,
                    "renders": r.renders,
                    "configured by neither side": r.neither,
                    "problems": r.problems,
                    "notes": r.notes,
                    "files": [{**asdict(f), "volatile": sorted(f.volatile)} for f in r.files],
                }
                for r in reports
            ],
        }
        Path(args.json).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    faithful = all(r.faithful for r in reports)
    return 0 if faithful else 1
