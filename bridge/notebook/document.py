"""The notebook document: ordered cells with id, code, name and config.

The bridge holds it as marimo's session does, and every change is a
transaction applied to it: Jupyter runs and deletions from the kernel, and the
``notebook-document-transaction`` messages the runtime emits (code mode).
Scratchpad requests carry its snapshot, so code mode sees the notebook.

marimo applies a transaction with a pass over every cell, so the kernel's
own changes (one per request) are kept, at most one per cell, and applied
as one transaction when marimo's document itself is needed (a scratchpad's
snapshot, a runtime transaction). Each cell's state as the twin saves it is
kept beside it, changed one cell at a time, so the twin's snapshot after a
request is a copy of a list, and nothing on a request's way is O(cells) in
Python.

marimo keeps its document and transaction types in the private
``marimo._messaging.notebook``; this module is the one place that imports
them (and ``CellConfig``), so an upgrade that moves them breaks here, loudly,
under tests/unit/test_document.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marimo._messaging.notebook import NotebookCell

log = logging.getLogger(__name__)

DEFAULT_NAME = "_"
CONFIG_KEYS = ("column", "disabled", "hide_code", "expand_output")


@dataclass(frozen=True)
class CellState:
    """One cell as the twin writer sees it (a copy, safe off the loop)."""

    id: str
    code: str
    name: str = DEFAULT_NAME
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """What a runtime transaction did to one cell, for the cell registry."""

    kind: str  # "create", "code" or "delete"
    cell_id: str
    code: str = ""


class Document:
    def __init__(self, cells: list[CellState] | None = None) -> None:
        from marimo._messaging.notebook import NotebookDocument

        self._doc = NotebookDocument([_to_marimo(c) for c in cells or []])
        # Bumped on every applied change; the twin writer saves on change.
        self.version = 0
        # Each cell as the twin saves it, by id, in the document's order:
        # marimo's document finds a cell by a scan, and every request asks
        # (is the code new?). None: rebuild from marimo's when asked.
        self._states: dict[str, CellState] | None = None
        # The kernel's own changes not yet applied to marimo's document, at
        # most one per cell: applying a transaction costs marimo a pass over
        # every cell, so they are applied together when the document itself
        # is read (the twin's save, a scratchpad's snapshot, a runtime
        # transaction), not on every request.
        self._pending: dict[str, Any] = {}

    def _state_map(self) -> dict[str, CellState]:
        if self._states is None:
            self._flush()
            self._states = {str(c.id): _from_marimo(c) for c in self._doc.cells}
        return self._states

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = tuple(self._pending.values()), {}
        version = self.version  # counted when each change was made
        self._apply(pending, "host")
        self.version = version

    def __len__(self) -> int:
        return len(self._state_map())

    def __contains__(self, cell_id: object) -> bool:
        return cell_id in self._state_map()

    @property
    def ids(self) -> list[str]:
        self._flush()
        return [str(i) for i in self._doc.cell_ids]

    def code(self, cell_id: str) -> str | None:
        state = self._state_map().get(cell_id)
        return state.code if state is not None else None

    def disabled(self, cell_id: str) -> bool:
        """Whether the cell is disabled (marimo's cell config, set in the
        twin or by code mode): marimo does not run it."""
        state = self._state_map().get(cell_id)
        return bool(state is not None and state.config.get("disabled"))

    def codes(self) -> Mapping[str, str]:
        """Every cell's code by id (a live, read-only view)."""
        return _Codes(self._state_map)

    def states(self) -> list[CellState]:
        return list(self._state_map().values())

    def snapshot(self) -> tuple[NotebookCell, ...]:
        """Copies of the cells, for a scratchpad command's ``notebook_cells``."""
        from msgspec.structs import replace

        self._flush()
        return tuple(replace(c, config=replace(c.config)) for c in self._doc.cells)

    # -- changes from the kernel ------------------------------------------
    def set_code(self, cell_id: str, code: str) -> bool:
        """Create the cell (at the end) or replace its code; True if changed."""
        from marimo._messaging.notebook import CreateCell, SetCode

        states = self._state_map()
        existing = states.get(cell_id)
        if existing is not None and existing.code == code:
            return False
        cid = _cell_id(cell_id)
        earlier = self._pending.get(cell_id)
        change: Any
        if existing is None:
            if earlier is not None:  # deleted, not yet applied: no re-use in one transaction
                self._flush()
            change = CreateCell(cell_id=cid, code=code, name=DEFAULT_NAME, config=_config({}))
            states[cell_id] = CellState(cell_id, code, DEFAULT_NAME, _default_config())
        else:
            if isinstance(earlier, CreateCell):
                change = CreateCell(cell_id=cid, code=code, name=DEFAULT_NAME, config=_config({}))
            else:
                change = SetCode(cell_id=cid, code=code)
            states[cell_id] = replace(existing, code=code)
        self._pending[cell_id] = change
        self.version += 1
        return True

    def delete(self, cell_id: str) -> bool:
        from marimo._messaging.notebook import CreateCell, DeleteCell

        states = self._state_map()
        if cell_id not in states:
            return False
        if isinstance(self._pending.get(cell_id), CreateCell):
            del self._pending[cell_id]  # never reached marimo's document
        else:
            self._pending[cell_id] = DeleteCell(cell_id=_cell_id(cell_id))
        del states[cell_id]
        self.version += 1
        return True

    # -- changes from the runtime -----------------------------------------
    def apply_runtime(self, transaction: dict[str, Any]) -> list[Change]:
        """Apply a runtime transaction; what it did to cells, for the registry.

        A transaction that does not apply (it names a cell this document has
        never seen) is dropped with a log line: the runtime's own document is
        the bridge's, so that only happens for bookkeeping we can ignore.
        """
        import msgspec
        from marimo._messaging.notebook import CreateCell, DeleteCell, SetCode, Transaction

        self._flush()  # the runtime's change comes after the kernel's
        try:
            tx = msgspec.convert(transaction, Transaction)
        except msgspec.ValidationError:
            log.warning("undecodable document transaction dropped: %r", transaction)
            return []
        changes = [c for c in tx.changes if _applies(c, self._doc)]
        if not changes or not self._apply(tuple(changes), tx.source):
            return []
        self._states = None  # rare (code mode): read again when next asked
        out: list[Change] = []
        for c in changes:
            if isinstance(c, CreateCell):
                out.append(Change("create", str(c.cell_id), c.code))
            elif isinstance(c, SetCode):
                out.append(Change("code", str(c.cell_id), c.code))
            elif isinstance(c, DeleteCell):
                out.append(Change("delete", str(c.cell_id)))
        return out

    def _apply(self, changes: tuple[Any, ...], source: Any) -> bool:
        from marimo._messaging.notebook import Transaction

        before = self._doc.version
        try:
            self._doc.apply(Transaction(changes=changes, source=source))
        except (ValueError, KeyError):
            log.warning("document transaction rejected: %r", changes, exc_info=True)
            self._states = None  # a part may have applied
            return False
        if self._doc.version != before:
            self.version += 1
        return True


