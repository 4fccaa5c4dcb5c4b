"""``display``: a builtin in IPython and in this kernel's runtime, not in marimo.

A cell that calls ``display(...)`` without importing it runs in the kernel
(bridge/ipython/display.py makes it a builtin, as IPython does), but the
twin must run where marimo runs it. The import cannot go into each such
cell: two cells importing ``display`` both define it, which marimo refuses.
So the twin's setup cell (``with app.setup:``, whose names every cell sees)
imports it once, when some cell uses it and no cell defines it.
"""

from __future__ import annotations

import ast
import dataclasses

from bridge.notebook.defs import defined_names
from bridge.notebook.document import CellState

IMPORT = "from IPython.display import display"


def _uses_display(code: str) -> bool:
    if "display" not in code:  # most cells: no parse
        return False
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(
        isinstance(node, ast.Name) and node.id == "display" and isinstance(node.ctx, ast.Load)
        for node in ast.walk(tree)
    )


def with_display_import(cells: list[CellState], setup_id: str) -> list[CellState]:
    """``cells``, with ``display`` imported by the setup cell if a cell needs it."""
    if not any(_uses_display(c.code) for c in cells):
        return cells
    if any("display" in c.code and "display" in defined_names(c.code) for c in cells):
        return cells
    setup = next((c for c in cells if c.id == setup_id), None)
    if setup is None:
        return [CellState(id=setup_id, code=IMPORT, name=setup_id, config={}), *cells]
    code = f"{setup.code.rstrip()}\n{IMPORT}" if setup.code.strip() else IMPORT
    return [dataclasses.replace(c, code=code) if c is setup else c for c in cells]
