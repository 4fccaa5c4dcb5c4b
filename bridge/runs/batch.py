"""One marimo run that serves several requests (Run All batching).

The run of a batch (bridge/jupyter/batching.py) runs the first request's
cell and what depends on it, then, in order, the cells of the requests that
wait behind it (the members). Each request is over when its own share is:

* the first, when the first member's cell starts (marimo runs every cell of
  the first's share before any member: batching.py makes sure of it), or
  when the run completes if none starts;
* a member, when its cell has finished. Its request takes the cell over when
  its turn comes: what the cell did before that is kept in the cell's view
  (the router holds it) and shown then; what it does after goes out live.

So Jupyter shows each cell finishing in turn, as with a run per request.

When a batch cell fails, the runtime cancels the members after it
(bridge/runtime/stop_on_error.py), and an interrupt stops them too: those
never start. They are handed to ``on_unrun`` at once, so the kernel deletes
them before any later command can meet their names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.runs.correlator import Run
from bridge.runs.request import RequestRun
from bridge.runtime.messages import CellOp, CompletedRun, Interrupted, Notification, Other
from bridge.translate.errors import is_stop


@dataclass
class MemberCell:
    msg_id: str
    cell: str
    request: RequestRun | None = None  # once its turn has come
    run: Run | None = None  # the request's share of the batch run
    started: bool = False
    finished: bool = False
    unrun: bool = False
    interrupted: bool = False


class BatchRun:
    """The sink of the batch's one ``ExecuteCellsCommand``."""

    def __init__(
        self,
        leader: RequestRun,
        members: list[tuple[str, str]],  # (msg_id, cell), in order
        keep: Callable[[CellOp], None],
        on_unrun: Callable[[list[MemberCell]], None],
    ) -> None:
        self.leader = leader
        self._keep = keep  # into the cell's view, shown when its request comes
        self._leader_run = leader.new_run()
        self._leader_open = True
        self.members = {cell: MemberCell(msg_id, cell) for msg_id, cell in members}
        self._order = [cell for _, cell in members]
        self._on_unrun = on_unrun
        self._running: str | None = None
        self._completed = False

    # -- a member's turn -----------------------------------------------------
    def attach(self, cell: str, request: RequestRun) -> bool:
        """The member's request takes its cell over; False when the cell has
        finished already (the request settles from the cell's view)."""
        member = self.members[cell]
        if member.finished or member.unrun or self._completed:
            return False
        member.request = request
        member.run = request.new_run()
        return True

    # -- RunSink -------------------------------------------------------------
    def on_notification(self, run: Run, note: Notification | Other) -> None:
        if isinstance(note, CellOp):
            self._cell_op(note)
        elif isinstance(note, Interrupted):
            self._interrupted(note)
        elif isinstance(note, CompletedRun):
            return  # on_completed follows
        else:
            owner = self._open_request()
            if owner is not None:
                owner.on_notification(self._run_of(owner), note)

    def on_completed(self, run: Run) -> None:
        self._completed = True
        self._stop_members(interrupted=False)
        for member in self.members.values():
            if member.request is not None and member.run is not None and not member.finished:
                member.finished = True
                member.request.on_completed(member.run)
        self._release_leader()

    def on_lost(self, run: Run, reason: str) -> None:
        self._completed = True
        gone = []
        for member in self.members.values():
            if member.request is not None and member.run is not None and not member.finished:
                member.finished = True
                member.request.on_lost(member.run, reason)
            elif not member.finished and not member.unrun:
                # Its request runs it anew (the next runtime has not got it).
                member.unrun = True
                gone.append(member)
        if gone:
            self._on_unrun(gone)
        if self._leader_open:
            self._leader_open = False
            self.leader.on_lost(self._leader_run, reason)

    # -- routing ---------------------------------------------------------------
    def _cell_op(self, note: CellOp) -> None:
        cell = note.cell_id
        if note.status == "running":
            self._running = cell
        member = self.members.get(cell)
        if member is None:
            if self._leader_open:
                self.leader.on_notification(self._leader_run, note)
            else:
                self._keep(note)  # late output of the first's share
            return
        if note.status == "running" and not member.started:
            member.started = True
            self._release_leader()
        if member.request is not None and member.run is not None and not member.finished:
            member.request.on_notification(member.run, note)
        else:
            self._keep(note)  # before its turn (or late output after it)
        if member.started and not member.finished and note.status == "idle":
            member.finished = True
            if member.request is not None and member.run is not None:
                member.request.on_completed(member.run)
        if self._failed(cell, note):
            self._stop_members(interrupted=False, after=cell)

    def _failed(self, cell: str, note: CellOp) -> bool:
        """A batch cell's own failure (the runtime then cancels what follows)."""
        output = note.output
        if output is None or output.channel != "marimo-error":
            return False
        if cell not in self.members and cell not in self.leader.roots:
            return False
        return any(not is_stop(error) for error in output.errors())

    def _interrupted(self, note: Interrupted) -> None:
        running = self.members.get(self._running or "")
        owner: RequestRun | None
        if running is not None:
            owner = running.request
        else:
            owner = self.leader if self._leader_open else None
        if owner is not None:
            owner.on_notification(self._run_of(owner), note)
        self._stop_members(interrupted=True)

    def _stop_members(self, interrupted: bool, after: str | None = None) -> None:
        """Members that have not started will not: hand them over to delete."""
        start = self._order.index(after) + 1 if after in self.members else 0
        stopped = []
        for cell in self._order[start:]:
            member = self.members[cell]
            if member.started or member.unrun:
                continue
            member.unrun = True
            member.interrupted = interrupted
            stopped.append(member)
        if stopped:
            self._on_unrun(stopped)

    def _release_leader(self) -> None:
        if self._leader_open:
            self._leader_open = False
            self.leader.on_completed(self._leader_run)

    def _open_request(self) -> RequestRun | None:
        """The request of the latest member whose turn came and is not over."""
        for cell in reversed(self._order):
            member = self.members[cell]
            if member.request is not None and not member.finished:
                return member.request
        return None

    def _run_of(self, request: RequestRun) -> Run:
        if request is self.leader:
            return self._leader_run
        for member in self.members.values():
            if member.request is request and member.run is not None:
                return member.run
        return self._leader_run
