"""Run correlation: which marimo run each notification belongs to.

The runtime handles control commands strictly one at a time, in order, and
ends each with exactly one ``completed-run`` carrying the run_id that is on
every message of that run. So the oldest command not yet completed is the
one in flight: a run_id seen for the first time binds to it, and messages
without a run_id (variables, ui-element removals) belong to it too.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Protocol

from bridge.runtime.messages import CompletedRun, Notification, Other

log = logging.getLogger(__name__)


class RunSink(Protocol):
    def on_notification(self, run: Run, note: Notification | Other) -> None: ...
    def on_completed(self, run: Run) -> None: ...
    def on_lost(self, run: Run, reason: str) -> None: ...


class Sink(RunSink, Protocol):
    """What a command is sent for: it makes the Run the command becomes."""

    def new_run(self, run_id: str | None = None) -> Run: ...


class Run:
    """One marimo command in flight and who wants to hear about it."""

    __slots__ = ("run_id", "sink")

    def __init__(self, sink: RunSink | None, run_id: str | None = None) -> None:
        self.sink = sink
        # Known up front only for the scratchpad (we choose it); otherwise
        # bound from the first message of the run.
        self.run_id = run_id


class Correlator:
    def __init__(self) -> None:
        self._pending: deque[Run] = deque()
        self._by_id: dict[str, Run] = {}
        self._sent = 0  # every run ever expected

    def activity(self) -> tuple[int, int]:
        """(runs in flight, runs ever sent): two looks that read the same
        pair with nothing in flight saw an idle runtime in between."""
        return len(self._pending), self._sent

    def __len__(self) -> int:
        return len(self._pending)

    def expect(self, run: Run) -> None:
        """Register a command, in the order it is sent to the runtime."""
        self._sent += 1
        self._pending.append(run)
        if run.run_id is not None:
            self._by_id[run.run_id] = run

    def feed(self, note: Notification | Other) -> None:
        run = self._route(note.run_id if hasattr(note, "run_id") else None)
        if run is None:
            log.debug("notification outside any run dropped: %r", note)
            return
        if run.sink is not None:
            run.sink.on_notification(run, note)
        if isinstance(note, CompletedRun):
            self._finish(run)

    def _route(self, run_id: str | None) -> Run | None:
        head = self._pending[0] if self._pending else None
        if run_id is None:
            return head
        run = self._by_id.get(run_id)
        if run is None and head is not None and head.run_id is None:
            head.run_id = run_id
            self._by_id[run_id] = head
            run = head
        return run

    def _finish(self, run: Run) -> None:
        try:
            self._pending.remove(run)
        except ValueError:
            pass
        if run.run_id is not None:
            self._by_id.pop(run.run_id, None)
        if run.sink is not None:
            run.sink.on_completed(run)

    def lose_all(self, reason: str) -> None:
        """The runtime is gone: every run in flight ends without completing."""
        pending, self._pending = self._pending, deque()
        self._by_id.clear()
        for run in pending:
            if run.sink is not None:
                run.sink.on_lost(run, reason)
