"""Which marimo cell a Jupyter request runs in.

A request with ``metadata.cellId`` names one marimo cell for the life of the
kernel. A request without one (nbclient, papermill, console) is a new cell,
unless its code defines exactly the same non-empty set of names as an earlier
id-less cell: then it replaces that cell, so running a cell twice in a
console, or papermill's injected parameters, does not fail as a redefinition.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from bridge.notebook.defs import defined_names

_ALPHABET = string.ascii_letters


@dataclass
class Cell:
    marimo_id: str
    jupyter_id: str | None
    code: str = ""
    defs: frozenset[str] = field(default_factory=frozenset)
    # What users call the cell in messages: the prompt of its last own run.
    label: str = ""


class CellRegistry:
    def __init__(self) -> None:
        self._by_marimo: dict[str, Cell] = {}
        self._by_jupyter: dict[str, Cell] = {}

    def __len__(self) -> int:
        return len(self._by_marimo)

    def get(self, marimo_id: str) -> Cell | None:
        return self._by_marimo.get(marimo_id)

    def _new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(_ALPHABET) for _ in range(4))
            if candidate not in self._by_marimo:
                return candidate

    def claim(self, code: str, jupyter_id: str | None, label: str) -> Cell:
        """The cell this request runs in, created if needed, code updated."""
        defs = defined_names(code)
        cell: Cell | None
        if jupyter_id is not None:
            cell = self._by_jupyter.get(jupyter_id)
        else:
            cell = self._match_idless(defs)
        if cell is None:
            cell = Cell(marimo_id=self._new_id(), jupyter_id=jupyter_id)
            self._by_marimo[cell.marimo_id] = cell
            if jupyter_id is not None:
                self._by_jupyter[jupyter_id] = cell
        cell.code, cell.defs, cell.label = code, defs, label
        return cell

    def _match_idless(self, defs: frozenset[str]) -> Cell | None:
        if not defs:
            return None
        for cell in self._by_marimo.values():
            if cell.jupyter_id is None and cell.defs == defs:
                return cell
        return None

    def forget_jupyter(self, jupyter_id: str) -> Cell | None:
        """Drop the cell a Jupyter frontend deleted; None if it is unknown."""
        cell = self._by_jupyter.pop(jupyter_id, None)
        if cell is not None:
            self._by_marimo.pop(cell.marimo_id, None)
        return cell

    def label(self, marimo_id: str) -> str:
        cell = self._by_marimo.get(marimo_id)
        if cell is None:
            return "the scratchpad" if marimo_id == "__scratch__" else f"Cell {marimo_id}"
        return f"Cell {cell.label}" if cell.label else f"Cell {marimo_id}"

    def clear(self) -> None:
        self._by_marimo.clear()
        self._by_jupyter.clear()
