"""No reply says "ok" for a cell that did not run (issue 19, item 1).

The notebook a user of ipykernel brings: a name defined twice, a cell whose
definer failed, a reader of both. Run through nbclient (no cellId, as
papermill and agents run it) and as JupyterLab runs it (cellIds), each cell
must reply what happened to it, and show it where that request shape shows
errors.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from helpers import Notebook, execute
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

CELLS = [
    "date = 1",
    "import math\ndate = 2",
    "data = math.pi\ndata",
    "data + 1",
    "data = 5\nax = 1",
    "daily = data * 2\nprint('ran')",
    "daily",
]
# (ename, what its evalue must name) for every cell; None: it succeeds.
EXPECTED: list[tuple[str, list[str]] | None] = [
    None,
    ("MultipleDefinitionError", ["'date'", "Cell In[1]"]),
    ("NameError", ["math"]),
    ("AncestorRaised", ["'data'", "Cell In[3]", "NameError"]),
    ("MultipleDefinitionError", ["'data'", "Cell In[3]"]),
    ("MultipleDefinitionError", ["'data'", "Cell In[3]", "Cell In[5]"]),
    ("NameError", ["daily", "Cell In[6]"]),
]


def _replies_of(nb: nbformat.NotebookNode) -> list[dict]:
    replies: list[dict] = []
    client = NotebookClient(nb, kernel_name="marimo", allow_errors=True, timeout=60)
    client.on_cell_executed = lambda cell, execute_reply, **_: replies.append(execute_reply)
    client.execute()
    return replies


def test_nbclient_cells_that_did_not_run_reply_error_and_show_it() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]

    replies = _replies_of(nb)

    assert len(replies) == len(CELLS)
    for cell, reply, expected in zip(nb.cells, replies, EXPECTED, strict=True):
        content = reply["content"]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if expected is None:
            assert content["status"] == "ok", cell.source
            assert not errors
            continue
        ename, named = expected
        assert content["status"] == "error", cell.source
        assert content["ename"] == ename, (cell.source, content)
        for fragment in named:
            assert fragment in content["evalue"], (cell.source, fragment, content["evalue"])
        # papermill reads the error output; nothing else ran (no 'ran' printed).
        assert [e.ename for e in errors] == [ename], cell.source
        assert "ran" not in "".join(o.get("text", "") for o in cell.outputs), cell.source
    # marimo's own words for these cells must not reach the user.
    shown = "".join(str(o) for cell in nb.cells for o in cell.outputs)
    assert "mo.stop" not in shown and "Ancestor raised" not in shown


def test_jupyterlab_cells_that_did_not_run_reply_error_and_show_it_in_place(kc) -> None:
    nb = Notebook()
    for i, (code, expected) in enumerate(zip(CELLS, EXPECTED, strict=True)):
        result = nb.run(kc, f"c{i}", code, stop_on_error=False)
        if expected is None:
            assert result.status == "ok", code
            continue
        ename, named = expected
        assert result.status == "error", code
        assert result.content["ename"] == ename, (code, result.content)
        for fragment in named:
            assert fragment in result.content["evalue"], (code, fragment)
        # Shown in the cell's own place, where its next run replaces it.
        assert ename in nb.shown(f"c{i}"), (code, nb.shown(f"c{i}"))
        assert "mo.stop" not in nb.shown(f"c{i}")
        assert "ran" not in nb.shown(f"c{i}").replace("not run", "")

    # When the definer is mended, the reader that did not run runs, in place.
    healed = nb.run(kc, "c2", "data = 3.0\ndata", stop_on_error=False)
    assert healed.status == "error"  # c4 still defines `data` too
    nb.run(kc, "c4", "ax = 1", stop_on_error=False)
    assert nb.shown("c3") == "4.0"
    assert "ran" in nb.shown("c5")


@pytest.mark.parametrize("anchored", [False, True])
def test_a_reader_of_a_cell_that_raised_earlier_is_an_error(kc, anchored: bool) -> None:
    def run(code: str, cell: str) -> object:
        return execute(kc, code, cell_id=cell if anchored else None, stop_on_error=False)

    assert run("a = 1 / 0", "A").status == "error"  # type: ignore[attr-defined]
    reader = run("b = a * 2\nprint('b ran')", "B")
    assert reader.status == "error"  # type: ignore[attr-defined]
    assert reader.content["ename"] == "AncestorRaised"  # type: ignore[attr-defined]
    evalue = reader.content["evalue"]  # type: ignore[attr-defined]
    assert "'a'" in evalue and "Cell In[1]" in evalue and "ZeroDivisionError" in evalue
    assert "b ran" not in reader.text()  # type: ignore[attr-defined]


def test_mo_stop_stays_a_success(kc) -> None:
    """A deliberate halt, as marimo documents it: the stopped cell and its
    readers reply ok and show nothing."""
    assert execute(kc, "import marimo as mo").status == "ok"
    stopped = execute(kc, "mo.stop(True)\ns = 1")
    assert stopped.status == "ok"
    reader = execute(kc, "s + 1\nprint('reader ran')")
    assert reader.status == "ok"
    assert "reader ran" not in reader.text()
    assert not reader.of_type("error")


def test_a_disabled_cell_and_its_readers_reply_that_they_did_not_run(kc) -> None:
    """marimo's cell config (set in the twin or by code mode) can disable a
    cell: marimo then neither runs it nor its readers, and says nothing."""
    made = execute(
        kc,
        "%%scratch\nimport marimo._code_mode as cm\nasync with cm.get_context() as ctx:\n"
        "    ctx.create_cell('dd = 5', disabled=True)",
    )
    assert made.status == "ok"
    for code in ("dd * 2\nprint('reader ran')", "dd = 5"):  # a reader; the cell itself
        result = execute(kc, code, stop_on_error=False)
        assert result.status == "error", code
        assert result.content["ename"] == "CellDisabled", result.content
        assert "disabled" in result.content["evalue"]
        assert "reader ran" not in result.text()
        assert result.of_type("error"), code
    assert execute(kc, "other = 1").status == "ok"


def test_a_reader_of_a_cycle_is_an_error_naming_the_cell_expected_to_define(kc) -> None:
    """marimo runs no cell of a cycle, nor their readers: each reply says so."""
    execute(kc, "p = q + 1", cell_id="P", stop_on_error=False)
    cycle = execute(kc, "q = p + 1", cell_id="Q", stop_on_error=False)
    assert cycle.status == "error" and cycle.content["ename"] == "CycleError"
    reader = execute(kc, "print('reader' + ' ran', p)", cell_id="R", stop_on_error=False)
    assert reader.status == "error"
    assert reader.content["ename"] == "NameError"
    assert "Cell In[1]" in reader.content["evalue"], reader.content
    assert "reader ran" not in reader.text()


def test_lazy_mode_runs_what_was_asked_and_says_so_when_a_stale_ancestor_fails(
    tmp_path: Path,
) -> None:
    """In lazy mode the kernel chooses not to run dependents: that is no
    failure of the request that made them stale (ok, with a stale notice in
    their place). A requested cell runs its stale ancestors first, as marimo
    does, and when one of them fails the request's reply is that failure."""
    (tmp_path / "pyproject.toml").write_text('[tool.marimo.runtime]\non_cell_change = "lazy"\n')
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    nb = Notebook()
    try:
        nb.run(kc, "A", "x = 1")
        nb.run(kc, "B", "y = x + 1\nprint('B ran', y)")
        nb.run(kc, "C", "print('C sees', y)")
        made_stale = nb.run(kc, "A", "x = 's'", stop_on_error=False)
        assert made_stale.status == "ok"  # B and C were not asked to run
        assert "stale" in nb.shown("B") and "stale" in nb.shown("C")

        reader = nb.run(kc, "C", "print('C sees', y)", stop_on_error=False)
        assert reader.status == "error"
        assert reader.content["ename"] == "AncestorRaised", reader.content
        evalue = reader.content["evalue"]
        assert "'y'" in evalue and "Cell In[2]" in evalue and "TypeError" in evalue
        assert "TypeError" in nb.shown("B")  # the stale ancestor ran, in its place
        assert "C sees" not in nb.shown("C") and "AncestorRaised" in nb.shown("C")

        nb.run(kc, "A", "x = 2")
        healed = nb.run(kc, "C", "print('C sees', y)")
        assert healed.status == "ok" and "C sees 3" in nb.shown("C")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
