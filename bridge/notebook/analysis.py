"""What a cell defines and what it reads, as marimo's runtime will see it.

Run All batching (bridge/jupyter/batching.py) must know, before sending,
which cells would depend on which. The answer must be marimo's own, so this
asks marimo's compiler (``marimo._ast.compiler.compile_cell``, private: there
is no public way to analyse a cell; tests/unit/test_analysis.py fails loudly
when an upgrade moves it). The import is here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Names:
    defs: frozenset[str]
    refs: frozenset[str]
    # ``del name`` of a global: marimo makes the cell run after every cell
    # that reads the name, an order the names alone do not show.
    deletes: bool = False


NOTHING = Names(frozenset(), frozenset())


@lru_cache(maxsize=4096)
def names(code: str) -> Names | None:
    """The global names the cell defines and reads; None when marimo cannot
    compile it (a syntax error, a star import), which the runtime would
    report instead of running it."""
    from marimo._ast.compiler import compile_cell

    try:
        cell = compile_cell(code, cell_id="analysis")  # type: ignore[arg-type]
    except Exception:
        return None
    return Names(frozenset(cell.defs), frozenset(cell.refs), bool(cell.deleted_refs))
