"""``python -m pytest_provd.fidelity.worker SIDE JOB OUT``: render a job on one side.

Each side runs in its own process: our compat ``wazo_provd`` and a real one cannot share
an interpreter, and the real side's twisted reactor runs once per process.  ``plan`` (in
the embedded side's interpreter) works out the gate's configs of each model
(:func:`pytest_provd.fidelity.gate.plan`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pytest_provd.fidelity.job import SIDES, Job, SideResult

PLAN = "plan"


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in (*SIDES, PLAN):
        print(
            f"usage: python -m pytest_provd.fidelity.worker {{{','.join((*SIDES, PLAN))}}} JOB OUT"
        )
        return 2
    side, job_path, out_path = argv
    if side == PLAN:
        from pytest_provd.fidelity import gate  # lazy: loads the plugin on our compat library

        gate.plan(gate.PlanJob.load(Path(job_path))).dump(Path(out_path))
        return 0
    job = Job.load(Path(job_path))
    result: SideResult
    if side == "real":
        from pytest_provd.fidelity import _real  # lazy: needs the installed wazo_provd

        result = _real.render(job)
    else:
        from pytest_provd.fidelity import _embedded  # lazy: must run before wazo_provd

        result = _embedded.render(job)
    result.dump(Path(out_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
