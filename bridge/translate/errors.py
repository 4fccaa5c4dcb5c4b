"""marimo's typed errors to clear, human messages and Jupyter error fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.translate.traceback import Labeler


@dataclass(frozen=True)
class CellError:
    """One failure of one cell, as Jupyter's error fields want it."""

    ename: str
    evalue: str


def _cells(ids: Any, label: Labeler) -> str:
    return ", ".join(label(str(c)) for c in ids or ())


def _cycle(edges: Any, label: Labeler) -> str:
    steps = []
    for edge in edges or ():
        if len(edge) == 3:
            src, names, dst = edge
            steps.append(f"{label(str(src))} -({', '.join(names)})-> {label(str(dst))}")
    return "; ".join(steps)


# The bridge's own error item: a cell's value raised as it was formatted
# (bridge/runs/request.py); it has Jupyter's error fields.
FORMATTER = "bridge-formatter"


def describe(error: dict[str, Any], label: Labeler) -> CellError:
    """One marimo error (an item of a ``marimo-error`` output) in plain words."""
    kind = error.get("type")
    msg = str(error.get("msg") or "").strip()
    if is_ancestor_raised(error):
        return _ancestor_raised(error, label)
    if kind == "exception":
        raising = error.get("raising_cell")
        if raising and msg.endswith((" in", ":")):
            # marimo's own explanation ends where its frontend puts a link to
            # the cell it blames ("It was expected to be defined in ").
            msg = f"{msg} {label(str(raising))}"
        return CellError(str(error.get("exception_type") or "Exception"), msg)
    if kind == FORMATTER:
        return CellError(str(error.get("ename") or "Exception"), str(error.get("evalue") or ""))
    if kind == "interruption":
        return CellError("KeyboardInterrupt", "execution was interrupted")
    if kind == "multiple-defs":
        return CellError(
            "MultipleDefinitionError",
            f"name {error.get('name')!r} is defined in more than one cell; "
            f"it is also defined in {_cells(error.get('cells'), label)}. "
            "marimo allows each global name to be defined by one cell only: "
            "rename it, or delete the other cell",
        )
    if kind == "cycle":
        return CellError(
            "CycleError",
            "these cells depend on each other in a cycle: "
            + _cycle(error.get("edges_with_vars"), label),
        )
    if kind == "setup-refs":
        return CellError(
            "SetupCellError",
            "the setup cell may not refer to other cells' names: "
            + _cycle(error.get("edges_with_vars"), label),
        )
    if kind == "import-star":
        return CellError(
            "ImportStarError",
            "`import *` is not allowed in marimo: import the names you use "
            "(from numpy import array, arange); the cells reading them fail with a "
            "NameError until then",
        )
    if kind == "ancestor-prevented":
        blamed = error.get("blamed_cell")
        return CellError(
            "AncestorPrevented",
            f"not run because {label(str(error.get('raising_cell')))} failed"
            + (f" (via {label(str(blamed))})" if blamed else ""),
        )
    if kind == "ancestor-stopped":
        return CellError(
            "AncestorStopped",
            f"not run because {label(str(error.get('raising_cell')))} called mo.stop()",
        )
    if kind == "syntax":
        first = msg.splitlines()[-1] if msg else "invalid syntax"
        return CellError(
            "SyntaxError",
            first.removeprefix("SyntaxError: ") + ("\n" + msg if msg and "\n" in msg else ""),
        )
    if kind == "strict-exception":
        return CellError("StrictExecutionError", msg)
    if kind == "sql-error":
        return CellError("SQLError", msg)
    if kind == "internal":
        return CellError("MarimoInternalError", msg or "internal error in marimo")
    if kind == "unknown" and not error.get("error_type") and msg.startswith("Traceback"):
        # A cell marimo could not compile for a reason other than syntax
        # (code nested too deeply: RecursionError, MemoryError) comes as the
        # compiler's traceback; its last line is the error a user can act on.
        name, _, value = msg.splitlines()[-1].partition(": ")
        if name.isidentifier():
            return CellError(name, value or "the code is too complex for Python's compiler")
    return CellError(str(error.get("error_type") or "MarimoError"), msg or str(error))


# marimo's exception_type for a cell not run because an ancestor raised.
ANCESTOR_RAISED = "Ancestor raised"


def is_ancestor_raised(error: dict[str, Any]) -> bool:
    return error.get("type") == "exception" and error.get("exception_type") == ANCESTOR_RAISED


def has_traceback(error: dict[str, Any]) -> bool:
    """Whether the cell's traceback tells this error (a cell that did not
    run has none of its own: one shown would be from an earlier run)."""
    return error.get("type") == "exception" and not is_ancestor_raised(error)


def raised_type(msg: str) -> str:
    """The type in marimo's "An ancestor raised an exception (ZeroDivisionError): "."""
    start, end = msg.find("("), msg.find(")")
    return msg[start + 1 : end] if 0 <= start < end else "Exception"


def _ancestor_raised(error: dict[str, Any], label: Labeler) -> CellError:
    """A cell not run because a cell it reads from failed (what
    notebook/blame.py adds to marimo's item, when it could)."""
    raising = label(str(error.get("raising_cell")))
    cause = error.get("cause")
    if cause is None:  # marimo's own item, nothing added (notebook/blame.py)
        raised = raised_type(str(error.get("msg")))
        cause = {"type": "exception", "exception_type": raised, "msg": ""}
    why = ""
    if isinstance(cause, dict):
        told = describe(cause, label)
        why = f" ({told.ename}: {told.evalue})" if told.evalue else f" ({told.ename})"
    shared: dict[str, list[str]] = error.get("shared") or {}
    if shared:
        name, cells = next(iter(shared.items()))
        return CellError(
            "MultipleDefinitionError",
            f"not run: the name {name!r} it reads is defined in more than one cell "
            f"({_cells(cells, label)}), and {raising} failed{why}. "
            "marimo allows each global name to be defined by one cell only: "
            "rename it in all but one of them",
        )
    read = error.get("names") or []
    reads = f"it reads {', '.join(repr(n) for n in read)} from {raising}" if read else (
        f"it depends on {raising}"
    )
    return CellError(
        "AncestorRaised",
        f"not run: {reads}, which failed{why}. "
        f"When {raising} runs without error, this cell runs too",
    )


def is_stop(error: dict[str, Any]) -> bool:
    """``mo.stop()`` is a deliberate halt, not a failure of the run."""
    return error.get("type") == "ancestor-stopped"
