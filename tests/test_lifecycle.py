"""Interrupts, runtime death, shutdown and kernel_info, with real processes."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import psutil
from helpers import collect, execute, runtime_process, send_execute, wait_gone
from jupyter_client.manager import start_new_kernel


def test_kernel_info(kc) -> None:
    execute(kc, "pass")  # the mode is known once the runtime is up
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=30)["content"]
    assert tuple(int(p) for p in reply["protocol_version"].split(".")) >= (5, 4)
    assert reply["implementation"] == "marimo-bridge"
    assert reply["language_info"]["name"] == "python"
    assert "marimo" in reply["banner"] and "on_cell_change=autorun" in reply["banner"]
    assert "debugger" not in reply.get("supported_features", [])


def _interrupt_soon(action, delay: float = 1.0) -> threading.Timer:
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_sigint_interrupts_the_cell_and_aborts_the_queue(kernel) -> None:
    km, kc = kernel
    # Wait until the cell really runs, then interrupt the way Jupyter does
    # (interrupt_mode "signal": SIGINT to the bridge).
    execute(kc, "import time")
    sleeper = kc.execute("time.sleep(30)")
    queued = kc.execute("queued_after = 1")
    _interrupt_soon(km.interrupt_kernel)
    result = collect(kc, sleeper, timeout=20)  # the 30 s sleep did not run out
    assert result.status == "error"
    assert result.content["ename"] == "KeyboardInterrupt"
    aborted = kc.get_shell_msg(timeout=20)
    assert aborted["parent_header"]["msg_id"] == queued
    assert aborted["content"]["status"] == "aborted"
    # The bridge survived and the kernel keeps working.
    assert execute(kc, "after = 2 + 2; after").status == "ok"


def test_a_cell_that_catches_the_interrupt_ran_and_its_dependents_did_not(kernel) -> None:
    """As in ipykernel: a cell that catches the KeyboardInterrupt and goes on
    (as %mprun does) succeeded, and the queue goes on. marimo cancels the
    rest of the run, so a dependent it would re-run next did not run: that
    reply says the run was interrupted."""
    km, kc = kernel
    execute(kc, "pass")  # the runtime is up: the interrupt lands in the cell
    catching = (
        "import time\ntry:\n    time.sleep({})\n    outcome = 'slept'\n"
        "except KeyboardInterrupt:\n    outcome = 'caught'\nprint(outcome)"
    )
    request = send_execute(kc, catching.format(30), cell_id="catcher")
    queued = send_execute(kc, "after_catch = 1", cell_id="after")
    _interrupt_soon(km.interrupt_kernel)
    result = collect(kc, request, timeout=20)
    assert result.status == "ok", result.content
    assert "caught" in result.text()
    assert collect(kc, queued, timeout=20).status == "ok"
    assert execute(kc, "reader = outcome + '!'", cell_id="reader").status == "ok"
    request = send_execute(kc, catching.format(31), cell_id="catcher")
    _interrupt_soon(km.interrupt_kernel)
    result = collect(kc, request, timeout=20)
    assert result.status == "error", result.content
    assert result.content["ename"] == "KeyboardInterrupt", result.content


def test_interrupt_request_on_control_channel(kc) -> None:
    execute(kc, "import time")
    sleeper = kc.execute("time.sleep(30)")

    def send_interrupt() -> None:
        msg = kc.session.msg("interrupt_request", {})
        kc.control_channel.send(msg)

    _interrupt_soon(send_interrupt)
    result = collect(kc, sleeper, timeout=20)
    assert result.status == "error" and result.content["ename"] == "KeyboardInterrupt"
    assert execute(kc, "1 + 1").status == "ok"


def test_runtime_killed_mid_run_gives_error_then_fresh_runtime(kernel) -> None:
    km, kc = kernel
    execute(kc, "import time\nkept = 1")
    runtime = runtime_process(km)
    running = kc.execute("time.sleep(30)")
    _interrupt_soon(lambda: os.kill(runtime.pid, signal.SIGKILL))
    result = collect(kc, running, timeout=30)
    assert result.status == "error"
    assert result.content["ename"] == "RuntimeDied"
    assert "SIGKILL" in result.content["evalue"] and "lost" in result.content["evalue"]
    assert result.of_type("error"), "the error must be visible in the outputs too"

    # Next request: a fresh runtime, same bridge process. The variables went
    # with the old runtime, the cells did not: needing `kept` re-runs its cell.
    assert km.is_alive()
    bridge_pid = km.provisioner.process.pid  # type: ignore[union-attr]
    back = execute(kc, "kept + 1")
    assert back.status == "ok" and "2" in back.text()
    assert runtime_process(km).pid != runtime.pid
    assert km.provisioner.process.pid == bridge_pid  # type: ignore[union-attr]


def test_runtime_exit_from_os_exit(kc) -> None:
    result = execute(kc, "import os; os._exit(3)")
    assert result.status == "error" and "exited with code 3" in result.content["evalue"]
    assert execute(kc, "ok = True").status == "ok"


def test_shutdown_leaves_no_orphan(tmp_path) -> None:
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    try:
        execute(kc, "x = 1")
        runtime = runtime_process(km)
        bridge_pid = km.provisioner.process.pid  # type: ignore[union-attr]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert wait_gone(runtime.pid)
    assert wait_gone(bridge_pid)


def test_bridge_killed_runtime_exits_by_itself(tmp_path) -> None:
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    try:
        execute(kc, "x = 1")
        runtime = runtime_process(km)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        assert wait_gone(runtime.pid, timeout=20), "runtime outlived its bridge"
    finally:
        kc.stop_channels()
        km.cleanup_resources()


def socket_folder(km) -> Path:
    """The private folder of the bridge's sockets to its runtime."""
    bridge = psutil.Process(km.provisioner.process.pid)
    paths = {Path(c.laddr).parent for c in bridge.net_connections(kind="unix") if c.laddr}
    folders = [p for p in paths if p.name.startswith("marimo-bridge-")]
    assert len(folders) == 1, paths
    return folders[0]


