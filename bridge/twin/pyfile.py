"""marimo's .py notebook format: reading a twin and writing one.

Parsing and code generation are marimo's own (``marimo._internal.converters``
and its notebook IR in ``marimo._internal.schemas``), so the file is exactly
what ``marimo edit`` would write. The IR keeps what the cells do not: the
file's header (docstring, comments, PEP 723 script metadata) and the app's
options (width, title, ...), which a rewrite must carry over.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any

from bridge.ipython.shell import pip_from_twin
from bridge.notebook.document import DEFAULT_NAME, CellState
from bridge.twin.jupyter_builtins import with_display_import
from bridge.twin.script_deps import with_dependencies

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
    if (not ir.valid or not _soft(ir.violations)) and not _empty_as_written(text, ir):
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


def _empty_as_written(text: str, ir: Any) -> bool:
    """A notebook with no cells, exactly as render() writes one.

    marimo reads its own file for an app without cells with violations (the
    run guard is an "unexpected statement" where cells should be), yet such
    a file holds nothing a rewrite could lose: it is what we write when the
    last cell is deleted, or before the first one exists.
    """
    if not ir.valid or ir.cells:
        return False
    try:
        return render([], ir).strip() == text.strip()
    except Exception:
        return False


def render(cells: list[CellState], template: Any | None) -> str:
    """The .py text of ``cells``, with the template's header and app options."""
    cells = with_display_import(cells, SETUP_ID)
    try:
        return _render(cells, template)
    except (RecursionError, MemoryError):
        pass  # a cell too deeply nested for marimo's analysis: see below
    # marimo's codegen compiles and walks every cell, and writes one as
    # ``app._unparsable_cell`` (its code kept verbatim in a string) only when
    # that raises SyntaxError. Code nested too deeply for Python's compiler
    # (``1+1+...`` a few hundred terms deep) raises RecursionError instead and
    # fails the whole file, so no later save could land. Such cells are
    # written as unparsable cells too, exactly as marimo writes one: a
    # stand-in that is a syntax error goes through codegen, then its block
    # is replaced by the real code's. parse() reads the code back unchanged.
    from marimo._ast.codegen import generate_unparsable_cell

    stand_ins: dict[str, CellState] = {}
    safe: list[CellState] = []
    for cell in cells:
        if _analysable(cell.code):
            safe.append(cell)
            continue
        token = f"$bridge stand-in {secrets.token_hex(8)}$"  # not Python: unparsable
        stand_ins[token] = cell
        safe.append(dataclasses.replace(cell, code=token))
    text = _render(safe, template)
    for token, cell in stand_ins.items():
        name, config = cell.name or DEFAULT_NAME, _cell_config(cell)
        block = generate_unparsable_cell(token, name, config)
        if text.count(block) != 1:
            raise ValueError(f"cell {cell.id} could not be written: its code is too complex")
        text = text.replace(block, generate_unparsable_cell(cell.code, name, config))
    return text


def _render(cells: list[CellState], template: Any | None) -> str:
    from marimo._internal.converters import MarimoConvert
    from marimo._internal.schemas import serialization as ser

    from bridge.twin import codegen_speedup

    codegen_speedup.install()  # once: a render O(cells) instead of O(cells²)

    defs = [
        (ser.SetupCell if c.id == SETUP_ID else ser.CellDef)(
            code=c.code,
            name=SETUP_ID if c.id == SETUP_ID else (c.name or DEFAULT_NAME),
            options=_options(c),
        )
        for c in cells
    ]
    base = template if template is not None else ser.EMPTY_NOTEBOOK_SERIALIZATION
    ir = dataclasses.replace(base, cells=defs, violations=[], valid=True)
    packages = [p for c in cells for p in pip_from_twin(c.code)]
    if packages:
        old = ir.header.value if ir.header is not None else ""
        new = with_dependencies(old, packages)
        if new != old:
            header = ser.Header(lineno=0, col_offset=0, end_lineno=0, end_col_offset=0, value=new)
            ir = dataclasses.replace(ir, header=header)
    return str(MarimoConvert.from_ir(ir).to_py())


def _options(cell: CellState) -> dict[str, Any]:
    return {k: v for k, v in cell.config.items() if v is not None and v is not False}


def _cell_config(cell: CellState) -> Any:
    from marimo._ast.cell import CellConfig

    return CellConfig.from_dict(_options(cell))


def _analysable(code: str) -> bool:
    """False when marimo's codegen fails on ``code`` for its depth alone."""
    from marimo._ast.compiler import compile_cell
    from marimo._internal.ids import CellId_t

    try:
        compile_cell(code, cell_id=CellId_t("stand-in"))
    except (RecursionError, MemoryError):
        return False
    except Exception:
        return True  # a syntax error, or anything else: codegen's own path
    return True


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
