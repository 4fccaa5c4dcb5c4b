"""The runtime client on its own, with a real marimo runtime: both ways of
reading its stream (on an event loop, and the reader thread kept for a marimo
whose receiver thread the bridge does not know), and how its exit is told."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any

import pytest

from bridge.runtime.client import RuntimeClient
from bridge.runtime.messages import CellOp, CompletedRun, Notification, Other

TIMEOUT = 60.0


class Seen:
    """What the client handed over, from whichever thread it ran on."""

    def __init__(self) -> None:
        self.notes: list[Notification | Other] = []
        self.exits: list[int | None] = []
        self.changed = threading.Condition()

    def on_notifications(self, notes: list[Notification | Other]) -> None:
        with self.changed:
            self.notes.extend(notes)
            self.changed.notify_all()

    def on_exit(self, code: int | None) -> None:
        with self.changed:
            self.exits.append(code)
            self.changed.notify_all()

    def wait(self, what: str, ready: Any) -> None:
        with self.changed:
            assert self.changed.wait_for(ready, timeout=TIMEOUT), f"no {what}"

    def completed_runs(self) -> int:
        return sum(isinstance(n, CompletedRun) for n in self.notes)

    def outputs_of(self, cell: str) -> list[str]:
        return [
            str(n.output.data)
            for n in self.notes
            if isinstance(n, CellOp) and n.cell_id == cell and n.output is not None
        ]


def run_cell(client: RuntimeClient, cell: str, code: str) -> None:
    from marimo._internal.commands import ExecuteCellsCommand
    from marimo._internal.ids import CellId_t

    client.send(ExecuteCellsCommand(cell_ids=[CellId_t(cell)], codes=[code]))


def exercise(client: RuntimeClient, seen: Seen, threads: list[threading.Thread]) -> None:
    """Start, run a cell and see its output, then kill the child: its exit is
    told once, and a stop() after it tells nothing more. ``threads``: the
    client's reading threads, as started."""
    before = set(threading.enumerate())
    client.start([("a", "x = 20")])
    threads.extend(
        t for t in threading.enumerate() if t not in before and t.name.startswith("marimo-")
    )
    seen.wait("opening run", lambda: seen.completed_runs() >= 1)
    run_cell(client, "b", "x + 22")
    seen.wait("output of b", lambda: any("42" in o for o in seen.outputs_of("b")))
    assert client.pid is not None
    os.killpg(client.pid, signal.SIGKILL)
    seen.wait("exit", lambda: seen.exits)
    assert seen.exits == [-signal.SIGKILL]
    client.stop(timeout=1.0)
    assert seen.exits == [-signal.SIGKILL]


def test_the_reader_thread_delivers_and_tells_the_exit() -> None:
    seen = Seen()
    client = RuntimeClient(seen.on_notifications, seen.on_exit, loop=None)
    threads: list[threading.Thread] = []
    try:
        exercise(client, seen, threads)
    finally:
        client.stop(timeout=1.0)
    assert [t.name for t in threads] == ["marimo-stream-reader"]
    threads[0].join(timeout=10)
    assert not threads[0].is_alive(), "the reader thread outlived its runtime"


def test_on_a_loop_the_stream_is_read_there_and_the_exit_told() -> None:
    seen = Seen()
    loop_threads: set[int] = set()

    def on_notifications(notes: list[Notification | Other]) -> None:
        loop_threads.add(threading.get_ident())
        seen.on_notifications(notes)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        client = RuntimeClient(on_notifications, seen.on_exit, loop=loop)
        threads: list[threading.Thread] = []
        try:
            await loop.run_in_executor(None, exercise, client, seen, threads)
            # On a loop, no thread reads: one only waits for the exit.
            assert [t.name for t in threads] == ["marimo-exit-watcher"]
        finally:
            await loop.run_in_executor(None, client.stop, 1.0)
        loop_threads.discard(threading.get_ident())

    asyncio.run(main())
    assert seen.outputs_of("b") and not loop_threads, "delivered on another thread"


@pytest.mark.parametrize("on_loop", [True, False], ids=["loop", "thread"])
def test_a_stopped_runtime_is_no_news(on_loop: bool) -> None:
    seen = Seen()

    def scenario(client: RuntimeClient) -> None:
        client.start([])
        seen.wait("opening run", lambda: seen.completed_runs() >= 1)
        client.stop(timeout=1.0)
        assert not client.alive

    if on_loop:

        async def main() -> None:
            loop = asyncio.get_running_loop()
            client = RuntimeClient(seen.on_notifications, seen.on_exit, loop=loop)
            await loop.run_in_executor(None, scenario, client)
            await asyncio.sleep(0.5)  # an exit report would have come by now

        asyncio.run(main())
    else:
        scenario(RuntimeClient(seen.on_notifications, seen.on_exit, loop=None))
        threading.Event().wait(0.5)  # likewise, from the reader thread
    assert seen.exits == []
