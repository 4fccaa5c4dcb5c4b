"""The marimo twin, end to end: a real kernel writing a real .py beside the notebook."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from helpers import execute, logged_kernel, read_only, wait_gone, wait_until
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from bridge.twin import pyfile
from bridge.twin.keeper import NO_PATH

PY = sys.executable

CODE_MODE = """%%scratch
import marimo._code_mode as cm
async with cm.get_context() as ctx:
    ctx.create_cell({code!r})
"""

EXISTING = '''# /// script
# dependencies = ["marimo"]
# ///
"""Written by a person."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Mine")


@app.cell
def base():
    x = 1
    return (x,)


@app.cell(hide_code=True)
def double(x):
    y = x * 2
    return (y,)


@app.cell
def _(y):
    z = y + 1
    return


if __name__ == "__main__":
    app.run()
'''


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    return {"MARIMO_BRIDGE_NOTEBOOK": str(tmp_path / "nb.ipynb")}


def cells(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, code, config) of each cell of a marimo notebook file."""
    twin = pyfile.parse(path.read_text(), lambda: "")
    return [(c.name, c.code, c.config) for c in twin.cells]


def codes(path: Path) -> list[str]:
    return [code for _name, code, _config in cells(path)] if path.exists() else []


def wait_codes(path: Path, expected: list[str]) -> None:
    wait_until(lambda: codes(path) == expected, what=f"{path} to hold {expected}")


def test_runs_edits_and_deletions_reach_the_twin(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    assert execute(kc, "x = 1", cell_id="a").status == "ok"
    assert execute(kc, "y = x + 1", cell_id="b").status == "ok"
    wait_codes(twin, ["x = 1", "y = x + 1"])
    # A changed cell is updated in place, not appended.
    assert execute(kc, "x = 10", cell_id="a").status == "ok"
    wait_codes(twin, ["x = 10", "y = x + 1"])
    # JupyterLab's deletedCells removes the cell from the twin.
    assert execute(kc, "w = 3", cell_id="c", deleted=["b"]).status == "ok"
    wait_codes(twin, ["x = 10", "w = 3"])


def test_code_mode_cell_appears_in_the_twin_and_the_runtime(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    assert execute(kc, "x = 1", cell_id="a").status == "ok"
    result = execute(kc, CODE_MODE.format(code="z = x + 1"))
    assert result.status == "ok", result.text()
    wait_codes(twin, ["x = 1", "z = x + 1"])
    # The runtime knows the new cell: it runs when its ancestor changes.
    rerun = execute(kc, "x = 5", cell_id="a")
    assert rerun.status == "ok" and "re-ran" in rerun.text()
    # ... and code mode sees the document, including its own cell.
    listed = execute(
        kc,
        "%%scratch\nimport marimo._code_mode as cm\n"
        "async with cm.get_context() as ctx:\n"
        "    print([c.code for c in ctx.cells])",
    )
    assert "'z = x + 1'" in listed.text() and "'x = 5'" in listed.text()


def test_restart_then_one_run_keeps_every_other_cell(kernel, tmp_path) -> None:
    km, kc = kernel
    twin = tmp_path / "nb.py"
    for cell_id, code in (("a", "x = 1"), ("b", "y = x + 1"), ("c", "z = y + 1")):
        assert execute(kc, code, cell_id=cell_id).status == "ok"
    wait_codes(twin, ["x = 1", "y = x + 1", "z = y + 1"])
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    # A fresh frontend id for the middle cell, with new code: it takes over
    # the twin's cell that defines the same names, in place.
    result = execute(kc, "y = x + 100\ny", cell_id="b-after-restart")
    assert result.status == "ok"
    assert "101" in result.text(), "the twin's cells are known to the runtime"
    wait_codes(twin, ["x = 1", "y = x + 100\ny", "z = y + 1"])


def test_existing_twin_keeps_header_app_options_names_and_configs(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    twin.write_text(EXISTING)
    # The kernel fixture already started: a restart-free way to load is a new
    # kernel, so start one here with the same notebook.
    km2, kc2 = start_new_kernel(
        kernel_name="marimo",
        cwd=str(tmp_path),
        env={**os.environ, "MARIMO_BRIDGE_NOTEBOOK": str(tmp_path / "nb.ipynb")},
    )
    try:
        assert execute(kc2, "y = x * 3", cell_id="lab-1").status == "ok"
        wait_until(lambda: "y = x * 3" in twin.read_text(), what="the edit")
    finally:
        kc2.stop_channels()
        km2.shutdown_kernel()
    text = twin.read_text()
    assert text.startswith('# /// script\n# dependencies = ["marimo"]\n# ///\n"""Written by a person."""')
    assert 'app = marimo.App(width="full", app_title="Mine")' in text
    assert cells(twin) == [
        ("base", "x = 1", {}),
        ("double", "y = x * 3", {"hide_code": True}),
        ("_", "z = y + 1", {}),
    ]


def test_a_python_file_that_is_not_marimo_is_left_byte_for_byte(tmp_path) -> None:
    twin = tmp_path / "nb.py"
    original = b"# jupytext percent script\n# %%\nimport os\n\nprint(os.getcwd())\n"
    twin.write_bytes(original)
    km, kc = start_new_kernel(
        kernel_name="marimo",
        cwd=str(tmp_path),
        env={**os.environ, "MARIMO_BRIDGE_NOTEBOOK": str(tmp_path / "nb.ipynb")},
    )
    try:
        first = execute(kc, "x = 1", cell_id="a")
        assert first.status == "ok"
        assert "not a marimo notebook" in first.text() and "untouched" in first.text()
        second = execute(kc, "y = 2", cell_id="b")
        assert "not a marimo notebook" not in second.text(), "told once"
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert twin.read_bytes() == original


def test_no_known_path_writes_nothing_and_says_so_outside_the_outputs(tmp_path) -> None:
    """nbclient, papermill and consoles name no notebook: the banner and the
    kernel's log say so, and no cell's outputs change (nbval, papermill)."""
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME",)}
    env.pop("MARIMO_BRIDGE_NOTEBOOK", None)
    with logged_kernel(tmp_path, env) as (_, kc, log):
        info = kc.kernel_info(reply=True, timeout=60)["content"]
        assert "no marimo twin: the notebook's path is not known" in info["banner"]
        first = execute(kc, "x = 1\nprint('hi')")
        assert first.status == "ok"
        assert [m["content"]["text"] for m in first.of_type("stream")] == ["hi\n"]
        assert "notebook's path" not in first.text()
        assert "notebook's path" not in execute(kc, "y = 2").text()
        wait_until(lambda: NO_PATH in log.read_text(), what="the kernel's log line")
        assert log.read_text().count(NO_PATH) == 1
    assert list(tmp_path.glob("*.py")) == []


def test_vscode_startup_code_names_the_notebook(tmp_path) -> None:
    env = {**os.environ, "MARIMO_BRIDGE_TWIN": "1"}
    env.pop("MARIMO_BRIDGE_NOTEBOOK", None)
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path), env=env)
    notebook = tmp_path / "from vscode.ipynb"
    try:
        startup = f"import os\n__vsc_ipynb_file__ = {str(notebook)!r}\n"
        assert execute(kc, startup, store_history=False).status == "ok"
        first = execute(kc, "a = 1", cell_id="vscode-notebook-cell:/x.ipynb#W0sZmlsZQ==")
        assert first.status == "ok" and "notebook's path" not in first.text()
        wait_codes(tmp_path / "from vscode.py", ["a = 1"])
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def test_order_follows_the_ipynb(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in ("c = 3", "a = 1", "b = 2")]
    for cell, cell_id in zip(nb.cells, ("cc", "aa", "bb"), strict=True):
        cell["id"] = cell_id
    nbformat.write(nb, tmp_path / "nb.ipynb")
    for cell_id, code in (("aa", "a = 1"), ("bb", "b = 2"), ("cc", "c = 3")):
        assert execute(kc, code, cell_id=cell_id).status == "ok"
    wait_codes(twin, ["c = 3", "a = 1", "b = 2"])


def test_read_only_folder_warns_and_the_run_succeeds(kc, tmp_path) -> None:
    with read_only(tmp_path):
        result = execute(kc, "x = 1", cell_id="a")
        assert result.status == "ok"
        # The save runs beside the request: its failure is told in this
        # request or, if it lands after the reply, in the next one.
        text = result.text() + execute(kc, "y = 2", cell_id="b").text()
        assert "the marimo twin was not saved" in text
    # Retried at the next change, once the folder is writable again.
    assert execute(kc, "z = 3", cell_id="c").status == "ok"
    wait_codes(tmp_path / "nb.py", ["x = 1", "y = 2", "z = 3"])


def test_a_file_changed_outside_the_kernel_is_not_overwritten(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    assert execute(kc, "x = 1", cell_id="a").status == "ok"
    wait_codes(twin, ["x = 1"])
    theirs = EXISTING
    twin.write_text(theirs)
    result = execute(kc, "x = 2", cell_id="a")
    text = result.text() + execute(kc, "y = 2", cell_id="b").text()
    assert "changed outside this kernel" in text
    assert twin.read_text() == theirs


def test_sigkill_during_a_burst_of_saves_leaves_a_notebook(kernel, tmp_path) -> None:
    km, kc = kernel
    twin = tmp_path / "nb.py"
    assert execute(kc, "x = 0", cell_id="a").status == "ok"
    burst = (
        "%%scratch\nimport marimo._code_mode as cm\n"
        "for i in range(400):\n"
        "    async with cm.get_context() as ctx:\n"
        "        ctx.create_cell(f'v{i} = x + {i}')\n"
    )
    kc.execute(burst)
    wait_until(lambda: len(codes(twin)) > 5, what="the burst to start saving")
    bridge = psutil.Process(km.provisioner.process.pid)  # type: ignore[union-attr]
    os.kill(bridge.pid, signal.SIGKILL)
    assert wait_gone(bridge.pid)
    found = codes(twin)  # parses: never a partial file
    assert found[0] == "x = 0" and all(c.startswith("v") for c in found[1:])


def test_sigterm_flushes_the_pending_save(kernel, tmp_path) -> None:
    km, kc = kernel
    twin = tmp_path / "nb.py"
    assert execute(kc, "x = 1", cell_id="a").status == "ok"
    assert execute(kc, "y = 2", cell_id="b").status == "ok"
    bridge = km.provisioner.process  # type: ignore[union-attr]
    bridge.send_signal(signal.SIGTERM)
    bridge.wait(timeout=20)
    assert codes(twin) == ["x = 1", "y = 2"]


def test_the_twin_runs_as_a_script_and_passes_marimo_check(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    for cell_id, code in (
        ("a", "import marimo as mo"),
        ("b", "base = 20"),
        ("c", "total = base + 22\nprint('total', total)"),
        ("d", "mo.md(f'**{total}**')"),
    ):
        assert execute(kc, code, cell_id=cell_id).status == "ok"
    wait_codes(twin, ["import marimo as mo", "base = 20", "total = base + 22\nprint('total', total)", "mo.md(f'**{total}**')"])
    ran = subprocess.run([PY, str(twin)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "total 42" in ran.stdout, "the script reproduces the session's values"
    check = subprocess.run(
        [PY, "-m", "marimo", "check", str(twin)], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
    export = subprocess.run(
        [PY, "-m", "marimo", "export", "script", str(twin)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert export.returncode == 0 and "total = base + 22" in export.stdout


def _convert(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "nb.py"
    source.write_text(EXISTING)
    done = subprocess.run(
        [PY, "-m", "bridge", "convert", str(source)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return source, tmp_path / "nb.ipynb"


def test_convert_then_edit_in_jupyterlab_writes_back_in_place(tmp_path) -> None:
    source, notebook = _convert(tmp_path)
    nb = json.loads(notebook.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "marimo"
    assert [c["source"] for c in nb["cells"]] == ["x = 1", "y = x * 2", "z = y + 1"]
    # JupyterLab: the session names the notebook, cellIds are the nbformat ids.
    env = {**os.environ, "JPY_SESSION_NAME": str(notebook)}
    env.pop("MARIMO_BRIDGE_NOTEBOOK", None)
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path), env=env)
    try:
        ids = [c["id"] for c in nb["cells"]]
        for cell_id, code in zip(ids, ("x = 1", "y = x * 5", "z = y + 1"), strict=True):
            assert execute(kc, code, cell_id=cell_id).status == "ok"
        wait_until(lambda: "y = x * 5" in source.read_text(), what="the edit")
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert cells(source) == [
        ("base", "x = 1", {}),
        ("double", "y = x * 5", {"hide_code": True}),
        ("_", "z = y + 1", {}),
    ]
    assert 'app = marimo.App(width="full", app_title="Mine")' in source.read_text()


def test_nbclient_running_a_converted_notebook_keeps_the_py(tmp_path) -> None:
    source, notebook = _convert(tmp_path)
    before = cells(source)
    nb = nbformat.read(notebook, as_version=4)
    os.environ["MARIMO_BRIDGE_NOTEBOOK"] = str(notebook)
    try:
        NotebookClient(nb, kernel_name="marimo", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        del os.environ["MARIMO_BRIDGE_NOTEBOOK"]
    assert cells(source) == before
    assert "Written by a person." in source.read_text()


def test_code_mode_inserts_keep_their_position_name_and_config(kc, tmp_path) -> None:
    twin = tmp_path / "nb.py"
    assert execute(kc, "x = 1", cell_id="a").status == "ok"
    assert execute(kc, "y = 2", cell_id="b").status == "ok"
    insert = (
        "%%scratch\nimport marimo._code_mode as cm\n"
        "async with cm.get_context() as ctx:\n"
        "    first = ctx.cells[0]\n"
        "    ctx.create_cell('m = x + 1', after=first.id, name='middle', hide_code=False)\n"
    )
    result = execute(kc, insert)
    assert result.status == "ok", result.text()
    wait_codes(twin, ["x = 1", "m = x + 1", "y = 2"])
    assert cells(twin)[1][0] == "middle"
