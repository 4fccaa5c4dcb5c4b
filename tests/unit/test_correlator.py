"""Run correlation over recorded notification sequences."""

from __future__ import annotations

from bridge.runs.correlator import Correlator, Run
from bridge.runtime.messages import decode


class Sink:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.completed = 0
        self.lost: str | None = None

    def on_notification(self, run: Run, note) -> None:
        self.seen.append(getattr(note, "op", type(note).__name__))

    def on_completed(self, run: Run) -> None:
        self.completed += 1

    def on_lost(self, run: Run, reason: str) -> None:
        self.lost = reason


def msg(op: str, run_id: str | None = None, **extra: object) -> bytes:
    import json

    return json.dumps({"op": op, "run_id": run_id, **extra}).encode()


def test_run_id_binds_to_oldest_pending_command_in_order() -> None:
    corr = Correlator()
    first, second = Sink(), Sink()
    corr.expect(Run(first))
    corr.expect(Run(second))
    for raw in [
        msg("variables"),
        msg("cell-op", "r1", cell_id="a", status="running"),
        msg("completed-run", "r1"),
        msg("cell-op", "r2", cell_id="b", status="running"),
        msg("cell-op", "r2", cell_id="c", status="running"),  # a dependent
        msg("completed-run", "r2"),
    ]:
        corr.feed(decode(raw))
    assert first.completed == 1 and second.completed == 1
    assert first.seen == ["variables", "CellOp", "CompletedRun"]
    assert second.seen == ["CellOp", "CellOp", "CompletedRun"]
    assert len(corr) == 0


def test_preset_run_id_for_scratchpad_and_stray_messages() -> None:
    corr = Correlator()
    scratch = Sink()
    corr.expect(Run(scratch, run_id="msg-1"))
    corr.feed(decode(msg("cell-op", "someone-else", cell_id="x")))  # dropped
    corr.feed(decode(msg("completed-run", "msg-1")))
    assert scratch.seen == ["CompletedRun"] and scratch.completed == 1


def test_lose_all_ends_every_pending_run() -> None:
    corr = Correlator()
    sinks = [Sink(), Sink()]
    for s in sinks:
        corr.expect(Run(s))
    corr.lose_all("runtime died")
    assert all(s.lost == "runtime died" for s in sinks) and len(corr) == 0


def test_a_cell_the_run_skipped_without_a_word_is_not_a_success() -> None:
    """RequestRun: an executed cell that neither started nor got an error
    item (not even mo.stop's) is unexplained, and the request's own failure."""
    import asyncio

    from bridge.runs.request import RequestRun

    def outcome(*notes: bytes) -> RequestRun:
        loop = asyncio.new_event_loop()
        try:
            request = RequestRun("m", {"x"}, lambda *_: None, loop)
            correlator = Correlator()
            correlator.expect(request.new_run())
            for raw in (*notes, msg("completed-run", "r")):
                correlator.feed(decode(raw))
            assert request.done.done()
            return request
        finally:
            loop.close()

    skipped = outcome()
    assert skipped.unexplained() == ["x"] and skipped.own_failure()
    ran = outcome(msg("cell-op", "r", cell_id="x", status="running"))
    assert ran.unexplained() == [] and not ran.own_failure()
    stop = {"type": "ancestor-stopped", "msg": "", "raising_cell": "y"}
    stopped = outcome(
        msg(
            "cell-op",
            "r",
            cell_id="x",
            output={"channel": "marimo-error", "mimetype": "x", "data": [stop]},
        )
    )
    assert stopped.unexplained() == [] and not stopped.own_failure()
