"""xdist scheduling of the generated suite: whole targets per worker, the largest first.

A target's items share what is expensive to set up (the plugin loaded, its provd and
phones, its matrix renders): spread over workers item by item (``--dist load``), every
worker pays for every target.  Scopes are the first part of a node id, so a target
(``wazo-snom-10.1.215.13::...``), a family's items (``wazo_snom::...``) and the dhcp items
(``dhcp::...``) each go to one worker; a test file of the user's is one scope.  xdist sends
the scopes with the most items first (``--loadscope-reorder``, its default), so a large
family does not end the run alone on one worker.

A worker writes its terminal to the null device (execnet's): :func:`quiet_worker` spares it
the failure summary (hundreds of failures of a whole tree cost it seconds at the end).
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]


class TargetScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """:class:`~xdist.scheduler.LoadScopeScheduling` with a target (or a test file) a scope."""

    def _split_scope(self, nodeid: str) -> str:
        return nodeid.split("::", 1)[0]


def make_scheduler(config: Any, log: Any) -> TargetScheduling:
    """The scheduler for a ``-n`` run of the generated suite."""
    return TargetScheduling(config, log)


def quiet_worker(config: Any) -> None:
    """On an xdist worker, once its items ran: no failure and error summaries, which only
    its own terminal (the null device) would show; the controller prints them."""
    if hasattr(config, "workerinput"):
        config.option.tbstyle = "no"
