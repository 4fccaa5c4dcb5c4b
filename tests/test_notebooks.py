"""Whole notebooks through nbclient and papermill with kernel_name ``marimo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

EXAMPLES = Path(__file__).parent.parent / "examples"


def _notebook(*sources: str, tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "marimo", "display_name": "marimo", "language": "python"}
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src)
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    return nb


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(str(out.data.get("text/plain", "")))
    return "".join(parts)


def test_nbclient_runs_top_to_bottom_outputs_in_their_cells(tmp_path: Path) -> None:
    nb = _notebook("x = 2", "print('x is', x)", "y = x * 21\ny", "z = y + 1")
    NotebookClient(
        nb, kernel_name="marimo", timeout=60, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert _text(nb.cells[1]) == "x is 2\n"
    assert _text(nb.cells[2]) == "42"
    assert nb.cells[2].outputs[0].output_type == "execute_result"
    assert nb.cells[3].outputs == []


def test_nbclient_downstream_failure_raises(tmp_path: Path) -> None:
    nb = _notebook("x = 0", "r = 1 / x")
    client = NotebookClient(nb, kernel_name="marimo", timeout=60)
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert "ZeroDivisionError" in str(info.value)
    assert any(o.output_type == "error" for o in nb.cells[1].outputs)


def test_papermill_parameters_override(tmp_path: Path) -> None:
    nb = _notebook(
        "alpha = 1\nname = 'world'",
        "greeting = f'{name} x {alpha}'\nprint(greeting)",
        tags={0: ["parameters"]},
    )
    source = tmp_path / "in.ipynb"
    nbformat.write(nb, source)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(source), str(out), parameters={"alpha": 5, "name": "marimo"}, kernel_name="marimo"
    )
    result = nbformat.read(out, as_version=4)
    printed = next(c for c in result.cells if "greeting" in c.source)
    assert _text(printed) == "marimo x 5\n"


def test_papermill_reports_failure(tmp_path: Path) -> None:
    nb = _notebook("alpha = 1", "boom = 1 / (alpha - 1)", tags={0: ["parameters"]})
    source = tmp_path / "in.ipynb"
    nbformat.write(nb, source)
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name="marimo")
    assert info.value.ename == "ZeroDivisionError"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_examples_execute(name: str, tmp_path: Path) -> None:
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    NotebookClient(
        nb, kernel_name="marimo", timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert not any(o.output_type == "error" for c in nb.cells for o in c.get("outputs", []))


REAL = Path(__file__).parent / "notebooks" / "jupytext_text_outputs_and_images.ipynb"


def test_a_real_projects_notebook_runs_under_papermill_as_ipykernel_ran_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jupytext's notebook of output types (%matplotlib inline, display(),
    plt.show()), with the outputs ipykernel gave it: ours have the same
    kinds and mime types, cell by cell, and no error."""
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    nb = nbformat.read(REAL, as_version=4)
    # Its last cell is a NameError on purpose; it has no pip line of its own.
    nb.cells = [c for c in nb.cells if c.source != "undefined_variable"]
    nb.cells.insert(0, nbformat.v4.new_code_cell("!pip install numpy"))
    expected = {c.source: c.outputs for c in nb.cells if c.cell_type == "code"}
    source = tmp_path / "real.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name="marimo")
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    ran = {c.source: c.outputs for c in out.cells if c.cell_type == "code"}
    assert not any(o.output_type == "error" for outputs in ran.values() for o in outputs)
    assert "Requirement already satisfied: numpy" in ran["!pip install numpy"][0]["text"]

    def kinds(outputs: list[Any]) -> list[tuple[str, list[str]]]:
        return [(o.output_type, sorted(o.get("data", {}))) for o in outputs
                if o.output_type != "stream"]

    for code, outputs in expected.items():
        if outputs:  # the cells ipykernel gave rich outputs
            assert kinds(ran[code]) == kinds(outputs), code
