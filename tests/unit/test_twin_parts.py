"""The twin's pure parts: file format, order, location, document, writer."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from helpers import read_only

from bridge.notebook.document import CellState, Document
from bridge.twin import location, order, pyfile
from bridge.twin.writer import Snapshot, TwinWriter

NOTEBOOK = '''# /// script
# dependencies = ["marimo"]
# ///
"""A notebook with everything a rewrite must keep."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Kept")

with app.setup:
    import math


@app.cell(hide_code=True)
def first():
    x = 1
    return (x,)


@app.cell
def _(x):
    y = x + 1
    return


if __name__ == "__main__":
    app.run()
'''


def ids() -> object:
    counter = itertools.count()
    return lambda: f"c{next(counter)}"


def test_parse_keeps_cells_names_configs_and_setup() -> None:
    twin = pyfile.parse(NOTEBOOK, ids())
    assert [(c.id, c.name, c.code) for c in twin.cells] == [
        ("setup", "setup", "import math"),
        ("c0", "first", "x = 1"),
        ("c1", "_", "y = x + 1"),
    ]
    assert twin.cells[1].config["hide_code"] is True


def test_render_round_trips_header_app_options_names_and_configs() -> None:
    twin = pyfile.parse(NOTEBOOK, ids())
    assert pyfile.render(twin.cells, twin.ir) == NOTEBOOK
    changed = [twin.cells[0], twin.cells[1], CellState("c1", "y = x + 2")]
    text = pyfile.render(changed, twin.ir)
    assert '"""A notebook with everything a rewrite must keep."""' in text
    assert "# dependencies = [\"marimo\"]" in text
    assert 'app = marimo.App(width="medium", app_title="Kept")' in text
    assert "@app.cell(hide_code=True)\ndef first():" in text
    assert "y = x + 2" in text


def test_a_twin_without_cells_reads_back_with_its_header_and_options() -> None:
    # marimo reads its own file for an app with no cells with violations; the
    # kernel writes one when the last cell is deleted or before the first runs.
    empty = pyfile.render([], pyfile.parse(NOTEBOOK, ids()).ir)
    twin = pyfile.parse(empty, ids())
    assert twin.cells == []
    assert pyfile.render([CellState("c1", "x = 1")], twin.ir).startswith(NOTEBOOK[:40])
    assert pyfile.parse(pyfile.render([], None), ids()).cells == []
    with pytest.raises(pyfile.NotMarimoNotebook):  # anything more is not ours to rewrite
        pyfile.parse(empty.replace("\n\n\nif __name__", "\nprint(1)\n\nif __name__"), ids())


def test_too_deeply_nested_code_is_written_as_an_unparsable_cell() -> None:
    # marimo's codegen fails on it (RecursionError); the twin must still save.
    deep = "deep = " + "+".join(["1"] * 600)
    cells = [CellState("a", "x = 1"), CellState("b", deep, "named"), CellState("c", "y = x")]
    text = pyfile.render(cells, None)
    assert "app._unparsable_cell(" in text
    assert [c.code for c in pyfile.parse(text, ids()).cells] == ["x = 1", deep, "y = x"]


@pytest.mark.parametrize(
    "text",
    [
        "import os\n\ndef main():\n    print(os.getcwd())\n",
        "# %%\nx = 1\n# %%\nprint(x)\n",  # a jupytext percent script
        "# just a comment\n",
        "def broken(:\n",
    ],
)
def test_anything_but_a_marimo_notebook_is_refused(text: str) -> None:
    with pytest.raises(pyfile.NotMarimoNotebook):
        pyfile.parse(text, ids())


def test_align_by_id_then_by_identical_source_each_once() -> None:
    nb = [
        order.NotebookCell("j1", "a = 1"),
        order.NotebookCell("j2", "print(a)"),
        order.NotebookCell("j3", "print(a)"),
    ]
    codes = [("m3", None, "print(a)"), ("m1", "j1", "a = 2"), ("m4", None, "print(a)")]
    assert order.align(codes, nb) == {"m1": 0, "m3": 1, "m4": 2}


def test_ordered_moves_found_cells_and_keeps_others_in_place() -> None:
    ids_ = ["a", "x", "b", "c"]
    assert order.ordered(ids_, {"a": 2, "b": 0, "c": 1}) == ["b", "x", "c", "a"]
    assert order.ordered(ids_, {}) == ids_


def test_location_order_of_sources(tmp_path: Path) -> None:
    conn = tmp_path / "kernel.json"
    conn.write_text('{"jupyter_session": "/n/from_conn.ipynb"}')
    assert location.from_launch({}, str(conn)) == Path("/n/from_conn.ipynb")
    env = {"JPY_SESSION_NAME": "/n/session.ipynb"}
    assert location.from_launch(env, str(conn)) == Path("/n/session.ipynb")
    env[location.NOTEBOOK_ENV] = "/n/explicit.ipynb"
    assert location.from_launch(env, str(conn)) == Path("/n/explicit.ipynb")
    assert location.from_launch({}, None) is None
    code = 'import os\n__vsc_ipynb_file__ = "/home/u/nb.ipynb"\n%matplotlib inline\n'
    assert location.from_vscode(code) == Path("/home/u/nb.ipynb")
    assert location.from_vscode("x = 1") is None
    assert location.twin_path(Path("/n/a.ipynb"), {}) == Path("/n/a.py")
    assert location.twin_path(Path("/n/a.ipynb"), {location.SUFFIX_ENV: ".mo.py"}) == Path(
        "/n/a.mo.py"
    )
    assert not location.enabled({location.SWITCH_ENV: "0"})


def test_document_applies_code_mode_transactions() -> None:
    # Also guards the private marimo import: an upgrade that moves
    # marimo._messaging.notebook fails here.
    doc = Document([CellState("a", "x = 1")])
    tx = {
        "changes": [
            {
                "type": "create-cell",
                "cellId": "b",
                "code": "y = x",
                "name": "",
                "config": {"column": None, "disabled": False, "hide_code": True, "expand_output": False},
                "before": "a",
                "after": None,
            },
            {"type": "set-code", "cellId": "a", "code": "x = 2"},
        ],
        "source": "code-mode",
        "version": None,
    }
    changes = doc.apply_runtime(tx)
    assert [(c.kind, c.cell_id) for c in changes] == [("create", "b"), ("code", "a")]
    assert doc.ids == ["b", "a"] and doc.code("a") == "x = 2"
    assert doc.states()[0].config["hide_code"] is True
    assert doc.apply_runtime({"changes": [{"type": "delete-cell", "cellId": "zz"}], "source": "kernel"}) == []
    assert doc.apply_runtime({"bogus": 1}) == []
    assert doc.delete("b") and doc.ids == ["a"]


def _writer(path: Path, on_disk: str | None, calls: list[int] | None = None) -> TwinWriter:
    def render(cells: list[CellState]) -> str:
        if calls is not None:
            calls.append(len(cells))
        return "".join(f"{c.id}:{c.code}\n" for c in cells)

    return TwinWriter(path, on_disk, order.NotebookReader(None), render)


def test_writer_writes_atomically_and_skips_unchanged_text(tmp_path: Path) -> None:
    path = tmp_path / "nb.py"
    writer = _writer(path, None)
    writer.submit(Snapshot(1, [CellState("a", "x = 1")], {}))
    assert writer.flush()
    assert path.read_text() == "a:x = 1\n"
    stamp = path.stat().st_mtime_ns
    writer.submit(Snapshot(2, [CellState("a", "x = 1")], {}))
    assert writer.flush()
    assert writer.writes == 1 and path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == ["nb.py"]  # no temp files left
    writer.close()


def test_writer_never_overwrites_a_file_changed_by_someone_else(tmp_path: Path) -> None:
    path = tmp_path / "nb.py"
    path.write_text("theirs\n")
    writer = _writer(path, "ours\n")
    writer.submit(Snapshot(1, [CellState("a", "x = 1")], {}))
    assert writer.flush()
    assert path.read_text() == "theirs\n"
    failure = writer.take_failure()
    assert failure is not None and "changed outside" in failure
    assert writer.take_failure() is None  # told once
    writer.close()


def test_writer_coalesces_a_burst_and_writes_the_last_state(tmp_path: Path) -> None:
    path = tmp_path / "nb.py"
    calls: list[int] = []
    writer = _writer(path, None, calls)
    for n in range(1, 1001):
        writer.submit(Snapshot(n, [CellState(f"c{i}", "pass") for i in range(n)], {}))
    assert writer.flush()
    assert len(calls) < 1000
    assert path.read_text().count("\n") == 1000
    writer.close()


def test_writer_reports_a_failed_save_then_retries(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "nb.py"
    writer = _writer(path, None)
    with read_only(folder):
        writer.submit(Snapshot(1, [CellState("a", "x = 1")], {}))
        assert writer.flush()
        failure = writer.take_failure()
        assert failure is not None and "could not save" in failure
    writer.submit(Snapshot(2, [CellState("a", "x = 2")], {}))
    assert writer.flush()
    assert path.read_text() == "a:x = 2\n"
    writer.close()


def test_writer_pauses_after_a_costly_save_and_a_flush_does_not_wait(tmp_path: Path) -> None:
    """A large notebook's save costs marimo's codegen a long pass (0.35 s at
    1,000 cells); during a burst the writer leaves the kernel most of the
    time (SAVE_SHARE), saves the last state when the pause is over, and a
    shutdown's flush saves it at once."""
    path = tmp_path / "nb.py"
    renders: list[int] = []

    def costly(cells: list[CellState]) -> str:
        renders.append(len(cells))
        spent = time.thread_time() + 0.25  # CPU, as codegen spends it
        while time.thread_time() < spent:
            pass
        return "".join(f"{c.id}:{c.code}\n" for c in cells)

    def written(text: str) -> bool:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if path.exists() and path.read_text() == text:
                return True
            time.sleep(0.01)
        return False

    writer = TwinWriter(path, None, order.NotebookReader(None), costly)
    writer.submit(Snapshot(1, [CellState("a", "x = 1")], {}))  # the first: at once
    assert written("a:x = 1\n")
    writer.submit(Snapshot(2, [CellState("a", "x = 2")], {}))
    time.sleep(0.1)  # the pause after a save of 0.25 s of CPU is a second
    assert len(renders) == 1, "the next save started at once"
    assert written("a:x = 2\n"), "the paused snapshot was never saved"
    writer.submit(Snapshot(3, [CellState("a", "x = 3")], {}))
    assert writer.flush()
    assert path.read_text() == "a:x = 3\n"
    writer.close()
