"""An agent's tools (jupyter-mcp-server, over MCP) report the reactive run truthfully.

``make mcp`` builds the MCP server's own environment (.venv-mcp) and runs
this; like the browser suite it is collected only when named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MCP_PYTHON = Path(os.environ.get("MCP_VENV", ROOT / ".venv-mcp")) / "bin" / "python"


def test_an_agent_sees_the_dependents_failure_and_its_fix(tmp_path: Path) -> None:
    if not MCP_PYTHON.exists():
        pytest.fail(f"{MCP_PYTHON} is missing: run `make mcp` (it builds the environment)")
    kernelspecs = str(Path(sys.prefix) / "share" / "jupyter")
    ran = subprocess.run(
        [str(MCP_PYTHON), str(Path(__file__).with_name("agent.py")), str(tmp_path)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "JUPYTER_PATH": kernelspecs},
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    calls = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    texts = [c["text"] for c in calls]
    assert "kernel:" in texts[1] and "bridge" in texts[1], "the marimo kernel runs the code"
    assert "5.0" in texts[3]
    # The agent breaks the value: the executed cell's result names the
    # dependent that failed (Cell In[3]) and shows its error.
    broken = texts[5]
    assert "Cell In[3], which re-ran because of this cell, failed" in broken
    assert "ZeroDivisionError: division by zero" in broken
    # It fixes it: the result shows the dependent's new output.
    fixed = texts[7]
    assert "Cell In[3] re-ran" in fixed and "2.5" in fixed
    assert "Error" not in fixed
