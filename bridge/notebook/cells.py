"""Which marimo cell a Jupyter request runs in.

A request with ``metadata.cellId`` names one marimo cell for the life of the
kernel. A request without one (nbclient, papermill, console) is a new cell,
unless its code defines exactly the same non-empty set of names as an earlier
id-less cell: then it replaces that cell, so running a cell twice in a
console, or papermill's injected parameters, does not fail as a redefinition.
Not when it also reads one of those names (``a += 2``): that is an update of
the earlier cell's value, a second definition in marimo's terms.

Cells the kernel did not create from a request (loaded from the twin, created
by code mode) wait to be claimed: by the Jupyter id the .ipynb gives them
where one is known, else by identical code, else by the same non-empty set of
defined names. Claiming keeps the marimo cell, so its name and config survive.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bridge.notebook.defs import bound_by, defined_names

_ALPHABET = string.ascii_letters


def _updates(code: str, defs: frozenset[str]) -> bool:
    """Whether the code reads a name it defines before binding it itself:
    marimo's analysis, and an augmented assignment at the cell's level
    (which marimo counts as a definition only) of a name no earlier
    statement of the cell bound."""
    import ast

    from bridge.notebook.analysis import names

    found = names(code)
    if found is None:
        return False
    if found.refs & defs:
        return True
    bound: set[str] = set()
    for statement in ast.parse(code).body:
        for node in _cell_level(statement):
            if (
                isinstance(node, ast.AugAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id in defs
                and node.target.id not in bound
            ):
                return True
        bound |= bound_by([statement])
    return False


def _cell_level(node: Any) -> Iterator[Any]:
    """The node and what it holds, functions' and classes' bodies aside."""
    import ast

    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            yield from _cell_level(child)


@dataclass
class Cell:
    marimo_id: str
    jupyter_id: str | None
    code: str = ""
    defs: frozenset[str] = field(default_factory=frozenset)
    # What users call the cell in messages: the prompt of its last own run.
    label: str = ""
    # False for a cell from the twin or code mode that no request ran yet.
    claimed: bool = True
    # When the registry made it: of several cells a request could stand
    # for, the earliest is taken.
    seq: int = 0


_Key = TypeVar("_Key")


class _Index(Generic[_Key]):
    """Cells by one key, so a claim looks at the cells it could take only."""

    def __init__(self) -> None:
        self._cells: dict[_Key, dict[str, Cell]] = {}

    def __bool__(self) -> bool:
        return bool(self._cells)

    def add(self, key: _Key, cell: Cell) -> None:
        self._cells.setdefault(key, {})[cell.marimo_id] = cell

    def remove(self, key: _Key, cell: Cell) -> None:
        held = self._cells.get(key)
        if held is not None:
            held.pop(cell.marimo_id, None)
            if not held:
                del self._cells[key]

    def first(self, key: _Key, idless: bool) -> Cell | None:
        """The earliest cell under ``key`` that an id-less request (or, if
        not ``idless``, a request with a new Jupyter id) may take."""
        held = self._cells.get(key)
        if not held:
            return None
        allowed = (c for c in held.values() if idless or c.jupyter_id is None)
        return min(allowed, key=lambda c: c.seq, default=None)


class CellRegistry:
    def __init__(self) -> None:
        self._by_marimo: dict[str, Cell] = {}
        self._by_jupyter: dict[str, Cell] = {}
        # marimo id -> Jupyter id: the twin's snapshot copies it whole.
        self._jupyter_of: dict[str, str] = {}
        self._made = 0
        # What a request without a known Jupyter id may stand for (_match),
        # kept up to date so that finding it is not a pass over every cell:
        # cells no request ran yet, by code and by names, and the cells of
        # id-less requests by names.
        self._waiting_code: _Index[str] = _Index()
        self._waiting_defs: _Index[frozenset[str]] = _Index()
        self._idless_defs: _Index[frozenset[str]] = _Index()

    def __len__(self) -> int:
        return len(self._by_marimo)

    def get(self, marimo_id: str) -> Cell | None:
        return self._by_marimo.get(marimo_id)

    def _new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(_ALPHABET) for _ in range(4))
            if candidate not in self._by_marimo:
                return candidate

    def new_id(self) -> str:
        return self._new_id()

    def by_jupyter(self, jupyter_id: str) -> Cell | None:
        return self._by_jupyter.get(jupyter_id)

    def unclaimed(self) -> bool:
        """Whether a cell of the twin or of code mode waits for a request."""
        return bool(self._waiting_code)  # every unclaimed cell is there

    def claim(self, code: str, jupyter_id: str | None, label: str) -> Cell:
        """The cell this request runs in, created if needed, code updated."""
        cell = self._by_jupyter.get(jupyter_id) if jupyter_id is not None else None
        # Re-running unchanged code is the common case: its names are known
        # (parsing a large cell on every run would cost milliseconds).
        defs = cell.defs if cell is not None and cell.code == code else defined_names(code)
        if cell is None:
            cell = self._match(code, defs, idless=jupyter_id is None)
        if cell is None:
            cell = self._add(Cell(marimo_id=self._new_id(), jupyter_id=None))
        self._unindex(cell)
        if jupyter_id is not None and cell.jupyter_id is None:
            self._set_jupyter(cell, jupyter_id)
        cell.code, cell.defs, cell.label, cell.claimed = code, defs, label, True
        self._index(cell)
        return cell

    def _match(self, code: str, defs: frozenset[str], idless: bool) -> Cell | None:
        """An existing id-less cell this request stands for, if any.

        Cells no request has run yet (from the twin or code mode) are taken by
        identical code, else by the same names. An id-less request may also
        replace an earlier id-less request's cell that defines the same names.
        A cell the .ipynb binds to one Jupyter cell is not another's to take;
        id-less requests (nbclient on that .ipynb) still find it by its code.
        """
        found = self._waiting_code.first(code.strip(), idless)
        if found is not None or not defs:
            return found
        found = self._waiting_defs.first(defs, idless)
        if found is None and idless:
            found = self._idless_defs.first(defs, idless=False)
            if found is not None and found.code != code and _updates(code, defs):
                # It reads a name it defines (``a += 2``, ``df =
                # df.dropna()``): it updates the value that cell made, which
                # replacing the cell would lose.
                found = None
        return found

    def adopt(self, marimo_id: str, code: str, label: str = "") -> Cell:
        """A cell that exists in the notebook but no request has run yet."""
        self.forget(marimo_id)
        cell = Cell(
            marimo_id=marimo_id,
            jupyter_id=None,
            code=code,
            defs=defined_names(code),
            label=label,
            claimed=False,
        )
        return self._add(cell)

    def bind(self, jupyter_id: str, marimo_id: str) -> None:
        """The .ipynb says which Jupyter cell an unclaimed cell is."""
        cell = self._by_marimo.get(marimo_id)
        if cell is not None and cell.jupyter_id is None and jupyter_id not in self._by_jupyter:
            self._unindex(cell)
            self._set_jupyter(cell, jupyter_id)
            self._index(cell)

    def set_code(self, marimo_id: str, code: str) -> None:
        cell = self._by_marimo.get(marimo_id)
        if cell is not None:
            self._unindex(cell)
            cell.code, cell.defs = code, defined_names(code)
            self._index(cell)

    def forget(self, marimo_id: str) -> None:
        cell = self._by_marimo.pop(marimo_id, None)
        if cell is not None:
            self._drop(cell)

    def defined_names(self) -> set[str]:
        """Every global name the cells define (completion's quick answer)."""
        return {name for cell in self._by_marimo.values() for name in cell.defs}

    def definers(self, name: str) -> list[str]:
        """The cells that define ``name``, oldest first (a pass over every
        cell: for explaining an error, not for a request's way)."""
        found = [cell for cell in self._by_marimo.values() if name in cell.defs]
        return [cell.marimo_id for cell in sorted(found, key=lambda c: c.seq)]

    def jupyter_ids(self) -> dict[str, str]:
        """marimo id -> Jupyter id, for every cell whose Jupyter id is known."""
        return dict(self._jupyter_of)

    def forget_jupyter(self, jupyter_id: str) -> Cell | None:
        """Drop the cell a Jupyter frontend deleted; None if it is unknown."""
        cell = self._by_jupyter.get(jupyter_id)
        if cell is not None:
            self._by_marimo.pop(cell.marimo_id, None)
            self._drop(cell)
        return cell

    def label(self, marimo_id: str) -> str:
        cell = self._by_marimo.get(marimo_id)
        if cell is None:
            return "the scratchpad" if marimo_id == "__scratch__" else f"Cell {marimo_id}"
        return f"Cell {cell.label}" if cell.label else f"Cell {marimo_id}"

    # -- bookkeeping -------------------------------------------------------
    def _add(self, cell: Cell) -> Cell:
        self._made += 1
        cell.seq = self._made
        self._by_marimo[cell.marimo_id] = cell
        self._index(cell)
        return cell

    def _drop(self, cell: Cell) -> None:
        self._unindex(cell)
        if cell.jupyter_id is not None:
            self._by_jupyter.pop(cell.jupyter_id, None)
            self._jupyter_of.pop(cell.marimo_id, None)

    def _set_jupyter(self, cell: Cell, jupyter_id: str) -> None:
        cell.jupyter_id = jupyter_id
        self._by_jupyter[jupyter_id] = cell
        self._jupyter_of[cell.marimo_id] = jupyter_id

    def _entries(self, cell: Cell) -> list[tuple[_Index[Any], Any]]:
        """Where the cell is indexed, by what it is now."""
        entries: list[tuple[_Index[Any], Any]] = []
        if not cell.claimed:
            entries.append((self._waiting_code, cell.code.strip()))
            if cell.defs:
                entries.append((self._waiting_defs, cell.defs))
        if cell.jupyter_id is None and cell.defs:
            entries.append((self._idless_defs, cell.defs))
        return entries

    def _index(self, cell: Cell) -> None:
        for index, key in self._entries(cell):
            index.add(key, cell)

    def _unindex(self, cell: Cell) -> None:
        """Before a change to what ``_entries`` reads of the cell."""
        for index, key in self._entries(cell):
            index.remove(key, cell)
