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
    code: str
    request: RequestRun | None = None  # once its turn has come
    run: Run | None = None  # the request's share of the batch run
    started: bool = False
    finished: bool = False
    unrun: bool = False
    interrupted: bool = False

    @property
    def open(self) -> bool:
        """Its turn has come and its cell has not finished."""
        return self.request is not None and not self.finished

    def tell(self, note: Notification | Other) -> None:
        assert self.request is not None and self.run is not None
        self.request.on_notification(self.run, note)

    def finish(self, lost: str | None = None) -> None:
        """Its cell is over (or gone with the runtime): so is its request's share."""
        self.finished = True
        if self.request is not None and self.run is not None:
            if lost is None:
                self.request.on_completed(self.run)
            else:
                self.request.on_lost(self.run, lost)


class BatchRun:
    """The sink of the batch's one ``ExecuteCellsCommand``."""

    def __init__(
        self,
        leader: RequestRun,
        members: list[tuple[str, str, str]],  # (msg_id, cell, code), in order
        keep: Callable[[CellOp], None],
        on_unrun: Callable[[list[MemberCell]], None],
        rerun: Callable[[MemberCell], None],
        tell: Callable[[str], None],
    ) -> None:
        self.leader = leader
        self._keep = keep  # into the cell's view, shown when its request comes
        self._leader_run = leader.new_run()
        self._leader_open = True
        # In the order the run runs them (the requests' order).
        self.members = {
            cell: MemberCell(msg_id, cell, code) for msg_id, cell, code in members
        }
        self._on_unrun = on_unrun  # members whose turn has not come: deleted again
        self._rerun = rerun  # a member whose turn came: its request runs it itself
        self._tell = tell  # a lost runtime no request heard of
        self._running: str | None = None
        # The first's share: its cells queued or running, and whether its own
        # cell has finished (a runtime lost after that is not its loss).
        self._share_waiting: set[str] = set()
        self._share_done = False
        self._interrupted_batch = False
        self._completed = False

    def new_run(self, run_id: str | None = None) -> Run:
        """The batch's one command (a Sink, for the kernel's send)."""
        return Run(self, run_id)

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
            self._to_open(note)

    def on_completed(self, run: Run) -> None:
        self._completed = True
        self._stop_members(interrupted=False)
        for member in self.members.values():
            if not member.open:
                continue
            assert member.request is not None
            if not member.started:
                # Its turn came, but the batch stopped before its cell (marimo
                # cancelled it): as without a batch, its request runs it now,
                # unless an interrupt stopped the batch.
                if self._interrupted_batch:
                    member.request.interrupted = True
                else:
                    self._rerun(member)
            member.finish()
        self._release_leader()

    def on_lost(self, run: Run, reason: str) -> None:
        self._completed = True
        told = False
        gone = []
        for member in self.members.values():
            if member.open:
                told = True
                member.finish(lost=reason)
            elif member.request is None and not member.unrun:
                # Ran or not, it is gone with the runtime, which the next one
                # does not know: its request runs it anew.
                member.unrun = True
                gone.append(member)
        if gone:
            self._on_unrun(gone)
        if self._leader_open and self._share_done and not self._share_waiting:
            # Its share had run when the runtime went (the first member's
            # start was lost with it): the loss belongs to what came after.
            self._release_leader()
        elif self._leader_open:
            self._leader_open = False
            told = True
            self.leader.on_lost(self._leader_run, reason)
        if not told:
            self._tell(reason)

    # -- routing ---------------------------------------------------------------
    def _cell_op(self, note: CellOp) -> None:
        cell = note.cell_id
        if note.status == "running":
            self._running = cell
        member = self.members.get(cell)
        if member is None:
            # A cell's output comes once it has run (its idle just after).
            if note.output is not None or note.status == "idle":
                self._share_waiting.discard(cell)
                self._share_done |= cell in self.leader.roots
            elif note.status in ("queued", "running"):
                self._share_waiting.add(cell)
            if self._leader_open:
                self.leader.on_notification(self._leader_run, note)
            else:
                self._keep(note)  # late output of the first's share
            return
        if note.status == "running" and not member.started:
            member.started = True
            self._release_leader()
        if member.open:
            member.tell(note)
        else:
            self._keep(note)  # before its turn (or late output after it)
        if member.started and not member.finished and note.status == "idle":
            member.finish()
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
        """To the request whose cell was running, if its turn has come."""
        self._interrupted_batch = True
        running = self.members.get(self._running or "")
        if running is None and self._leader_open:
            self.leader.on_notification(self._leader_run, note)
        elif running is not None and running.open:
            running.tell(note)
        self._stop_members(interrupted=True)

    def _stop_members(self, interrupted: bool, after: str | None = None) -> None:
        """Members that have not started will not: hand them over to delete."""
        order = list(self.members)
        start = order.index(after) + 1 if after in self.members else 0
        stopped = []
        for cell in order[start:]:
            member = self.members[cell]
            if member.started or member.unrun or member.request is not None:
                continue  # a member whose turn came is settled at completion
            member.unrun = True
            member.interrupted = interrupted
            stopped.append(member)
        if stopped:
            self._on_unrun(stopped)

    def _release_leader(self) -> None:
        if self._leader_open:
            self._leader_open = False
            self.leader.on_completed(self._leader_run)

    def _to_open(self, note: Notification | Other) -> None:
        """A note of no cell: to the latest member whose turn came, if open."""
        for member in reversed(self.members.values()):
            if member.open:
                member.tell(note)
                return
