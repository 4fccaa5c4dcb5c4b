"""The twin's cell order, taken from the .ipynb when it can be read.

The frontend owns the .ipynb; the kernel only reads it. A document cell is
found in it by its Jupyter id (JupyterLab's cellId is the nbformat id) or,
failing that, by identical source. Found cells take the notebook's order;
cells it does not have (loaded from the twin, created by code mode, or run
since the last save of the .ipynb) keep their places among them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.ipython.rewrite import rewrite


@dataclass(frozen=True)
class NotebookCell:
    id: str | None
    source: str


class NotebookReader:
    """Reads the .ipynb's code cells, again only when the file changed."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._cells: list[NotebookCell] | None = None

    def cells(self) -> list[NotebookCell] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp, self._cells = stamp, read_cells(self.path)
        return self._cells


def cell_source(cell: dict[str, Any]) -> str:
    """A notebook cell's source: nbformat allows a string or a list of lines."""
    source = cell.get("source", "")
    return "".join(str(s) for s in source) if isinstance(source, list) else str(source)


def read_cells(path: Path) -> list[NotebookCell] | None:
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    out = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        cell_id = cell.get("id")
        # The document holds a cell's code as marimo runs it (magics rewritten).
        code = rewrite(cell_source(cell)).twin
        out.append(NotebookCell(cell_id if isinstance(cell_id, str) else None, code))
    return out


def align(
    codes: Sequence[tuple[str, str | None, str]], notebook: list[NotebookCell]
) -> dict[str, int]:
    """Position in the notebook of each document cell found there.

    ``codes`` is (cell id, Jupyter id or None, code) in document order. Ids
    win; identical sources are matched in order, each notebook cell once.
    """
    by_id = {c.id: i for i, c in enumerate(notebook) if c.id is not None}
    taken: set[int] = set()
    found: dict[str, int] = {}
    for cell_id, jupyter_id, _code in codes:
        if jupyter_id is not None and jupyter_id in by_id and by_id[jupyter_id] not in taken:
            found[cell_id] = by_id[jupyter_id]
            taken.add(by_id[jupyter_id])
    by_source: dict[str, list[int]] = {}
    for i, c in enumerate(notebook):
        if i not in taken:
            by_source.setdefault(c.source.strip(), []).append(i)
    for cell_id, _jupyter_id, code in codes:
        if cell_id in found:
            continue
        slots = by_source.get(code.strip())
        if slots:
            found[cell_id] = slots.pop(0)
    return found


def ordered(ids: list[str], positions: dict[str, int]) -> list[str]:
    """``ids`` with the found cells in notebook order, the others in place."""
    found = sorted((i for i in ids if i in positions), key=positions.__getitem__)
    it = iter(found)
    return [next(it) if i in positions else i for i in ids]
