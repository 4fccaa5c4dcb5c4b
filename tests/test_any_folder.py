"""The kernel's own commands from a folder whose files are named like modules.

``python -m`` puts the current folder first on sys.path; notebooks are often
named ``markdown.py`` or ``json.py``, and must not shadow the modules the
kernel itself imports. Cells keep marimo's rule: the folder's modules import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import execute
from jupyter_client.manager import start_new_kernel

# A marimo notebook named like the markdown package marimo itself imports.
MARKDOWN_NOTEBOOK = '''import marimo

app = marimo.App()


@app.cell
def _():
    x = 1
    return (x,)


if __name__ == "__main__":
    app.run()
'''
# A module named like the standard library's json, which would break anything.
SHADOW = 'raise RuntimeError("this file shadowed a module the kernel imports")\n'


def shadowing_folder(folder: Path) -> Path:
    (folder / "markdown.py").write_text(MARKDOWN_NOTEBOOK)
    (folder / "json.py").write_text(SHADOW)
    (folder / "signal.py").write_text(SHADOW)
    (folder / "helpers_of_mine.py").write_text("GREETING = 'hello from the folder'\n")
    return folder


def test_convert_works_on_a_notebook_named_like_a_module(tmp_path: Path) -> None:
    folder = shadowing_folder(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "convert", "markdown.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / "markdown.ipynb").exists()


def test_the_kernel_starts_and_runs_in_such_a_folder(tmp_path: Path) -> None:
    folder = shadowing_folder(tmp_path)
    km, kc = start_new_kernel(
        kernel_name="marimo", cwd=str(folder), env={**os.environ, "MARIMO_BRIDGE_TWIN": "0"}
    )
    try:
        result = execute(kc, "import marimo as mo\nmo.md('**bold**')", cell_id="a")
        assert result.status == "ok", result.text()
        # marimo's rule: the notebook's folder is importable from cells.
        mine = execute(kc, "import helpers_of_mine\nhelpers_of_mine.GREETING", cell_id="b")
        assert mine.status == "ok" and "hello from the folder" in mine.text()
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def test_a_runtime_that_cannot_start_is_an_error_reply_not_a_hang(tmp_path: Path) -> None:
    """A module on the user's PYTHONPATH that breaks marimo's import (one
    named like a package marimo imports): the first request is told, and
    the kernel still answers."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "markdown.py").write_text(MARKDOWN_NOTEBOOK)
    env = {**os.environ, "MARIMO_BRIDGE_TWIN": "0", "PYTHONPATH": str(shadow)}
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path), env=env)
    try:
        result = execute(kc, "1 + 1", cell_id="a")
        assert result.status == "error"
        assert result.content["ename"] == "RuntimeStartError"
        assert "could not start" in result.content["evalue"]
        assert kc.kernel_info(reply=True, timeout=30)["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
