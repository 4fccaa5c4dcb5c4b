"""notebook/blame.py: marimo's word for a cell it did not run, mended."""

from __future__ import annotations

import json

from bridge.notebook.blame import Blame
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import LastOutputs
from bridge.runtime.messages import CellOp, decode
from bridge.translate.errors import describe


def error_op(cell: str, *errors: dict) -> CellOp:
    output = {"channel": "marimo-error", "mimetype": "application/vnd.marimo+error"}
    raw = {"op": "cell-op", "cell_id": cell, "output": {**output, "data": list(errors)}}
    note = decode(json.dumps(raw).encode())
    assert isinstance(note, CellOp)
    return note


def notebook() -> tuple[CellRegistry, LastOutputs, Blame, dict[str, str]]:
    cells, outputs = CellRegistry(), LastOutputs()
    ids = {}
    for label, code in [("1", "data = math.pi"), ("2", "data = 5"), ("3", "data + 1")]:
        ids[label] = cells.claim(code, f"j{label}", f"In[{label}]").marimo_id
    return cells, outputs, Blame(cells, outputs), ids


STOPPED = {"type": "ancestor-stopped", "msg": "...mo.stop: "}


def test_a_stop_that_was_a_failure_is_told_as_the_failure_with_the_name_read() -> None:
    cells, outputs, blame, ids = notebook()
    failure = {"type": "exception", "exception_type": "NameError", "msg": "math", "raising_cell": None}
    outputs.feed(error_op(ids["1"], failure))

    mended = blame.correct(error_op(ids["3"], {**STOPPED, "raising_cell": ids["1"]}))

    assert mended.output is not None
    [error] = mended.output.errors()
    assert error["exception_type"] == "Ancestor raised" and error["cause"] == failure
    assert error["names"] == ["data"]
    assert error["shared"] == {"data": [ids["1"], ids["2"]]}  # both define it
    told = describe(error, cells.label)
    assert told.ename == "MultipleDefinitionError"
    assert "'data'" in told.evalue and "Cell In[1], Cell In[2]" in told.evalue
    # Still marimo's type: code mode converts the cell's output to marimo's.
    outputs.feed(mended)
    outputs.snapshot()


def test_a_real_mo_stop_is_left_alone() -> None:
    _, outputs, blame, ids = notebook()
    stopped = error_op(ids["3"], {**STOPPED, "raising_cell": ids["1"]})
    assert blame.correct(stopped) is stopped  # the ancestor showed no failure
    ok = CellOp(cell_id=ids["1"])
    outputs.feed(ok)
    assert blame.correct(stopped) is stopped


def test_marimos_ancestor_raised_gets_the_ancestors_own_error() -> None:
    cells, outputs, blame, ids = notebook()
    cells.forget(ids["2"])
    failure = {"type": "exception", "exception_type": "ZeroDivisionError", "msg": "division by zero"}
    outputs.feed(error_op(ids["1"], failure))
    own = {
        "type": "exception",
        "exception_type": "Ancestor raised",
        "msg": "An ancestor raised an exception (ZeroDivisionError): ",
        "raising_cell": ids["1"],
    }
    [error] = blame.correct(error_op(ids["3"], own)).output.errors()  # type: ignore[union-attr]
    told = describe(error, cells.label)
    assert told.ename == "AncestorRaised"
    assert "'data' from Cell In[1]" in told.evalue
    assert "ZeroDivisionError: division by zero" in told.evalue
