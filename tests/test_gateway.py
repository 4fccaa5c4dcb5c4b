"""The kernel behind Jupyter Kernel Gateway, and what its twin does there.

A gateway passes a kernel only ``KERNEL_*`` variables (and PATH), so the
notebook's path reaches the kernel as ``KERNEL_MARIMO_BRIDGE_NOTEBOOK``. On
a host where that notebook's folder exists (a shared file system, or the
same machine) the twin is written there; where it does not (the kernel runs
elsewhere), no twin is written, and the banner and the kernel's log say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway import KernelGateway
from helpers import wait_until

EXECUTE = {"silent": False, "store_history": True, "user_expressions": {},
           "allow_stdin": False, "stop_on_error": True}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[KernelGateway]:
    server = KernelGateway(tmp_path, tmp_path / "gateway.log")
    server.start()
    try:
        yield server
    finally:
        server.shutdown_kernels()
        server.stop()


def test_reactive_runs_and_the_twin_through_a_gateway(gateway: KernelGateway, tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    kernel = gateway.start_kernel({"KERNEL_MARIMO_BRIDGE_NOTEBOOK": str(notebooks / "nb.ipynb")})
    info, _ = gateway.request(kernel, "kernel_info_request", {})
    assert f"marimo twin: {notebooks / 'nb.py'}" in info["content"]["banner"]

    for cell_id, code in (("a", "x = 1"), ("b", "y = x * 10\ny")):
        gateway_execute(gateway, kernel, code, cell_id)
    reply, iopub = gateway_execute(gateway, kernel, "x = 2", "a")
    assert reply["content"]["status"] == "ok"
    updates = [m["content"]["data"]["text/plain"] for m in iopub
               if m["msg_type"] == "update_display_data"]
    assert "20" in updates, "the dependent's new value, in its own place"
    twin = notebooks / "nb.py"
    wait_until(lambda: twin.exists() and "y = x * 10" in twin.read_text(), what="the twin")


def test_a_notebook_on_another_host_gets_no_twin_and_says_why(
    gateway: KernelGateway, tmp_path: Path
) -> None:
    elsewhere = "/home/someone/project/nb.ipynb"  # not on this machine
    kernel = gateway.start_kernel({"KERNEL_MARIMO_BRIDGE_NOTEBOOK": elsewhere})
    info, _ = gateway.request(kernel, "kernel_info_request", {})
    banner = info["content"]["banner"]
    assert "no marimo twin: the notebook's folder /home/someone/project is not on this machine" in banner
    reply, iopub = gateway_execute(gateway, kernel, "z = 1\nz", "c")
    assert reply["content"]["status"] == "ok"
    # Not in the cell's outputs (papermill and nbval read those): in the log.
    assert not any(m["msg_type"] == "stream" and "twin" in m["content"]["text"] for m in iopub)
    wait_until(lambda: "is not on this machine" in (tmp_path / "gateway.log").read_text(),
               what="the reason in the kernel's log")
    assert not Path(elsewhere).parent.exists()


def gateway_execute(
    gateway: KernelGateway, kernel: str, code: str, cell_id: str
) -> tuple[dict[str, Any], list[Any]]:
    """An execute_request shaped as JupyterLab's (with a cellId)."""
    return gateway.request(
        kernel, "execute_request", {**EXECUTE, "code": code}, metadata={"cellId": cell_id}
    )
