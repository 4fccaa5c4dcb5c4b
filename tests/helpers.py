"""Driving the real kernel the way a frontend does, and reading what it shows."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

TIMEOUT = 60


@dataclass
class Result:
    reply: dict[str, Any]
    outputs: list[dict[str, Any]]  # IOPub messages between busy and idle
    idle: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.reply["content"]["status"])

    @property
    def content(self) -> dict[str, Any]:
        return dict(self.reply["content"])

    def of_type(self, msg_type: str) -> list[dict[str, Any]]:
        return [m for m in self.outputs if m["msg_type"] == msg_type]

    def text(self) -> str:
        """Everything the outputs say, as text (streams, bundles, errors)."""
        return output_text(self.outputs)


def output_text(outputs: list[dict[str, Any]]) -> str:
    """Everything IOPub outputs say, as text (streams, bundles and their
    updates, errors)."""
    parts = []
    for m in outputs:
        c = m["content"]
        if m["msg_type"] == "stream":
            parts.append(c["text"])
        elif "data" in c:
            parts.append(str(c["data"].get("text/plain", "")))
        elif m["msg_type"] == "error":
            parts.append(c["evalue"] + "\n" + "\n".join(c["traceback"]))
    return "\n".join(parts)


def execute(
    kc: BlockingKernelClient,
    code: str,
    cell_id: str | None = None,
    deleted: Any = None,
    timeout: float = TIMEOUT,
    **content: Any,
) -> Result:
    """Send one execute_request with JupyterLab-like metadata; wait for idle."""
    return collect(kc, send_execute(kc, code, cell_id, deleted, **content), timeout)


def execute_request(
    kc: BlockingKernelClient,
    code: str,
    cell_id: str | None = None,
    deleted: Any = None,
    **content: Any,
) -> dict[str, Any]:
    """An execute_request with JupyterLab-like metadata, made now (its
    header's date), not sent."""
    body = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    body.update(content)
    msg: dict[str, Any] = kc.session.msg("execute_request", body)
    if cell_id is not None:
        msg["metadata"]["cellId"] = cell_id
    if deleted is not None:
        msg["metadata"]["deletedCells"] = deleted
    return msg


def send_execute(
    kc: BlockingKernelClient,
    code: str,
    cell_id: str | None = None,
    deleted: Any = None,
    **content: Any,
) -> str:
    """Send one execute_request with JupyterLab-like metadata; its msg_id."""
    msg = execute_request(kc, code, cell_id, deleted, **content)
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def collect(kc: BlockingKernelClient, msg_id: str, timeout: float = TIMEOUT) -> Result:
    deadline = time.monotonic() + timeout
    reply = None
    while reply is None:
        m = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") == msg_id:
            reply = m
    return Result(reply, *until_idle(kc, msg_id, deadline))


def until_idle(
    kc: BlockingKernelClient, msg_id: str, deadline: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A request's IOPub outputs (execute_input aside) and its idle status."""
    outputs: list[dict[str, Any]] = []
    while True:
        m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status":
            if m["content"]["execution_state"] == "idle":
                return outputs, m
            continue
        if m["msg_type"] != "execute_input":
            outputs.append(m)


@dataclass
class Notebook:
    """What a frontend shows: outputs per cell, display updates applied."""

    cells: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Cells whose outputs clear_output(wait=True) clears at their next output.
    clearing: set[str] = field(default_factory=set)

    def run(self, kc: BlockingKernelClient, cell_id: str, code: str, **kw: Any) -> Result:
        result = execute(kc, code, cell_id=cell_id, **kw)
        self.cells[cell_id] = []  # the frontend clears the cell it runs
        self.apply(cell_id, result)
        return result

    def run_all(self, kc: BlockingKernelClient, cells: list[tuple[str, str]]) -> list[Result]:
        """JupyterLab's Run All: every request sent at once, then the replies."""
        for cell_id, _ in cells:
            self.cells[cell_id] = []
        sent = [send_execute(kc, code, cell_id) for cell_id, code in cells]
        results = [collect(kc, msg_id) for msg_id in sent]
        for (cell_id, _), result in zip(cells, results, strict=True):
            self.apply(cell_id, result)
        return results

    def apply(self, cell_id: str, result: Result) -> None:
        """What the frontend does with one request's IOPub messages."""
        for m in result.outputs:
            c = m["content"]
            if m["msg_type"] == "clear_output":
                if c.get("wait"):
                    self.clearing.add(cell_id)
                else:
                    self.cells[cell_id] = []
                continue
            if cell_id in self.clearing and m["msg_type"] != "update_display_data":
                self.clearing.discard(cell_id)
                self.cells[cell_id] = []
            if m["msg_type"] == "update_display_data":
                for outputs in self.cells.values():
                    for out in outputs:
                        if out.get("display_id") == c["transient"]["display_id"]:
                            out["data"] = c["data"]
            elif m["msg_type"] in ("display_data", "execute_result"):
                self.cells[cell_id].append(
                    {"data": c["data"], "display_id": c.get("transient", {}).get("display_id")}
                )
            elif m["msg_type"] == "stream":
                self.cells[cell_id].append({"data": {"text/plain": c["text"]}})
            elif m["msg_type"] == "error":
                self.cells[cell_id].append(
                    {"data": {"text/plain": "\n".join(c["traceback"])}, "error": True}
                )

    def shown(self, cell_id: str) -> str:
        """The text a person sees in the cell (empty outputs dropped)."""
        texts = [str(o["data"].get("text/plain", "")) for o in self.cells.get(cell_id, [])]
        return "\n".join(t for t in texts if t)


def runtime_process(km: KernelManager) -> psutil.Process:
    """The marimo runtime child of a kernel started by ``km``."""
    assert km.provisioner is not None
    bridge = psutil.Process(km.provisioner.process.pid)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for child in bridge.children(recursive=True):
            try:
                if "bridge.runtime.child" in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    raise AssertionError("no marimo runtime process found")


def wait_gone(pid: int, timeout: float = 15, reaped: bool = False) -> bool:
    """Wait until ``pid`` has exited (or, with ``reaped``, its parent reaped it).

    A killed multi-threaded process shows as a zombie while its other threads
    are still exiting, before its parent can see it die; ``reaped`` waits
    until the parent has noticed and collected it.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = psutil.Process(pid).status()
        except psutil.NoSuchProcess:
            return True
        if not reaped and status == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` refuse new files, for root too (which ignores modes)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)


def wait_until(predicate: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or predicate}")


@contextlib.contextmanager
def logged_kernel(
    folder: Path, env: dict[str, str], extra_arguments: list[str] | None = None
) -> Iterator[tuple[KernelManager, BlockingKernelClient, Path]]:
    """A fresh ``marimo`` kernel in ``folder`` whose log (its stderr) goes to
    ``folder/kernel.log``: what the kernel says outside any cell's output."""
    log = folder / "kernel.log"
    km = KernelManager(kernel_name="marimo")
    with log.open("wb") as stderr:
        km.start_kernel(
            cwd=str(folder), env=env, stderr=stderr, extra_arguments=extra_arguments or []
        )
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        yield km, kc, log
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)

