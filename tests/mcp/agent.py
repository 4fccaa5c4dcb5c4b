"""An agent's session through jupyter-mcp-server, driven over MCP's stdio protocol.

Runs in the MCP server's own environment (``make mcp`` builds it: the server
needs jupyter-collaboration in the Jupyter server it talks to, which would
change JupyterLab's document model under the browser suite, so it is kept
apart). Starts that environment's Jupyter server with this project's kernelspec
on ``JUPYTER_PATH``, starts a ``marimo`` kernel, then, as an agent does:
``use_notebook``, ``insert_execute_code_cell`` twice (a value and a cell that
divides by it), ``overwrite_cell_source`` + ``execute_cell`` to break the
dependent, and again to fix it. Prints each tool's result as JSON lines on
stdout for tests/mcp/test_agent.py to judge.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(root: Path) -> None:
    token, port = secrets.token_hex(16), free_port()
    json.dump(
        {"cells": [], "nbformat": 4, "nbformat_minor": 5,
         "metadata": {"kernelspec": {"name": "marimo", "display_name": "marimo",
                                     "language": "python"}}},
        (root / "agent.ipynb").open("w"),
    )
    command = [str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    # In ``root``: the collaboration extension writes its store
    # (.jupyter_ystore.db) in the server's working folder.
    server = subprocess.Popen(command, stdout=(root / "server.log").open("w"),
                              stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"

    def api(method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    try:
        for _ in range(300):
            try:
                api("GET", "/api/status")
                break
            except OSError:
                time.sleep(0.2)
        kernel = api("POST", "/api/kernels", {"name": "marimo"})["id"]
        asyncio.run(session(base, token, kernel))
    finally:
        server.terminate()
        server.wait(30)


async def session(base: str, token: str, kernel: str) -> None:
    params = StdioServerParameters(
        command=str(BIN / "jupyter-mcp-server"), args=["--transport", "stdio"],
        env={**os.environ, "JUPYTER_URL": base, "JUPYTER_TOKEN": token,
             "DOCUMENT_ID": "agent.ipynb", "CODE_SANDBOX_ID": kernel},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()

        async def call(name: str, **arguments: Any) -> None:
            result = await client.call_tool(name, arguments)
            text = "\n".join(getattr(c, "text", str(c)) for c in result.content)
            print(json.dumps({"tool": name, "arguments": arguments, "text": text}), flush=True)

        await call("use_notebook", notebook_name="agent", notebook_path="agent.ipynb",
                   kernel_id=kernel, mode="connect")
        await call("execute_code", code="import sys; print('kernel:', sys.argv[0])")
        await call("insert_execute_code_cell", cell_index=-1, cell_source="divisor = 2")
        await call("insert_execute_code_cell", cell_index=-1,
                   cell_source="ratio = 10 / divisor\nratio")
        await call("overwrite_cell_source", cell_index=1, cell_source="divisor = 0")
        await call("execute_cell", cell_index=1)
        await call("overwrite_cell_source", cell_index=1, cell_source="divisor = 4")
        await call("execute_cell", cell_index=1)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