class _Codes(Mapping[str, str]):
    """Each cell's code by id, read from the document's states."""

    def __init__(self, states: Callable[[], dict[str, CellState]]) -> None:
        self._states = states

    def __getitem__(self, cell_id: str) -> str:
        return self._states()[cell_id].code

    def __iter__(self) -> Iterator[str]:
        return iter(self._states())

    def __len__(self) -> int:
        return len(self._states())


def _applies(change: Any, doc: Any) -> bool:
    """Whether a runtime change can apply here (its cells and anchors exist)."""
    from marimo._messaging.notebook import CreateCell, ReorderCells

    if isinstance(change, ReorderCells):
        return True
    if isinstance(change, CreateCell):
        anchor = change.before if change.before is not None else change.after
        return change.cell_id not in doc and (anchor is None or anchor in doc)
    return bool(change.cell_id in doc)


def _from_marimo(cell: NotebookCell) -> CellState:
    return CellState(
        id=str(cell.id),
        code=cell.code,
        name=cell.name or DEFAULT_NAME,
        config={k: getattr(cell.config, k) for k in CONFIG_KEYS},
    )


_DEFAULT_CONFIG: dict[str, Any] = {}


def _default_config() -> dict[str, Any]:
    """A new cell's config as marimo's document gives it (a copy of its own)."""
    if not _DEFAULT_CONFIG:
        _DEFAULT_CONFIG.update({k: getattr(_config({}), k) for k in CONFIG_KEYS})
    return dict(_DEFAULT_CONFIG)


def _cell_id(cell_id: str) -> Any:
    from marimo._internal.ids import CellId_t

    return CellId_t(cell_id)


def _config(options: dict[str, Any]) -> Any:
    from marimo._ast.cell import CellConfig

    return CellConfig(**{k: v for k, v in options.items() if k in CONFIG_KEYS})


def _to_marimo(cell: CellState) -> NotebookCell:
    from marimo._messaging.notebook import NotebookCell

    return NotebookCell(
        id=_cell_id(cell.id), code=cell.code, name=cell.name, config=_config(cell.config)
    )


def cell_outputs(outputs: dict[str, Any], consoles: dict[str, list[Any]]) -> Any:
    """marimo's ``CellOutputs`` for a scratchpad command, from our structs."""
    import msgspec
    from marimo._messaging.cell_output import CellOutput
    from marimo._messaging.notebook.outputs import CellOutputs

    def convert(item: Any) -> Any:
        return msgspec.convert(msgspec.structs.asdict(item), CellOutput)

    return CellOutputs(
        output={_cell_id(k): convert(v) for k, v in outputs.items()},
        console_outputs={_cell_id(k): [convert(i) for i in v] for k, v in consoles.items()},
    )
