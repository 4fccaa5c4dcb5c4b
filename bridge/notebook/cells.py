"""Which marimo cell a Jupyter request runs in.

A request with ``metadata.cellId`` names one marimo cell for the life of the
kernel. A request without one (nbclient, papermill, console) is a new cell,
unless its code defines exactly the same non-empty set of names as an earlier
id-less cell: then it replaces that cell, so running a cell twice in a
console, or papermill's injected parameters, does not fail as a redefinition.

Cells the kernel did not create from a request (loaded from the twin, created
by code mode) wait to be claimed: by the Jupyter id the .ipynb gives them
where one is known, else by identical code, else by the same non-empty set of
defined names. Claiming keeps the marimo cell, so its name and config survive.
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
    # False for a cell from the twin or code mode that no request ran yet.
    claimed: bool = True


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

    def new_id(self) -> str:
        return self._new_id()

    def by_jupyter(self, jupyter_id: str) -> Cell | None:
        return self._by_jupyter.get(jupyter_id)

    def unclaimed(self) -> bool:
        """Whether a cell of the twin or of code mode waits for a request."""
        return any(not c.claimed for c in self._by_marimo.values())

    def claim(self, code: str, jupyter_id: str | None, label: str) -> Cell:
        """The cell this request runs in, created if needed, code updated."""
        cell = self._by_jupyter.get(jupyter_id) if jupyter_id is not None else None
        # Re-running unchanged code is the common case: its names are known
        # (parsing a large cell on every run would cost milliseconds).
        defs = cell.defs if cell is not None and cell.code == code else defined_names(code)
        if cell is None:
            cell = self._match(code, defs, idless=jupyter_id is None)
        if cell is None:
            cell = Cell(marimo_id=self._new_id(), jupyter_id=None)
            self._by_marimo[cell.marimo_id] = cell
        if jupyter_id is not None and cell.jupyter_id is None:
            cell.jupyter_id = jupyter_id
            self._by_jupyter[jupyter_id] = cell
        cell.code, cell.defs, cell.label, cell.claimed = code, defs, label, True
        return cell

    def _match(self, code: str, defs: frozenset[str], idless: bool) -> Cell | None:
        """An existing id-less cell this request stands for, if any.

        Cells no request has run yet (from the twin or code mode) are taken by
        identical code, else by the same names. An id-less request may also
        replace an earlier id-less request's cell that defines the same names.
        """
        # A cell the .ipynb binds to one Jupyter cell is not another's to take;
        # id-less requests (nbclient on that .ipynb) still find it by its code.
        waiting = [
            c
            for c in self._by_marimo.values()
            if not c.claimed and (idless or c.jupyter_id is None)
        ]
        stripped = code.strip()
        for cell in waiting:
            if cell.code.strip() == stripped:
                return cell
        if not defs:
            return None
        for cell in waiting:
            if cell.defs == defs:
                return cell
        if idless:
            for cell in self._by_marimo.values():
                if cell.jupyter_id is None and cell.defs == defs:
                    return cell
        return None

    def adopt(self, marimo_id: str, code: str, label: str = "") -> Cell:
        """A cell that exists in the notebook but no request has run yet."""
        cell = Cell(
            marimo_id=marimo_id,
            jupyter_id=None,
            code=code,
            defs=defined_names(code),
            label=label,
            claimed=False,
        )
        self._by_marimo[marimo_id] = cell
        return cell

    def bind(self, jupyter_id: str, marimo_id: str) -> None:
        """The .ipynb says which Jupyter cell an unclaimed cell is."""
        cell = self._by_marimo.get(marimo_id)
        if cell is not None and cell.jupyter_id is None and jupyter_id not in self._by_jupyter:
            cell.jupyter_id = jupyter_id
            self._by_jupyter[jupyter_id] = cell

    def set_code(self, marimo_id: str, code: str) -> None:
        cell = self._by_marimo.get(marimo_id)
        if cell is not None:
            cell.code, cell.defs = code, defined_names(code)

    def forget(self, marimo_id: str) -> None:
        cell = self._by_marimo.pop(marimo_id, None)
        if cell is not None and cell.jupyter_id is not None:
            self._by_jupyter.pop(cell.jupyter_id, None)

    def defined_names(self) -> set[str]:
        """Every global name the cells define (completion's quick answer)."""
        return {name for cell in self._by_marimo.values() for name in cell.defs}

    def jupyter_ids(self) -> dict[str, str]:
        """marimo id -> Jupyter id, for every cell whose Jupyter id is known."""
        return {c.marimo_id: j for j, c in self._by_jupyter.items()}

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
