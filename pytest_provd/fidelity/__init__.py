"""Is the embedded provd faithful to real provd?  Render, compare, report.

:func:`~pytest_provd.fidelity.run.run` renders every model of the selected targets on the
installed ``wazo_provd`` and on the embedded provd, with the same plugin package, configs
(:mod:`.matrix`) and devices, and compares the files written (:mod:`.compare`).  The
``provd-harness fidelity`` command is its front end.

Modules: :mod:`.matrix` (render configs, the built-in matrix), :mod:`.gate` (each model's
``<model>::matrix`` configs, the default), :mod:`.job` (what a side renders, as JSON),
:mod:`.worker` (a side's process), :mod:`._real` / :mod:`._embedded` (the two sides),
:mod:`.compare` (diffs, volatile values, reports), :mod:`.run` (orchestration).
"""
