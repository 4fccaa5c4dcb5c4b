"""Run All runs each cell once.

JupyterLab's Run All sends every execute_request at once, while ipykernel
handles them one by one. In marimo, the first request's run already re-runs
every registered dependent, so running each later request again would run a
chain of N cells N(N+1)/2 times. Instead: a request that was already waiting
while an earlier request's run ran its cell as a dependent, with the code it
carries, does not run the cell again. It shows that run's outputs in its own
cell and replies with that run's outcome for its cell.

The error that stops the queue (ipykernel's stop_on_error) is then the
executed cell's own: a request whose own cell ran fine but whose dependent
failed replies with an error naming the dependent, and does not abort the
waiting requests, which show and report their own cells' outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class RunAllTracker:
    def __init__(self) -> None:
        # execute_requests waiting for the kernel while another one runs, in
        # the order they will run, with their raw messages (batching.py).
        self._waiting: dict[str, Any] = {}
        # cell -> requests that were waiting when the cell last ran as a
        # dependent: those may take that run as their own.
        self._fresh: dict[str, set[str]] = {}

    def arrived(self, msg_id: str, raw: Any) -> None:
        self._waiting[msg_id] = raw

    def started(self, msg_id: str) -> None:
        """ipykernel took this request up: it and every request that came
        before it are no longer waiting (the shell lock is first come, first
        served; one ipykernel dropped unread never gets here itself)."""
        if msg_id not in self._waiting:
            return
        while self._waiting:
            first = next(iter(self._waiting))
            del self._waiting[first]
            if first == msg_id:
                return

    def waiting(self) -> Iterator[Any]:
        """The raw messages of the waiting requests, in order."""
        return iter(self._waiting.values())

    def ran(self, roots: set[str], dependents: list[str]) -> None:
        """A request's run is over: which cells it ran, as what."""
        for cell in roots:
            self._fresh.pop(cell, None)
        for cell in dependents:
            self._fresh[cell] = set(self._waiting)

    def forget(self, cell: str) -> None:
        self._fresh.pop(cell, None)

    def already_ran(self, msg_id: str, cell: str) -> bool:
        return msg_id in self._fresh.get(cell, ())


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
