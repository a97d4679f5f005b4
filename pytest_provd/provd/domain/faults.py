"""The embedded provd's own failures, kept for the test that caused them.

A handler that crashes on a request answers 500 (or drops a TFTP transfer) and logs it; that
alone would let the test pass on whatever the phone made of the answer.  Every such crash of
the harness's code is also recorded here, so that :meth:`EmbeddedProvd.check` can fail the
test, as pytest-httpserver's ``check()`` does.  A client's bad input (4xx) and a plugin's
own error (a PluginError, which is what the harness tests for) are not faults.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

MAX_FAULTS = 100
_TRACEBACK_FRAMES = 8


@dataclass(frozen=True)
class ServerFault:
    """One unexpected exception inside the server: where, what, and the innermost frames."""

    where: str
    """The request or task, e.g. ``REST GET /provd/dev_mgr/devices``."""
    error: str
    """``ExceptionType: message``."""
    traceback: str
    """The last frames of the traceback, formatted."""
    at: float = field(default_factory=time.time)

    @classmethod
    def of(cls, where: str, exc: BaseException) -> ServerFault:
        """A fault for *exc* raised while handling *where*."""
        frames = traceback.extract_tb(exc.__traceback__)[-_TRACEBACK_FRAMES:]
        return cls(
            where, f"{type(exc).__name__}: {exc}", "".join(traceback.format_list(frames)).rstrip()
        )

    def __str__(self) -> str:
        return f"{self.where}: {self.error}\n{self.traceback}"


class FaultLog:
    """Faults in arrival order, from any thread; at most ``MAX_FAULTS`` are kept (the first)."""

    def __init__(self) -> None:
        self._faults: list[ServerFault] = []
        self._dropped = 0
        self._lock = threading.Lock()

    def record(self, where: str, exc: BaseException) -> ServerFault:
        """Keep *exc* raised while handling *where*; returns the fault."""
        fault = ServerFault.of(where, exc)
        with self._lock:
            if len(self._faults) < MAX_FAULTS:
                self._faults.append(fault)
            else:
                self._dropped += 1
        return fault

    def items(self) -> list[ServerFault]:
        """The faults recorded so far."""
        with self._lock:
            return list(self._faults)

    @property
    def dropped(self) -> int:
        """Faults not kept because ``MAX_FAULTS`` were already recorded."""
        return self._dropped

    def clear(self) -> None:
        """Forget every fault."""
        with self._lock:
            self._faults.clear()
            self._dropped = 0


class ServerFaultError(AssertionError):
    """The embedded provd crashed while serving the test: its own bug, listed fault by fault."""

    def __init__(self, faults: list[ServerFault], dropped: int = 0) -> None:
        self.faults = faults
        lines = [f"the embedded provd failed {len(faults) + dropped} time(s) while serving:"]
        for number, fault in enumerate(faults, 1):
            body = str(fault).replace("\n", "\n    ")
            lines.append(f"  [{number}] {body}")
        if dropped:
            lines.append(f"  ... and {dropped} more")
        super().__init__("\n".join(lines))
