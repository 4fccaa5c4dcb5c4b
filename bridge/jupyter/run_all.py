"""Run All runs each cell once.

JupyterLab's Run All sends every execute_request at once, while ipykernel
handles them one by one. In marimo, the first request's run already re-runs
every registered dependent, so running each later request again would run a
chain of N cells N(N+1)/2 times. Instead: a request that was already waiting
while an earlier request's run ran its cell as a dependent, with the code it
carries, does not run the cell again. It shows that run's outputs in its own
cell and replies with that run's outcome for its cell. "Already waiting" is
not when the kernel read it (on a busy machine it may read the rest of Run
All only after the first run ended) but when the client sent it: before
the client could have seen that run's reply (``_Run.serves``).

The error that stops the queue (ipykernel's stop_on_error) is then the
executed cell's own: a request whose own cell ran fine but whose dependent
failed replies with an error naming the dependent, and does not abort the
waiting requests, which show and report their own cells' outcomes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class _Run:
    """A request's run that re-ran cells as dependents, and which later
    requests may take it as their own."""

    # Requests waiting for the kernel when it ended.
    waiting: frozenset[str]
    # Its request's header: the client's session and clock.
    session: object
    sent: object
    # From its request's arrival to its end, on the kernel's clock.
    span: float

    def serves(self, msg_id: str, header: dict[str, Any]) -> bool:
        """Whether the request was sent before its client could have seen
        this run's reply, so it was queued behind the run, not a re-run the
        user asked for after it. The kernel may read such a request only
        after the run ended (a busy machine): it was still sent at Run
        All's click. Only differences within one clock are compared, the
        client's between the two requests' dates and the kernel's span, so
        a client whose clock is off gives the same answer: a request sent
        after the client received the reply is later than its request's
        date by at least the span (the span is a lower bound of the time
        the client waited for the reply)."""
        if msg_id in self.waiting:
            return True
        sent = header.get("date")
        if header.get("session") != self.session or not isinstance(sent, datetime):
            return False
        if not isinstance(self.sent, datetime):
            return False
        try:
            return (sent - self.sent).total_seconds() < self.span
        except TypeError:  # one date with a zone, one without
            return False


class RunAllTracker:
    def __init__(self) -> None:
        # execute_requests waiting for the kernel while another one runs, in
        # the order they will run: their raw messages (batching.py) and when
        # they arrived.
        self._waiting: dict[str, tuple[Any, float]] = {}
        # The request taken up last, and when it arrived.
        self._current: tuple[str, float] | None = None
        # cell -> the run that last ran it as a dependent.
        self._fresh: dict[str, _Run] = {}

    def arrived(self, msg_id: str, raw: Any) -> None:
        self._waiting[msg_id] = (raw, time.monotonic())

    def started(self, msg_id: str) -> None:
        """ipykernel took this request up: it and every request that came
        before it are no longer waiting (the shell lock is first come, first
        served; one ipykernel dropped unread never gets here itself)."""
        if msg_id not in self._waiting:
            return
        self._current = (msg_id, self._waiting[msg_id][1])
        while self._waiting:
            first = next(iter(self._waiting))
            del self._waiting[first]
            if first == msg_id:
                return

    def waiting(self) -> Iterator[Any]:
        """The raw messages of the waiting requests, in order."""
        return (raw for raw, _ in self._waiting.values())

    def ran(
        self, msg_id: str, header: dict[str, Any], roots: set[str], dependents: list[str]
    ) -> None:
        """A request's run is over: which cells it ran, as what."""
        now = time.monotonic()
        arrival = self._current[1] if self._current and self._current[0] == msg_id else now
        run = _Run(
            frozenset(self._waiting), header.get("session"), header.get("date"), now - arrival
        )
        for cell in roots:
            self._fresh.pop(cell, None)
        for cell in dependents:
            self._fresh[cell] = run

    def forget(self, cell: str) -> None:
        self._fresh.pop(cell, None)

    def already_ran(self, msg_id: str, header: dict[str, Any], cell: str) -> bool:
        """Whether the request's cell already ran, for it, in an earlier
        request's run: it was waiting when the run ended, or it was sent
        before that run's reply could reach its client."""
        run = self._fresh.get(cell)
        return run is not None and run.serves(msg_id, header)


def peek(session: Any, msg: Any) -> dict[str, Any] | None:
    """A raw shell message read before ipykernel reads it (header,
    metadata; its content still packed), or None when it cannot be read.
    ``content=False`` checks the signature without recording its digest:
    ipykernel's own read later is not taken for a replay."""
    try:
        _, frames = session.feed_identities(msg, copy=False)
        found = session.deserialize(frames, content=False, copy=False)
    except Exception:
        return None
    return found if isinstance(found, dict) else None


def unpacked(session: Any, found: dict[str, Any]) -> dict[str, Any] | None:
    """A peeked message with its content read; None when it cannot be."""
    try:
        content = found["content"]
        found["content"] = session.unpack(content.bytes if hasattr(content, "bytes") else content)
    except Exception:
        return None
    return found


def read_ahead(session: Any, msg: Any) -> dict[str, Any] | None:
    """A raw shell message, content and all, read before ipykernel reads it."""
    found = peek(session, msg)
    return unpacked(session, found) if found is not None else None
