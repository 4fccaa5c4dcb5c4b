"""Notebooks written for ipykernel by others, under both kernels (issue 20).

A few of tests/notebooks/corpus (``make corpus`` runs them all): as they
are, this kernel fails only where marimo's rules say so and loses no output
ipykernel shows; after ``python -m bridge convert`` every cell agrees with
ipykernel on the original.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from corpus import both_ways
from helpers import Notebook, execute
from nbclient import NotebookClient

CORPUS = Path(__file__).parent / "notebooks" / "corpus"
CHOSEN = [
    "wtop-03-Semantics-Variables.ipynb",  # one name, cell after cell
    "wtop-12-Generators.ipynb",
    "wtop-15-Preview-of-Data-Science-Tools.ipynb",  # NumPy, pandas, matplotlib
    "wtop-13-Modules-and-Packages.ipynb",  # from math import *, from numpy import *
]


@pytest.mark.parametrize("name", CHOSEN)
def test_a_notebook_written_for_ipykernel_as_it_is_and_converted(name: str) -> None:
    outcome = both_ways(CORPUS / name)
    as_is, converted = outcome.as_is, outcome.converted
    assert as_is.cells > 0
    assert set(as_is.causes) <= {"marimo's rules"}, as_is.details
    assert as_is.lost == 0, as_is.details
    assert converted.agree == converted.cells, converted.details
    assert converted.lost == 0, converted.details


def _idless_run(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        kernel_name="marimo",
        allow_errors=True,
        timeout=60,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env={**os.environ, **env})
    return nb


def test_the_first_multiple_definition_points_to_convert_once(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in ["x = 1", "x = 2\ny = 1", "y = 3\nz = 1"]]
    path = tmp_path / "old.ipynb"
    nbformat.write(nb, path)

    ran = _idless_run(path, {"MARIMO_BRIDGE_NOTEBOOK": str(path)})

    errors = [o for c in ran.cells for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["MultipleDefinitionError"] * 2
    first, second = ("\n".join(e.traceback) for e in errors)
    assert f"python -m bridge convert {path} -o {tmp_path / 'old-marimo.ipynb'}" in first
    assert "python -m bridge convert" not in second  # once per kernel


def test_with_a_cell_id_the_hint_is_under_the_cell(kc) -> None:
    nb = Notebook()
    nb.run(kc, "a", "w = 1")
    failed = nb.run(kc, "b", "w = 2")
    assert failed.status == "error"
    assert "python -m bridge convert NOTEBOOK.ipynb -o NEW.ipynb" in nb.shown("b")
    nb.run(kc, "c", "w = 3")
    assert "python -m bridge convert" not in nb.shown("c")
    assert execute(kc, "1 + 1", cell_id="d").status == "ok"


def test_the_converted_notebook_runs_with_a_fresh_kernel(tmp_path: Path) -> None:
    """The command as a user types it, then the kernel on its output."""
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(c)
        for c in [
            "import math\nr = 1", "import math\nr = r + 1\n%time area = math.pi * r", "area",
            "from math import *", "floor(area) + floor(sqrt(16))",
        ]
    ]
    nbformat.write(nb, tmp_path / "old.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "convert", "old.ipynb", "-o", "new.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "cell 2: r -> r_1" in done.stdout
    assert "cell 4: from math import * -> the 2 names of it the notebook reads" in done.stdout
    ran = _idless_run(tmp_path / "new.ipynb", {"MARIMO_BRIDGE_TWIN": "0"})
    assert not [o for c in ran.cells for o in c.outputs if o.output_type == "error"]
    assert "6.28" in str(ran.cells[2].outputs[0]["data"]["text/plain"])
    assert str(ran.cells[4].outputs[0]["data"]["text/plain"]) == "10"


def test_a_star_import_points_to_convert_and_its_readers_fail_as_marimo_says(
    tmp_path: Path,
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in ["from math import *", "sqrt(4)"]]
    path = tmp_path / "stars.ipynb"
    nbformat.write(nb, path)

    ran = _idless_run(path, {"MARIMO_BRIDGE_NOTEBOOK": str(path)})

    refused, reader = ([o for o in c.outputs if o.output_type == "error"] for c in ran.cells)
    assert [e.ename for e in refused] == ["ImportStarError"]
    assert "python -m bridge convert" in "\n".join(refused[0].traceback)
    assert [e.ename for e in reader] == ["NameError"]
