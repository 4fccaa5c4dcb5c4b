"""The execute_request shapes real frontends send, and what their users see."""

from __future__ import annotations

from typing import Any

from helpers import Notebook, collect, execute

VSCODE_STARTUP = """import os as __VSCODE_os
__vsc_ipynb_file__ = "/home/user/project/analysis.ipynb"
try:
    import matplotlib
    %matplotlib inline
    %config InlineBackend.figure_formats = {'png'}
except ImportError:
    pass
del __VSCODE_os
"""


def lab_request(kc: Any, code: str, cell_id: str, **metadata: Any) -> str:
    """An execute_request exactly as JupyterLab 4 sends it."""
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": True,
        # JupyterLab turns stop_on_error off for cells tagged raises-exception.
        "stop_on_error": "raises-exception" not in metadata.get("tags", []),
    }
    msg = kc.session.msg("execute_request", content)
    msg["metadata"] = {"trusted": True, **metadata, "recordTiming": False, "cellId": cell_id}
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def test_jupyterlab_shapes(kc) -> None:
    first = collect(kc, lab_request(kc, "x = 1", "lab-a", tags=["setup"], deletedCells=[]))
    assert first.status == "ok"
    # A cell tagged raises-exception fails, and the request queued behind it
    # still runs (stop_on_error is false for it).
    failing = lab_request(kc, "raise RuntimeError('expected')", "lab-b", tags=["raises-exception"])
    after = lab_request(kc, "y = x + 1\ny", "lab-c", recordTiming=True)
    failed, ran = collect(kc, failing), collect(kc, after)
    assert failed.status == "error" and failed.content["ename"] == "RuntimeError"
    assert ran.status == "ok" and "2" in ran.text()
    # deletedCells with repeats and unknown ids, piggy-backed on the next run.
    healed = collect(
        kc, lab_request(kc, "z = y * 10", "lab-d", deletedCells=["lab-b", "lab-b", "never-seen"])
    )
    assert healed.status == "ok"


def test_vscode_shapes(kc) -> None:
    startup = execute(kc, VSCODE_STARTUP, store_history=False, stop_on_error=False)
    assert startup.status == "ok", startup.text()
    assert startup.outputs == [], "startup code shows nothing"
    nb = Notebook()
    uri = "vscode-notebook-cell:/home/user/project/analysis.ipynb#W0sZmlsZQ%3D%3D"
    dep = "vscode-notebook-cell:/home/user/project/analysis.ipynb#W1sZmlsZQ%3D%3D"
    assert nb.run(kc, uri, "base = 2", stop_on_error=False).status == "ok"
    assert nb.run(kc, dep, "print('twice', base * 2)", stop_on_error=False).status == "ok"
    nb.run(kc, uri, "base = 21", stop_on_error=False)
    assert "twice 42" in nb.shown(dep), "the dependent updated in its own place"
    # The prompt count starts at 1 for the first visible cell.
    first_count = execute(kc, "1").content["execution_count"]
    assert first_count == 4
