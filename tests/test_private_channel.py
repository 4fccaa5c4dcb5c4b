"""The bridge-to-runtime channel is private; forged Jupyter messages are ignored."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import zmq
from helpers import execute, runtime_process
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel
from jupyter_client.session import Session

from bridge.runtime.channel import PORTS, PREFIX_ENV

NOBODY = 65534
PROBE = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("refused")
else:
    print("connected")
"""


def test_the_runtime_channel_is_private(tmp_path) -> None:
    km, kc = start_new_kernel(
        kernel_name="marimo", cwd=str(tmp_path), env={**os.environ, "MARIMO_BRIDGE_TWIN": "0"}
    )
    try:
        folder = _check_private(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    # The folder goes away with the kernel.
    deadline = time.monotonic() + 15
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists()


def _check_private(km: KernelManager, kc: BlockingKernelClient) -> Path:
    assert execute(kc, "x = 1").status == "ok"
    runtime = runtime_process(km)
    # No TCP between bridge and runtime: the runtime has no TCP socket at all
    # (marimo's own IPC would have five, on 127.0.0.1).
    assert runtime.net_connections(kind="tcp") == []
    assert runtime.net_connections(kind="unix"), "it talks over unix sockets"

    prefix = runtime.environ()[PREFIX_ENV]
    assert prefix.startswith("ipc://")
    folder = Path(prefix[len("ipc://") :]).parent
    mode = folder.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o700 and mode.st_uid == os.getuid()
    sockets = sorted(p.name for p in folder.iterdir())
    assert sockets == sorted(f"ch:{port}" for port in PORTS.values())
    if os.geteuid() == 0:
        # Another user's process cannot even reach the socket files. (The
        # system interpreter: this venv's may sit where that user can't read.)
        python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        probe = subprocess.run(
            [python, "-c", PROBE, str(folder / "ch:1")],
            user=NOBODY,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert probe.stdout.strip() == "refused", probe.stdout + probe.stderr
    assert execute(kc, "x + 1").status == "ok"
    return folder


def test_messages_with_a_bad_signature_are_ignored(kernel, tmp_path) -> None:
    km, kc = kernel
    marker = tmp_path / "forged.txt"
    forger = Session(key=b"not-the-kernel-key", username="mallory")
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.connect(f"{km.transport}://{km.ip}:{km.shell_port}")
    try:
        forged = forger.msg(
            "execute_request",
            {
                "code": f"open({str(marker)!r}, 'w').write('pwned')",
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        forger.send(sock, forged)
        # The kernel answers a genuine request after it: the forged one was
        # dropped, not queued.
        assert execute(kc, "after_forgery = 1").status == "ok"
        assert sock.poll(500) == 0, "no reply to a forged message"
    finally:
        sock.close(linger=0)
    assert not marker.exists()


def test_the_bridge_reads_marimos_stream_itself() -> None:
    # The private parts of marimo's Connection this bridge relies on: an
    # upgrade that moves them fails here, not silently in a slower fallback.
    from bridge.runtime import channel

    folder, prefix = channel.reserve()
    try:
        queues, _info = channel.bind(prefix)
        try:
            assert channel.stop_receiver(queues.conn), "marimo's receiver thread was not found"
        finally:
            queues.close_queues()
    finally:
        channel.remove(folder)
