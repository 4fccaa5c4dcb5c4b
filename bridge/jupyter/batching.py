"""Run All as one run: the new cells of waiting requests join a request's run.

JupyterLab's Run All sends every execute_request at once, and ipykernel
hands them to the kernel one at a time. One marimo run per request makes Run
All of N new cells N runs, each paying marimo's per-run costs over the whole
notebook. Instead, when a request is planned and the requests waiting behind
it hold cells new to the notebook, their cells go to the runtime with its
own, in one ``ExecuteCellsCommand``, in the order of the requests. When a
waiting request's turn comes, it shows its cell's run in its own place and
replies with that cell's outcome (the replay of run_all.py), so every reply,
output and execution count is the one a run per request would have given.

For that to hold, a waiting request joins only when its cell could not have
run differently alone; the batch ends at the first request that does not
qualify:

* it is an ordinary run of a cell new to the kernel (a ``cellId`` no request
  has used, and no cell of the twin or code mode left to claim), with the
  same ``stop_on_error`` (true) and stdin as the first; nothing marimo could
  ask the user for (``input``, ``getpass``), no deleted cells to forget, no
  ``mo.state`` anywhere in the notebook (its readers re-run after every cell
  of a run, which would be after the whole batch);
* marimo compiles it, it defines no name another cell defines, and no
  earlier cell (of the notebook or of the batch) reads a name it defines.
  So nothing already there depends on it, it depends only on cells before
  it, and marimo's topological order is the order of the requests.

The first request qualifies to lead when marimo compiles its cell, it
defines no name another cell defines and joins no cycle: otherwise its
registration error would stop only its own cell, not the batch.

The first request replies once its own share has run, each waiting request
once its cell has (bridge/runs/batch.py): Jupyter shows the cells finishing
one by one. In the runtime, the run stops at the first batch cell that fails
(bridge/runtime/stop_on_error.py). The cells after it did not run; they are
deleted again at once, so the requests ipykernel then aborts leave nothing
behind. An interrupt stops the batch too: the first request whose cell did
not run replies KeyboardInterrupt, which aborts the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from bridge.jupyter.admission import Admitted
from bridge.jupyter.batch_plan import BatchPlanner, Member
from bridge.jupyter.outputs import OutputRouter
from bridge.notebook.cells import CellRegistry
from bridge.runs.batch import BatchRun, MemberCell
from bridge.runs.correlator import Sink
from bridge.runs.request import RequestRun

SendCommand = Callable[[Any, Sink, Any], None]
Turn = Literal["shown", "interrupted", "run"]


class RunAllBatcher:
    def __init__(
        self,
        session: Any,
        cells: CellRegistry,
        router: OutputRouter,
        *,
        waiting: Callable[[], Iterable[Any]],
        runtime: Callable[[], Any],
        send_command: SendCommand,
        delete: Callable[[str], None],
        supported: Callable[[], bool],
        counts: Callable[[dict[str, tuple[int, str]]], Any],
        lazy: Callable[[], bool],
        tell: Callable[[str], None],
        log: Any,
    ) -> None:
        self._planner = BatchPlanner(session, cells, waiting, self._taken)
        self._router = router
        self._runtime = runtime
        self._send_command = send_command
        self._delete = delete
        # Asked at the first batch, not at start: it imports marimo.
        self._supported = supported
        # An ExecuteCellsCommand's ``request`` carrying execution counts and
        # inputs, or None.
        self._counts = counts
        self._enabled: bool | None = None
        # Lazy mode (or not known yet): marimo works out which stale
        # ancestors to run once per run, so a member would not run the
        # ancestors its own run would have.
        self._lazy = lazy
        self._tell = tell
        self._log = log
        # Requests whose cells a batch runs, by msg_id, until their turn.
        self._members: dict[str, tuple[BatchRun, MemberCell]] = {}

    def run(
        self,
        runtime: Any,
        request: RequestRun,
        first: Admitted,
        cell: str,
        registered: Mapping[str, str],
        execution_count: int,
    ) -> None:
        """Send the run of ``first``'s cell, with the cells of the waiting
        requests that may join it."""
        from marimo._internal.commands import ExecuteCellsCommand
        from marimo._internal.ids import CellId_t

        members = self._members_for(first, cell, registered, execution_count)
        # The execution count of each cell, for IPython's In and Out
        # (output_history.py): members count on from the first, as their
        # labels do; a silent request has none.
        counts = {} if first.silent or not first.store_history else {
            cell: (execution_count, first.code)}
        counts.update(
            (m.marimo_id, (execution_count + i + 1, m.typed)) for i, m in enumerate(members)
        )
        command = ExecuteCellsCommand(
            cell_ids=[CellId_t(cell), *(CellId_t(m.marimo_id) for m in members)],
            codes=[first.rewritten.code, *(m.code for m in members)],
            request=self._counts(counts) if counts else None,
        )
        if not members:
            self._send_command(runtime, request, command)
            return
        batch = BatchRun(
            request,
            [(m.msg_id, m.marimo_id, m.code) for m in members],
            self._router.keep,
            self._drop,
            self._rerun,
            self._tell,
        )
        for state in batch.members.values():
            self._members[state.msg_id] = (batch, state)
        self._send_command(runtime, batch, command)
        self._log.info("Run All: %d waiting requests run in this request's run", len(members))

    def _members_for(
        self, first: Admitted, cell: str, registered: Mapping[str, str], count: int
    ) -> list[Member]:
        if self._enabled is None and self._planner.anyone_waiting():
            self._enabled = self._supported()
            if not self._enabled:
                self._log.warning("Run All batching is off: this marimo lacks the hooks it needs")
        if not self._enabled or self._lazy():
            return []
        return self._planner.join(first, cell, registered, count)

    def _taken(self, msg_id: str) -> bool:
        found = self._members.get(msg_id)
        return found is not None and not found[1].unrun

    def turn(self, msg_id: str, cell: str | None, request: RequestRun) -> Turn | None:
        """A batch member's turn: its request shows its cell's run (done or
        still going), or replies KeyboardInterrupt when an interrupt stopped
        the batch before its cell, or runs the cell as usual (deleted again
        after the batch stopped). None when the request is no member."""
        found = self._members.pop(msg_id, None)
        if found is None:
            return None
        batch, member = found
        if member.unrun and member.interrupted:
            request.interrupted = True
            request.settle(member.cell, None)
            return "interrupted"
        if member.unrun or cell != member.cell or request.pending:
            return "run"
        view = self._router.view(member.cell)
        errors = view.errors if view is not None else None
        if batch.attach(member.cell, request):
            # What the cell did before its turn is in its view (an error that
            # came before its idle included).
            request.adopt(member.cell, errors, started=member.started)
        else:
            request.settle(member.cell, errors)
        return "shown"

    def _rerun(self, member: MemberCell) -> None:
        """A member the batch stopped before its cell, its turn come: its
        request runs the cell now, as it would have without a batch."""
        from marimo._internal.commands import ExecuteCellsCommand
        from marimo._internal.ids import CellId_t

        runtime = self._runtime()
        assert member.request is not None
        if runtime is None or not runtime.alive:
            member.request.lost = "the marimo runtime is not running"
            return
        command = ExecuteCellsCommand(cell_ids=[CellId_t(member.cell)], codes=[member.code])
        self._send_command(runtime, member.request, command)

    def _drop(self, members: list[MemberCell]) -> None:
        """Batch cells that will not run: deleted from the runtime and the
        kernel at once, as if never sent (before any later command)."""
        for member in reversed(members):
            self._delete(member.cell)
