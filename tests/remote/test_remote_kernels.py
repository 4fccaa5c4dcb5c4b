"""The kernel on a remote host, started by Jupyter Enterprise Gateway over ssh.

Through the gateway's REST and websocket API (what JupyterLab's
``--gateway-url`` speaks): a reactive update, a dependent's failure reported
and named, an interrupt, a restart and a shutdown, after which nothing of
the kernel is left on the host; and the twin where the notebook's path
reaches the kernel (``KERNEL_MARIMO_BRIDGE_NOTEBOOK``), none where it does not.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil
from enterprise_gateway import REMOTE_HOST, EnterpriseGateway
from helpers import output_text

KERNEL = "marimo_remote"
EXECUTE = {"silent": False, "store_history": True, "user_expressions": {},
           "allow_stdin": False, "stop_on_error": True}


def run(gateway: EnterpriseGateway, kernel: str, code: str, cell_id: str,
        **options: Any) -> tuple[dict[str, Any], list[Any]]:
    return gateway.request(kernel, "execute_request", {"code": code, **EXECUTE},
                           metadata={"cellId": cell_id}, **options)


def processes_of(kernel_id: str) -> list[psutil.Process]:
    """The launcher started for ``kernel_id`` on the host, and everything below it."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "launch-remote" in cmdline and kernel_id in cmdline:
            found.append(process)
            found.extend(process.children(recursive=True))
    return found


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_a_reactive_run_and_its_twin_on_the_remote_host(
    enterprise_gateway: EnterpriseGateway, tmp_path: Path
) -> None:
    gateway = enterprise_gateway
    notebook = tmp_path / "analysis.ipynb"
    kernel = gateway.start_kernel({"KERNEL_MARIMO_BRIDGE_NOTEBOOK": str(notebook)}, KERNEL)
    # The kernel really runs where the gateway sent it: on the ssh host's address.
    launcher = processes_of(kernel)[0]

    def listening() -> set[str]:
        return {c.laddr.ip for child in launcher.children()
                for c in child.net_connections("tcp") if c.status == psutil.CONN_LISTEN}

    # The launcher reports the ports before the kernel has bound them all.
    wait_for(lambda: len(listening()) > 0, 60, "the kernel listens")
    assert listening() == {REMOTE_HOST}, listening()
    info, _ = gateway.request(kernel, "kernel_info_request", {})
    assert f"marimo twin: {tmp_path / 'analysis.py'}" in info["content"]["banner"]

    run(gateway, kernel, "price = 100", "c1")
    reply, iopub = run(gateway, kernel, "total = price * 3\ntotal", "c2")
    assert reply["content"]["status"] == "ok" and "300" in output_text(iopub)
    reply, iopub = run(gateway, kernel, "price = 250", "c1")
    assert reply["content"]["status"] == "ok"
    updates = [m for m in iopub if m["msg_type"] == "update_display_data"]
    assert any("750" in str(m["content"]["data"].get("text/plain")) for m in updates), iopub

    twin = tmp_path / "analysis.py"
    wait_for(lambda: twin.exists() and "price = 250" in twin.read_text(), 30, "no twin")
    assert "total = price * 3" in twin.read_text()


def test_a_failing_dependent_is_reported_through_the_gateway(
    enterprise_gateway: EnterpriseGateway,
) -> None:
    gateway = enterprise_gateway
    kernel = gateway.start_kernel({}, KERNEL)
    info, _ = gateway.request(kernel, "kernel_info_request", {})
    # No notebook path reached the remote kernel: no twin, and the banner says why.
    assert "no marimo twin" in info["content"]["banner"]
    run(gateway, kernel, "divisor = 2", "d1")
    reply, _ = run(gateway, kernel, "share = 10 / divisor\nshare", "d2")
    assert reply["content"]["status"] == "ok"
    reply, iopub = run(gateway, kernel, "divisor = 0", "d1")
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "ZeroDivisionError"
    assert "Cell In[2]" in content["evalue"] + "\n".join(content["traceback"])
    assert "ZeroDivisionError" in output_text(iopub)


def test_interrupt_restart_and_shutdown_leave_nothing_on_the_host(
    enterprise_gateway: EnterpriseGateway,
) -> None:
    gateway = enterprise_gateway
    kernel = gateway.start_kernel({}, KERNEL)
    gateway.request(kernel, "kernel_info_request", {})
    wait_for(lambda: len(processes_of(kernel)) >= 3, 60, "no launcher, kernel and runtime")
    first = processes_of(kernel)

    # Interrupt: the gateway's signal goes over the launcher's communication port.
    reply, _ = run(gateway, kernel, "import time\ntime.sleep(120)", "s1", interrupt_after=3)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    reply, _ = run(gateway, kernel, "after = 1", "s2")
    assert reply["content"]["status"] == "ok"

    # Restart: a new launcher, kernel and runtime; the old ones are gone.
    gateway.api("POST", f"/api/kernels/{kernel}/restart")
    wait_for(lambda: not alive(first), 60, f"left after restart: {alive(first)}")
    wait_for(lambda: len(processes_of(kernel)) >= 3, 90, "nothing started by the restart")
    second = processes_of(kernel)
    assert not {p.pid for p in second} & {p.pid for p in first}
    reply, _ = run(gateway, kernel, "fresh = 2\nfresh", "s3")
    assert reply["content"]["status"] == "ok"

    # Shutdown: nothing of the kernel is left on the host.
    gateway.api("DELETE", f"/api/kernels/{kernel}")
    wait_for(lambda: not alive(second), 60, f"left after shutdown: {alive(second)}")
    assert processes_of(kernel) == []
    log = gateway.kernel_log(kernel)
    assert "reported to 127.0.0.1:" in log, log
