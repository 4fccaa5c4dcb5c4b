"""``pip install`` is enough: the wheel brings the ``marimo`` kernelspec.

The wheel is built from the checkout and installed into a clean venv (nothing
else in it, no system site-packages). That venv's own ``jupyter`` lists
``marimo`` from the venv's ``share/jupyter/kernels``, a notebook runs
reactively through it from the venv's python, ``python -m bridge install``
still writes a kernelspec elsewhere, and ``pip uninstall`` takes the
kernelspec away again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# What the wheel is built from; copied so the build writes nothing into the
# checkout (build/, egg-info) and no stale build/lib can reach the wheel.
SOURCES = ("setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "bridge", "kernelspec")
PIP_TIMEOUT = 600
# Variables that would point Jupyter, Python or pip at another environment.
LEAKY = ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR",
         "JUPYTER_PREFER_ENV_PATH", "IPYTHONDIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
         "PIP_REQUIRE_VIRTUALENV", "PIP_USER", "PIP_PREFIX", "PIP_TARGET")

# Run by the clean venv's python: its jupyter_client starts the kernel by
# name, as JupyterLab in that venv would, and each request's outputs are
# gathered as the user sees them (stdout text, displayed text/plain).
NOTEBOOK = r'''
import json
import sys

from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="marimo", startup_timeout=120)
runs = []
try:
    for code in ("a = 1", "b = a + 1; print(b)", "a = 5"):
        msg_id = kc.execute(code)
        reply = kc.get_shell_msg(timeout=120)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=120)
        seen = []
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind == "stream":
                seen.append(content["text"])
            elif kind in ("display_data", "execute_result", "update_display_data"):
                seen.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                seen.append("\n".join(content["traceback"]))
        runs.append({"code": code, "status": reply["content"]["status"], "shown": "".join(seen)})
    argv = km.format_kernel_cmd()
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)
print(json.dumps({"runs": runs, "argv0": argv[0], "python": sys.executable}))
'''


def _run(cmd: list[str | Path], env: dict[str, str], timeout: float,
         cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [str(part) for part in cmd], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, (
        f"{cmd} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc.stdout


def _kernelspecs(venv: Path, env: dict[str, str]) -> dict[str, Any]:
    out = _run([venv / "bin" / "jupyter", "kernelspec", "list", "--json"], env, 120)
    specs: dict[str, Any] = json.loads(out)["kernelspecs"]
    return specs


@pytest.mark.timeout(900)
def test_pip_install_is_enough(tmp_path: Path) -> None:
    # pip keeps the user's configuration (index, certificates, cache).
    pip_env = {k: v for k, v in os.environ.items() if k not in LEAKY}

    # The wheel, from a copy of the checkout.
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, src / name)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src],
         pip_env, PIP_TIMEOUT)
    [wheel] = dist.glob("marimo_bridge-*.whl")

    # A clean venv with the wheel (and its dependencies) and nothing else.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], pip_env, 300)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", wheel], pip_env, PIP_TIMEOUT)

    # Jupyter sees only this venv: no user-level kernelspecs, no JUPYTER_PATH.
    home, data = tmp_path / "home", tmp_path / "jupyter-data"
    home.mkdir()
    data.mkdir()
    env = {**pip_env, "HOME": str(home), "JUPYTER_DATA_DIR": str(data)}
    spec_dir = venv / "share" / "jupyter" / "kernels" / "marimo"

    specs = _kernelspecs(venv, env)
    assert "marimo" in specs, f"jupyter kernelspec list shows no marimo: {sorted(specs)}"
    assert Path(specs["marimo"]["resource_dir"]) == spec_dir
    assert specs["marimo"]["spec"]["argv"][0] == "python"
    assert sorted(p.name for p in spec_dir.iterdir()) == [
        "kernel.json", "logo-32x32.png", "logo-64x64.png"
    ]

    # A notebook runs reactively through it: re-running `a = 5` re-runs the
    # cell that prints b, and its new output shows under the running request.
    script = tmp_path / "notebook.py"
    script.write_text(NOTEBOOK)
    work = tmp_path / "work"
    work.mkdir()
    result = json.loads(_run([python, script], env, 400, cwd=work).strip().splitlines()[-1])
    # jupyter_client put the launching venv's python in place of "python".
    assert Path(result["argv0"]) == python
    first, second, third = result["runs"]
    assert [run["status"] for run in result["runs"]] == ["ok", "ok", "ok"], result
    assert first["shown"] == ""
    assert second["shown"].splitlines() == ["2"]
    shown = third["shown"].splitlines()
    assert "── Cell In[2] re-ran ──" in shown, third
    assert "6" in shown[shown.index("── Cell In[2] re-ran ──"):], third

    # `python -m bridge install` still writes a kernelspec for other places,
    # with this venv's python spelled out.
    prefix = tmp_path / "prefix"
    _run([python, "-m", "bridge", "install", "--prefix", prefix], env, 120)
    written = json.loads((prefix / "share/jupyter/kernels/marimo/kernel.json").read_text())
    assert Path(written["argv"][0]) == python
    assert written["argv"][1:3] == ["-m", "bridge"]

    # Uninstalling takes the kernelspec away.
    _run([python, "-m", "pip", "uninstall", "-y", "marimo-bridge"], pip_env, 300)
    assert not spec_dir.exists()
    assert "marimo" not in _kernelspecs(venv, env)
