"""Jupyter Kernel Gateway on a loopback port, and a client of the REST and
websocket API that Kernel Gateway and Enterprise Gateway share (what
jupyter_server's gateway client speaks)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GatewayClient:
    """The gateway's REST API and a kernel's websocket channels."""

    def __init__(self) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_up(self, log_path: Path, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the gateway exited; see {log_path}")
            try:
                self.api("GET", "/api")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError(f"the gateway did not answer; see {log_path}")

    def shutdown_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
        return json.loads(text) if text else None

    def start_kernel(self, env: dict[str, str], name: str = "marimo") -> str:
        return str(self.api("POST", "/api/kernels", {"name": name, "env": env})["id"])

    def request(self, kernel_id: str, msg_type: str, content: dict[str, Any],
                metadata: dict[str, Any] | None = None, channel: str = "shell",
                timeout: float = 60, interrupt_after: float | None = None,
                ) -> tuple[dict[str, Any], list[Any]]:
        """One request over the kernel's websocket: its reply and IOPub messages.
        ``interrupt_after``: seconds after sending it, interrupt the kernel
        (the REST API's interrupt, as JupyterLab's stop button)."""
        from tornado.httpclient import HTTPRequest
        from tornado.ioloop import IOLoop
        from tornado.websocket import websocket_connect

        async def talk() -> tuple[dict[str, Any], list[Any]]:
            ws = await websocket_connect(HTTPRequest(
                f"ws://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels",
                headers={"Authorization": f"token {self.token}"},
            ))
            msg_id = uuid.uuid4().hex
            ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "test",
                           "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": metadata or {}, "content": content,
                "channel": channel, "buffers": [],
            }))
            reply: dict[str, Any] | None = None
            iopub: list[Any] = []
            idle = False
            if interrupt_after is not None:
                await asyncio.sleep(interrupt_after)
                await asyncio.get_running_loop().run_in_executor(
                    None, self.api, "POST", f"/api/kernels/{kernel_id}/interrupt")
            deadline = time.monotonic() + timeout
            while (reply is None or not idle) and time.monotonic() < deadline:
                raw = await ws.read_message()
                if raw is None:
                    break
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["channel"] == "iopub":
                    if msg["msg_type"] == "status":
                        idle = msg["content"]["execution_state"] == "idle"
                    else:
                        iopub.append(msg)
                elif msg["channel"] == channel:
                    reply = msg
            ws.close()
            assert reply is not None, f"no reply to {msg_type}"
            return reply, iopub

        return IOLoop.current().run_sync(talk, timeout=timeout + 10)


class KernelGateway(GatewayClient):
    def __init__(self, folder: Path, log_path: Path, env_whitelist: str = "") -> None:
        super().__init__()
        self.folder = folder
        # Variables a client may pass to a kernel besides KERNEL_* ones.
        self.env_whitelist = env_whitelist
        self.log_path = log_path

    def start(self, timeout: float = 60) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kernel_gateway",
             "--KernelGatewayApp.ip=127.0.0.1", f"--KernelGatewayApp.port={self.port}",
             f"--KernelGatewayApp.auth_token={self.token}",
             # JupyterLab lists the kernels it runs.
             "--JupyterWebsocketPersonality.list_kernels=True",
             *([f"--JupyterWebsocketPersonality.env_whitelist={self.env_whitelist}"]
               if self.env_whitelist else [])],
            cwd=self.folder, env=os.environ.copy(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )
        self.wait_up(self.log_path, timeout)
