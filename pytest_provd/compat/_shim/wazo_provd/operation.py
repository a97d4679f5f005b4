"""Progress monitors for long operations (downloads, installs)."""

from __future__ import annotations

OIP_WAITING = "waiting"
OIP_PROGRESS = "progress"
OIP_SUCCESS = "success"
OIP_FAIL = "fail"


class OperationInProgress:
    """State (waiting → progress → success|fail), optional step counters and sub-operations."""

    def __init__(
        self,
        label: str | None = None,
        state: str = OIP_WAITING,
        current: int | None = None,
        end: int | None = None,
        sub_oips: list[OperationInProgress] | None = None,
    ) -> None:
        self.label = label
        self.state = state
        self.current = current
        self.end = end
        self.sub_oips = list(sub_oips or [])

    def __repr__(self) -> str:
        return f"OperationInProgress({self.label!r}, {self.state!r})"