def test_a_killed_bridges_socket_folder_is_removed_by_the_next_kernel(kernel, tmp_path) -> None:
    live_km, live_kc = kernel
    execute(live_kc, "alive = 1")
    live = socket_folder(live_km)
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    try:
        execute(kc, "x = 1")
        dead, runtime = socket_folder(km), runtime_process(km)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        assert wait_gone(runtime.pid, timeout=20)
    finally:
        kc.stop_channels()
        km.cleanup_resources()
    assert dead.exists()  # nobody was left to remove it
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    try:
        assert execute(kc, "y = 1").status == "ok"
        assert not dead.exists()
        assert socket_folder(km).exists()
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    # The live kernel's folder stays, and its runtime still answers.
    assert live.exists()
    result = execute(live_kc, "alive + 1")
    assert result.status == "ok" and "2" in result.text()


def test_restart_replaces_runtime(kernel) -> None:
    km, kc = kernel
    execute(kc, "before = 1")
    old = runtime_process(km)
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    assert wait_gone(old.pid)
    result = execute(kc, "before")
    assert result.status == "error" and result.content["ename"] == "NameError"
    assert psutil.pid_exists(runtime_process(km).pid)


def test_working_directory_is_the_kernels(kernel, tmp_path) -> None:
    _km, kc = kernel
    (tmp_path / "data.txt").write_text("hello from cwd")
    result = execute(kc, "open('data.txt').read()")
    assert result.status == "ok"
    assert "hello from cwd" in result.text()


def test_runtime_death_between_requests_is_told_in_the_next(kernel) -> None:
    km, kc = kernel
    execute(kc, "kept = 1")
    runtime = runtime_process(km)
    os.kill(runtime.pid, signal.SIGKILL)
    # Between requests: the bridge has seen the death (and reaped the child)
    # before the next request arrives.
    assert wait_gone(runtime.pid, reaped=True)
    result = execute(kc, "fresh = 1")
    assert result.status == "ok"
    assert "lost" in result.text() and "SIGKILL" in result.text()


def test_error_aborts_every_queued_request(kc) -> None:
    # JupyterLab's Run All sends every request at once; after an error reply
    # (stop_on_error) all requests already sent are aborted, not just the next.
    execute(kc, "import time")
    failing = kc.execute("time.sleep(1); 1 / 0")
    queued = [kc.execute(f"queued_{i} = {i}") for i in range(4)]
    assert collect(kc, failing, timeout=20).status == "error"
    for msg_id in queued:
        reply = kc.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "aborted"
    assert execute(kc, "after_abort = 1").status == "ok"
