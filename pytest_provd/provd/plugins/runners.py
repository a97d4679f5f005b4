"""Long-lived daemon threads that run plugin calls bounded in time (:class:`Runners`).

A thread per call costs more than many plugins' ``configure`` itself; an idle thread is
reused instead.  A call that overruns its time keeps its thread (it cannot be killed): that
thread leaves when the call ends and later calls get another one, so they never queue behind
hung plugin code, and calls made at once run at once, as with a thread each.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]


class _Runner:
    """One daemon thread running the jobs it is handed until it gets None."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job()


class Runners:
    """Idle :class:`_Runner` threads named *name*, reused from call to call."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._idle: list[_Runner] = []
        self._lock = threading.Lock()
        self._closed = False

    def run(self, fun: Callable[[], object], timeout: float) -> tuple[bool, BaseException | None]:
        """Run *fun* on a runner thread: ``(returned in time, what it raised or None)``."""
        with self._lock:
            runner = self._idle.pop() if self._idle else None
        if runner is None:
            runner = _Runner(self._name)
        # A bare lock the runner releases: cheaper to wait on than an Event's condition.
        done = threading.Lock()
        done.acquire()
        outcome: list[BaseException] = []

        def job() -> None:
            try:
                fun()
            except BaseException as exc:  # handed to the caller's thread
                outcome.append(exc)
            finally:
                done.release()

        runner.jobs.put(job)
        if not done.acquire(timeout=timeout):
            runner.jobs.put(None)  # leaves once the overrunning call returns, if ever
            return False, None
        with self._lock:
            if self._closed:
                runner.jobs.put(None)
            else:
                self._idle.append(runner)
        return True, outcome[0] if outcome else None

    def close(self) -> None:
        """Let the idle threads go; later calls each get a thread of their own."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for runner in idle:
            runner.jobs.put(None)
