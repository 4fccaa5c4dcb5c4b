"""The notebook document applies the kernel's own changes lazily, one
transaction when the document is read; what it reads must be what applying
each change at once gives (bridge/notebook/document.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.notebook.document import CellState, Document

if TYPE_CHECKING:
    from marimo._messaging.notebook import NotebookCell

IDS = st.sampled_from(["a", "b", "c", "d"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), IDS, st.sampled_from(["x = 1", "y = 2", "z = 3"])),
        st.tuples(st.just("delete"), IDS, st.just("")),
        st.tuples(st.just("read"), IDS, st.just("")),
        st.tuples(st.just("runtime"), IDS, st.just("w = 4")),
        st.tuples(st.just("insert"), IDS, st.sampled_from(["e", "f"])),
    ),
    max_size=30,
)


def _apply(doc: Document, op: tuple[str, str, str], eager: bool) -> object:
    kind, cell, code = op
    if kind == "set":
        result: object = doc.set_code(cell, code)
    elif kind == "delete":
        result = doc.delete(cell)
    elif kind == "read":
        result = [(s.id, s.code) for s in doc.states()]
    elif kind == "runtime":  # code mode edits a cell the runtime knows
        tx = {"changes": [{"type": "set-code", "cellId": cell, "code": code}], "source": "code-mode"}
        result = [(c.kind, c.cell_id) for c in doc.apply_runtime(tx)]
    else:  # code mode inserts a cell before another, named and configured
        change = {
            "type": "create-cell",
            "cellId": code,
            "code": "v = 5",
            "name": "made",
            "config": {"hide_code": True},
            "before": cell,
        }
        tx = {"changes": [change], "source": "code-mode"}
        result = [(c.kind, c.cell_id) for c in doc.apply_runtime(tx)]
    if eager:
        doc.ids  # applies whatever is pending at once  # noqa: B018
    return result


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_lazy_changes_read_as_changes_applied_at_once(ops: list[tuple[str, str, str]]) -> None:
    lazy, eager = Document([CellState("a", "x = 0")]), Document([CellState("a", "x = 0")])
    for op in ops:
        assert _apply(lazy, op, eager=False) == _apply(eager, op, eager=True), op
        assert len(lazy) == len(eager)
        assert dict(lazy.codes()) == dict(eager.codes())
        # The states kept beside marimo's document are what it holds (read
        # from the eager one: reading the lazy one's would apply its changes).
        assert lazy.states() == [_state(c) for c in eager.snapshot()]
    assert lazy.ids == eager.ids
    assert lazy.states() == eager.states()
    assert [c.id for c in lazy.snapshot()] == [c.id for c in eager.snapshot()]


def _state(cell: NotebookCell) -> CellState:
    config = {k: getattr(cell.config, k) for k in ("column", "disabled", "hide_code", "expand_output")}
    return CellState(str(cell.id), cell.code, cell.name or "_", config)


def test_a_change_is_counted_at_once_and_reading_adds_no_version() -> None:
    doc = Document([CellState("a", "x = 0")])
    assert doc.set_code("a", "x = 1") and doc.version == 1
    assert doc.set_code("b", "y = 1") and doc.version == 2
    assert not doc.set_code("b", "y = 1") and doc.version == 2
    assert doc.ids == ["a", "b"] and doc.version == 2
    assert doc.delete("b") and doc.set_code("b", "y = 2") and doc.version == 4
    assert [(s.id, s.code) for s in doc.states()] == [("a", "x = 1"), ("b", "y = 2")]
