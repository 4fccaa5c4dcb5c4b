"""Run the example notebooks through the ``marimo`` kernel with nbclient.

Prints each cell's code and outputs, then edits one cell of reactive.ipynb,
re-runs only that cell, and shows the dependents that updated themselves,
and the marimo twin the kernel kept of it (written to a temporary folder).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent


def show(nb: nbformat.NotebookNode, title: str) -> None:
    print(f"\n=== {title}")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        print(f"--- [{i}] " + cell.source.replace("\n", "\n        "))
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text = out.text
            elif out.output_type == "error":
                text = f"{out.ename}: {out.evalue}"
            else:
                text = str(out.data.get("text/plain", ""))
            if text.strip():
                print("    > " + text.rstrip().replace("\n", "\n    > "))


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="marimo-demo-"))
    try:
        return run(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path) -> int:
    for name in ("reactive.ipynb", "parameters.ipynb"):
        shutil.copy(HERE / name, folder / name)
        nb = nbformat.read(folder / name, as_version=4)
        # nbclient names no notebook: tell the kernel where it is, so it
        # keeps the marimo twin (reactive.py) beside it.
        os.environ["MARIMO_BRIDGE_NOTEBOOK"] = str(folder / name)
        client = NotebookClient(nb, kernel_name="marimo", timeout=120)
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            show(nb, f"{name}: run top to bottom")
            if name == "reactive.ipynb":
                edited = next(i for i, c in enumerate(nb.cells) if c.source.startswith("price"))
                nb.cells[edited].source = "price = 20.0\nquantity = 4"
                client.execute_cell(nb.cells[edited], edited)
                show(nb, "after editing the price cell and running only it "
                         "(dependents re-ran and updated in place)")
        if name == "reactive.ipynb":
            twin = folder / "reactive.py"
            print(f"\n=== the marimo twin the kernel kept: {twin.name}\n")
            print(twin.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
