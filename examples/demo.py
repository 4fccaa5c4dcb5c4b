"""Run the example notebooks through the ``marimo`` kernel with nbclient.

Prints each cell's code and outputs, then edits one cell of reactive.ipynb,
re-runs only that cell, and shows the dependents that updated themselves,
and the marimo twin the kernel kept of it (written to a temporary folder).
Then habits.ipynb: magics, shell commands, display() and clear_output(), a
script magic and %run, a wildcard search, the output history (``_``),
%%capture, and the plain
Python its twin holds for them. Then
ipykernel.ipynb, a notebook written for ipykernel: run as it is, the cell
that defines ``x`` again fails with marimo's MultipleDefinitionError and the
way over; ``python -m bridge convert`` renames it, and the converted
notebook runs top to bottom, its figure shown as Jupyter's inline backend
shows it. Last, a widget: a
``mo.ui.slider`` is a Jupyter widget, and moving it (a comm message, as
JupyterLab's widget manager sends one) re-runs the cell that reads it, whose
output is updated in its own place.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel
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
                hints = [line for line in out.traceback if line.startswith("Hint:")]
                text = "\n".join([f"{out.ename}: {out.evalue}", *hints])
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
    for name in ("reactive.ipynb", "parameters.ipynb", "habits.ipynb"):
        shutil.copy(HERE / name, folder / name)
        nb = nbformat.read(folder / name, as_version=4)
        # nbclient names no notebook: tell the kernel where it is, so it
        # keeps the marimo twin (reactive.py) beside it.
        os.environ["MARIMO_BRIDGE_NOTEBOOK"] = str(folder / name)
        # Run in the temporary folder: habits.ipynb writes a file.
        client = NotebookClient(
            nb, kernel_name="marimo", timeout=120, resources={"metadata": {"path": str(folder)}}
        )
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            show(nb, f"{name}: run top to bottom")
            if name == "reactive.ipynb":
                edited = next(i for i, c in enumerate(nb.cells) if c.source.startswith("price"))
                nb.cells[edited].source = "price = 20.0\nquantity = 4"
                client.execute_cell(nb.cells[edited], edited)
                show(
                    nb,
                    "after editing the price cell and running only it "
                    "(dependents re-ran and updated in place)",
                )
        if name in ("reactive.ipynb", "habits.ipynb"):
            twin = folder / name.replace(".ipynb", ".py")
            print(f"\n=== the marimo twin the kernel kept: {twin.name}\n")
            print(twin.read_text())
    brought_over(folder)
    widgets(folder)
    return 0


def brought_over(folder: Path) -> None:
    """ipykernel.ipynb as it is, then after ``python -m bridge convert``."""
    import subprocess

    # Written for ipykernel: kept apart from the examples that run as they are.
    shutil.copy(HERE / "for-ipykernel" / "ipykernel.ipynb", folder / "ipykernel.ipynb")
    os.environ["MARIMO_BRIDGE_NOTEBOOK"] = str(folder / "ipykernel.ipynb")
    for name in ("ipykernel.ipynb", "ipykernel-marimo.ipynb"):
        if name != "ipykernel.ipynb":
            print("\n=== python -m bridge convert ipykernel.ipynb -o ipykernel-marimo.ipynb")
            done = subprocess.run(
                [sys.executable, "-m", "bridge", "convert", "ipykernel.ipynb", "-o", name],
                cwd=folder, capture_output=True, text=True, check=True,
            )
            print(done.stdout.rstrip())
            os.environ["MARIMO_BRIDGE_NOTEBOOK"] = str(folder / name)
        nb = nbformat.read(folder / name, as_version=4)
        NotebookClient(
            nb, kernel_name="marimo", timeout=120, allow_errors=True,
            resources={"metadata": {"path": str(folder)}},
        ).execute()
        as_it_is = " (as it is)" if name == "ipykernel.ipynb" else ""
        show(nb, f"{name}: run top to bottom{as_it_is}")


def request(
    kc: BlockingKernelClient,
    msg_type: str,
    content: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Send one shell message as JupyterLab does; its IOPub messages, to idle."""
    msg = kc.session.msg(msg_type, content, metadata=metadata or {})
    kc.shell_channel.send(msg)
    seen = []
    while True:
        out = kc.get_iopub_msg(timeout=60)
        if out["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        if out["msg_type"] == "status" and out["content"]["execution_state"] == "idle":
            return seen
        seen.append(out)


def widgets(folder: Path) -> None:
    print("\n=== widgets: a marimo slider, moved as JupyterLab's widget manager moves it")
    os.environ.pop("MARIMO_BRIDGE_NOTEBOOK", None)
    km, kc = start_new_kernel(
        kernel_name="marimo", cwd=str(folder), env={**os.environ, "MARIMO_BRIDGE_TWIN": "0"}
    )
    try:
        code = "import marimo as mo\nn = mo.ui.slider(1, 10, value=2, label='n')\nn"
        execute = {
            "code": "",
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        shown = request(kc, "execute_request", {**execute, "code": code}, {"cellId": "slider"})
        opened = {
            m["content"]["comm_id"]: m["content"]["data"]["state"]
            for m in shown
            if m["msg_type"] == "comm_open"
        }
        slider = next(i for i, s in opened.items() if s["_model_name"] == "IntSliderModel")
        state = opened[slider]
        print(
            f"--- {code}\n    > a Jupyter widget: {state['_model_name']} "
            f"min={state['min']} max={state['max']} value={state['value']} "
            f"description={state['description']!r} ({len(opened)} comms opened)"
        )
        dependent = "n.value * 100"
        shown = request(kc, "execute_request", {**execute, "code": dependent}, {"cellId": "dep"})
        print(f"--- {dependent}\n    > {text_of(shown)}")
        move = {"method": "update", "state": {"value": 7}, "buffer_paths": []}
        shown = request(kc, "comm_msg", {"comm_id": slider, "data": move})
        print("--- the user moves the slider to 7: the dependent's own output becomes")
        print(f"    > {text_of(shown)}   (update_display_data, in its own place)")
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def text_of(messages: list[dict[str, Any]]) -> str:
    texts = [
        m["content"]["data"].get("text/plain", "")
        for m in messages
        if m["msg_type"] in ("display_data", "update_display_data", "execute_result")
    ]
    return next((t for t in reversed(texts) if t), "")


if __name__ == "__main__":
    sys.exit(main())
