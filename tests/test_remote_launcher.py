"""``python -m bridge launch-remote``, with the test playing Enterprise Gateway.

The test does what EG's ``RemoteProcessProxy`` does (its response manager,
its communication-port requests) with EG's key sizes and payload format; the
whole chain through a real Enterprise Gateway, over ssh, is tests/remote
(``make remote``). Here the launcher is configured by environment variables
only, as in a Kubernetes pod (docs/remote.md), and binds loopback only.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
from helpers import collect, execute, send_execute, wait_gone, wait_until
from jupyter_client import BlockingKernelClient


def decode(data: bytes, private_key: Any) -> dict[str, Any]:
    """EG's ResponseManager._decode_payload for payload version 1."""
    from Cryptodome.Cipher import AES, PKCS1_v1_5
    from Cryptodome.Util.Padding import unpad

    payload = json.loads(base64.b64decode(data))
    assert payload["version"] == 1
    aes_key = PKCS1_v1_5.new(private_key).decrypt(base64.b64decode(payload["key"]), None)
    sealed = base64.b64decode(payload["conn_info"])
    info: dict[str, Any] = json.loads(unpad(AES.new(aes_key, AES.MODE_ECB).decrypt(sealed), 16))
    return info


@dataclass
class Launched:
    launcher: subprocess.Popen[bytes]
    info: dict[str, Any]

    def comm(self, request: Any) -> None:
        """One request on the communication port, sent as EG sends it."""
        with socket.create_connection(("127.0.0.1", self.info["comm_port"]), timeout=5) as s:
            s.sendall(json.dumps(request).encode())
            s.shutdown(socket.SHUT_WR)

    def client(self) -> BlockingKernelClient:
        kc = BlockingKernelClient()
        kc.load_connection_info(self.info)
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        return kc


@pytest.fixture
def launched(tmp_path: Any) -> Iterator[Launched]:
    from Cryptodome.PublicKey import RSA

    key = RSA.generate(1024)  # EG's ResponseManager.KEY_SIZE
    public = key.publickey().export_key("PEM").decode()
    public = "".join(line for line in public.splitlines() if "PUBLIC KEY" not in line)
    with socket.socket() as response:
        response.bind(("127.0.0.1", 0))
        response.listen(1)
        response.settimeout(60)
        kernel_id = str(uuid.uuid4())
        env = {
            **os.environ,
            # What EG's launch_kubernetes.py gives the pod (no command-line options).
            "KERNEL_ID": kernel_id,
            "RESPONSE_ADDRESS": f"127.0.0.1:{response.getsockname()[1]}",
            "PUBLIC_KEY": public,
            "PORT_RANGE": "0..0",
            "KERNEL_IP": "127.0.0.1",
            "KERNEL_WORKING_DIR": str(tmp_path),
        }
        launcher = subprocess.Popen(
            [sys.executable, "-m", "bridge", "launch-remote"], env=env, cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        )
        try:
            conn, _ = response.accept()
            with conn:
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
            info = decode(data, key)
            yield Launched(launcher, info)
        finally:
            if launcher.poll() is None:
                launcher.kill()
            launcher.wait(10)


def family(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parent = psutil.Process(pid)
    return [pid, *(child.pid for child in parent.children(recursive=True))]


def test_the_launcher_reports_a_kernel_that_runs_reactively_and_obeys_the_gateway(
    launched: Launched,
) -> None:
    info = launched.info
    # What EG reads: the five ports, the key, the process and the comm port.
    assert info["ip"] == "127.0.0.1" and info["transport"] == "tcp"
    assert info["pid"] == launched.launcher.pid and info["pgid"] == launched.launcher.pid
    assert info["comm_port"] > 0 and info["kernel_id"]
    assert all(info[f"{c}_port"] > 0 for c in ("shell", "iopub", "stdin", "hb", "control"))

    kc = launched.client()
    try:
        assert execute(kc, "a = 1").reply["content"]["status"] == "ok"
        shown = execute(kc, "b = a * 10\nprint(b)")
        assert "10" in shown.text()
        rerun = execute(kc, "a = 5")
        assert rerun.reply["content"]["status"] == "ok"
        assert "50" in rerun.text()  # the dependent re-ran, under the running request

        wait_until(lambda: len(family(launched.launcher.pid)) >= 3, what="kernel and runtime")
        processes = family(launched.launcher.pid)  # launcher, kernel, runtime

        # Requests EG never sends are logged and change nothing.
        for odd in ({"signum": "two"}, {"signum": 99999}, ["not", "an", "object"]):
            launched.comm(odd)
        assert execute(kc, "a").reply["content"]["status"] == "ok"

        # EG's liveness poll, then an interrupt as EG sends it (signum 2).
        launched.comm({"signum": 0})
        msg_id = send_execute(kc, "import time\ntime.sleep(60)")
        time.sleep(2)
        launched.comm({"signum": 2})
        interrupted = collect(kc, msg_id, timeout=30)
        assert interrupted.reply["content"]["status"] == "error"
        assert interrupted.reply["content"]["ename"] == "KeyboardInterrupt"
        assert execute(kc, "a").reply["content"]["status"] == "ok"  # still alive

        # EG's shutdown: a shutdown_request, then {"shutdown": 1}.
        kc.shutdown()
        launched.comm({"shutdown": 1})
    finally:
        kc.stop_channels()
    assert launched.launcher.wait(30) == 0
    for pid in processes:
        assert wait_gone(pid), f"process {pid} left behind after the gateway's shutdown"
    with pytest.raises(OSError):  # the communication port is closed: EG sees it gone
        launched.comm({"signum": 0})


def test_the_launcher_refuses_to_start_without_what_the_gateway_passes() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("KERNEL_ID", "RESPONSE_ADDRESS", "EG_RESPONSE_ADDRESS", "PUBLIC_KEY",
                        "EG_PUBLIC_KEY")}
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "launch-remote", "--port-range", "1..x"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "--kernel-id" in done.stderr and "--public-key" in done.stderr


def test_port_ranges_read_as_enterprise_gateway_reads_them() -> None:
    from bridge.remote.launcher import listen_address, port_range

    assert port_range("40000..41000") == (40000, 41000)
    assert port_range("0..0") == port_range("40000..40000") == port_range(None) == (0, 0)
    for bad in ("40000", "a..b", "41000..40000"):
        with pytest.raises(SystemExit):
            port_range(bad)
    # The kernel listens where ssh reached the host, unless told otherwise.
    assert listen_address({"SSH_CONNECTION": "10.0.0.5 50000 10.0.0.9 22"}) == "10.0.0.9"
    assert listen_address({"KERNEL_IP": "127.0.0.3", "SSH_CONNECTION": "a b c d"}) == "127.0.0.3"
    assert listen_address({}) == "0.0.0.0"
