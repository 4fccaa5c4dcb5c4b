"""Which waiting requests may join a request's run (Run All batching).

The rules are batching.py's; this reads the waiting requests and applies
them, with marimo's own analysis of each cell (bridge/notebook/analysis.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.ipython.rewrite import runs_script
from bridge.jupyter.admission import Admitted, admitted
from bridge.jupyter.outputs import RUN_STALE, SCRATCH_MAGIC
from bridge.jupyter.run_all import read_ahead
from bridge.notebook.analysis import NOTHING, Names, names
from bridge.notebook.cells import CellRegistry

# Calls that would ask the user for input under the first request's cell.
_ASKS = ("input", "getpass")
# mo.state: a setter called in the run re-runs its readers after every cell of
# the run, so after the whole batch instead of within its own request's run.
# A notebook that makes state is not batched.
_STATE = "state("
# Requests read ahead at most (each is parsed and compiled).
MAX_BATCH = 1000


@dataclass(frozen=True)
class Member:
    """A waiting request whose cell runs in an earlier request's run."""

    msg_id: str
    marimo_id: str
    code: str  # as the runtime runs it
    typed: str  # as the user typed it (IPython's In)


class BatchPlanner:
    def __init__(
        self,
        session: Any,
        cells: CellRegistry,
        waiting: Callable[[], Iterable[Any]],
        taken: Callable[[str], bool],
    ) -> None:
        self._session = session
        self._cells = cells
        self._waiting = waiting  # raw messages of the waiting requests, in order
        self._taken = taken  # a request already in a batch still running

    def anyone_waiting(self) -> bool:
        return next(iter(self._waiting()), None) is not None

    # -- planning ------------------------------------------------------------
    def join(
        self,
        first: Admitted,
        first_cell: str,
        registered: Mapping[str, str],
        execution_count: int,
    ) -> list[Member]:
        """The waiting requests whose cells run with ``first``'s, claimed.

        ``registered`` is the code of every cell the runtime has, by marimo
        id, the first's new code included; read only when some request waits.
        """
        if not self._may_lead(first):
            return []
        candidates = self._candidates(first)
        if not candidates:
            return []
        if any(_STATE in code for code in registered.values()):
            return []
        lead = names(first.rewritten.code)
        # A cell marimo cannot compile is in no graph: it defines and reads nothing.
        others = {i: names(code) or NOTHING for i, code in registered.items() if i != first_cell}
        if lead is None or lead.deletes or _conflicts(lead, others):
            return []
        defs = set(lead.defs).union(*(n.defs for n in others.values()))
        refs = set(lead.refs).union(*(n.refs for n in others.values()))
        members: list[Member] = []
        for request in candidates:
            found = names(request.rewritten.code)
            if found is None or found.deletes or found.defs & defs or found.defs & refs:
                break
            defs |= found.defs
            refs |= found.refs
            assert isinstance(request.cell_id, str)
            label = f"In[{execution_count + len(members) + 1}]"
            cell = self._cells.claim(request.rewritten.twin, request.cell_id, label)
            members.append(
                Member(request.msg_id, cell.marimo_id, request.rewritten.code, request.code)
            )
        return members

    def _may_lead(self, first: Admitted) -> bool:
        return (
            isinstance(first.cell_id, str)
            and not first.silent
            and first.store_history
            and first.stop_on_error
            and _ordinary(first)
        )

    def _candidates(self, first: Admitted) -> list[Admitted]:
        """The waiting requests that may join, in order, before any that may not."""
        found: list[Admitted] = []
        seen: set[str] = set()
        for raw in self._waiting():
            if len(found) >= MAX_BATCH:
                break
            request = self._read(raw)
            if (
                request is None
                or not isinstance(request.cell_id, str)
                or request.cell_id in seen
                or self._cells.by_jupyter(request.cell_id) is not None
                or request.silent
                or not request.store_history
                or not request.stop_on_error
                or request.allow_stdin != first.allow_stdin
                or self._taken(request.msg_id)
                or not _ordinary(request)
            ):
                break
            if not found and self._cells.unclaimed():
                break  # a new cellId might claim a twin's cell: not new
            seen.add(request.cell_id)
            found.append(request)
        return found

    def _read(self, raw: Any) -> Admitted | None:
        """A waiting request, read without consuming it."""
        parent = read_ahead(self._session, raw)
        return admitted(self._session, parent) if parent is not None else None


def _ordinary(request: Admitted) -> bool:
    """A plain run of one cell: nothing the kernel does besides running it."""
    code = request.rewritten.code
    deleted = request.cell_meta.get("deletedCells")
    return (
        not request.code.startswith(SCRATCH_MAGIC)
        and request.code.strip() != RUN_STALE
        and request.rewritten.auto_reload is None
        and not deleted
        and not any(word in code for word in _ASKS)
        and _STATE not in code
        # %run reads its script when rewritten: not before earlier cells ran
        # (a %%writefile of it), so not read ahead.
        and not runs_script(request.code)
    )


def _conflicts(lead: Names, others: dict[str, Names]) -> bool:
    """Whether the first cell would get a registration error: a name another
    cell defines too, or a cycle through it."""
    if any(n.defs & lead.defs for n in others.values()):
        return True
    readers: dict[str, list[str]] = {}
    for cid, found in others.items():
        for name in found.refs:
            readers.setdefault(name, []).append(cid)
    # A cycle: a cell that reads what the first defines (directly or through
    # others) defines something the first reads.
    frontier = [cid for name in lead.defs for cid in readers.get(name, ())]
    visited: set[str] = set()
    while frontier:
        cid = frontier.pop()
        if cid in visited:
            continue
        visited.add(cid)
        found = others[cid]
        if found.defs & lead.refs:
            return True
        frontier.extend(c for name in found.defs for c in readers.get(name, ()))
    return False
