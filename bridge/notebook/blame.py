"""Why a cell did not run, in words that are true.

marimo does not run a cell that reads a name from a cell that failed: it
sends the cell an error item instead of running it. Two of those items need
mending before anyone reads them:

* A cell whose ancestor failed in an *earlier* run is told
  ``ancestor-stopped`` ("called mo.stop()") whenever marimo kept no Python
  exception for the ancestor: a NameError marimo explained itself, a missing
  module, a multiple definition. marimo then makes up a ``MarimoStopError``
  (``cell_runner.py``, where ``_find_first_blocked_missing_ref`` is called).
  A real ``mo.stop()`` leaves the stopped cell an ordinary output, never a
  ``marimo-error``; so an ancestor whose latest output is a failure did not
  stop, it failed.
* An ancestor that raised is ``exception`` with ``exception_type`` "Ancestor
  raised": neither the name read nor the ancestor's own error is said.

Both become marimo's own item for an ancestor that raised (``exception``,
"Ancestor raised": what marimo says when it kept the exception), so code
mode and marimo's types still read it, with what a reader needs added
beside marimo's fields: the names the cell reads from the failed cell
(``names``), those of them that more than one cell defines (``shared``), and
the failed cell's own error (``cause``); ``translate/errors.py`` puts them in
words. A real ``mo.stop()`` stays ``ancestor-stopped``: a success.
"""

from __future__ import annotations

from typing import Any

import msgspec

from bridge.notebook.analysis import names
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import LastOutputs
from bridge.runtime.messages import CellOp
from bridge.translate.errors import ANCESTOR_RAISED, is_ancestor_raised, raised_type


class Blame:
    def __init__(self, cells: CellRegistry, outputs: LastOutputs) -> None:
        self._cells = cells
        self._outputs = outputs

    def correct(self, op: CellOp) -> CellOp:
        """``op`` with its did-not-run errors told truthfully (the same op
        when there is nothing to mend: the common case costs one look)."""
        output = op.output
        if output is None or output.channel != "marimo-error":
            return op
        errors = output.errors()
        mended = [self._mend(op.cell_id, error) for error in errors]
        if all(new is old for new, old in zip(mended, errors, strict=True)):
            return op
        return msgspec.structs.replace(op, output=msgspec.structs.replace(output, data=mended))

    def _mend(self, cell: str, error: dict[str, Any]) -> dict[str, Any]:
        kind = error.get("type")
        raising = error.get("raising_cell")
        if not isinstance(raising, str) or raising == cell:
            return error
        if kind == "ancestor-stopped":
            cause = self._failure(raising)
            if cause is None:
                return error  # a real mo.stop()
        elif is_ancestor_raised(error):
            cause = self._failure(raising) or {
                "type": "exception",
                "exception_type": raised_type(str(error.get("msg") or "")),
                "msg": "",
            }
        else:
            return error
        read = self._reads_from(cell, raising)
        raised = cause.get("exception_type") or cause.get("type")
        return {
            "type": "exception",
            "exception_type": ANCESTOR_RAISED,
            "msg": f"An ancestor raised an exception ({raised}): ",
            "raising_cell": raising,
            "names": read,
            "shared": {
                name: definers
                for name in read
                if len(definers := self._cells.definers(name)) > 1
            },
            "cause": cause,
        }

    def _failure(self, cell: str) -> dict[str, Any] | None:
        """The cell's own failure, if its latest output is one."""
        output = self._outputs.output(cell)
        if output is None or output.channel != "marimo-error":
            return None
        for error in output.errors():
            if error.get("type") != "ancestor-stopped":
                return error
        return None

    def _reads_from(self, cell: str, raising: str) -> list[str]:
        """The names ``cell`` reads that ``raising`` defines (or would)."""
        reader, definer = self._cells.get(cell), self._cells.get(raising)
        if reader is None or definer is None:
            return []
        found = names(reader.code)
        refs = found.refs if found is not None else frozenset()
        return sorted(refs & definer.defs)
