"""marimo's .py notebook format: reading a twin and writing one.

Parsing and code generation are marimo's own (``marimo._internal.converters``
and its notebook IR in ``marimo._internal.schemas``), so the file is exactly
what ``marimo edit`` would write. The IR keeps what the cells do not: the
file's header (docstring, comments, PEP 723 script metadata) and the app's
options (width, title, ...), which a rewrite must carry over.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bridge.notebook.document import DEFAULT_NAME, CellState

SETUP_ID = "setup"


class NotMarimoNotebook(Exception):
    """The file exists and is not a marimo notebook: it must not be written."""


@dataclass(frozen=True)
class Twin:
    """A parsed twin: its cells, in file order, and what surrounds them."""

    cells: list[CellState]
    ir: Any  # marimo's NotebookSerialization, reused as the template on save


def parse(text: str, new_id: Any) -> Twin:
    """Parse a .py; raise NotMarimoNotebook unless it is a marimo notebook.

    ``new_id()`` names each cell: ids are not stored in the file. The setup
    cell keeps marimo's fixed id, so the runtime runs it first as marimo does.
    Hard violations (anything marimo would not round-trip without loss) count
    as "not a notebook": writing over them could destroy what the user wrote.
    """
    from marimo._internal.converters import MarimoConvert

    try:
        ir = MarimoConvert.from_py(text).to_ir()
    except Exception as exc:  # marimo raises MarimoFileError, SyntaxError, ...
        raise NotMarimoNotebook(str(exc)) from exc
    if not ir.valid or not _soft(ir.violations):
        reasons = "; ".join(v.description for v in ir.violations) or "not a marimo notebook"
        raise NotMarimoNotebook(reasons)
    cells = [
        CellState(
            id=SETUP_ID if _is_setup(cell) else new_id(),
            code=cell.code,
            name=cell.name or DEFAULT_NAME,
            config=dict(cell.options),
        )
        for cell in ir.cells
    ]
    return Twin(cells=cells, ir=ir)


def render(cells: list[CellState], template: Any | None) -> str:
    """The .py text of ``cells``, with the template's header and app options."""
    from marimo._internal.converters import MarimoConvert
    from marimo._internal.schemas import serialization as ser

    defs = [
        (ser.SetupCell if c.id == SETUP_ID else ser.CellDef)(
            code=c.code,
            name=SETUP_ID if c.id == SETUP_ID else (c.name or DEFAULT_NAME),
            options={k: v for k, v in c.config.items() if v is not None and v is not False},
        )
        for c in cells
    ]
    base = template if template is not None else ser.EMPTY_NOTEBOOK_SERIALIZATION
    ir = dataclasses.replace(base, cells=defs, violations=[], valid=True)
    return str(MarimoConvert.from_ir(ir).to_py())


def _is_setup(cell: Any) -> bool:
    from marimo._internal.schemas import serialization as ser

    return isinstance(cell, ser.SetupCell)


def _soft(violations: list[Any]) -> bool:
    # marimo's own list of violations it corrects on save without loss
    # (missing run guard, missing __generated_with, an aliased import).
    soft = (
        "`marimo` is typically not imported",
        "Expected `__generated_with`",
        "Expected run guard",
    )
    return all(v.description.startswith(soft) for v in violations)
