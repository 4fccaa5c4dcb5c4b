"""``python -m bridge launch-remote``: this kernel started by Enterprise Gateway.

Jupyter Enterprise Gateway starts a remote kernel through a launcher on the
kernel's host (over ssh with its ``DistributedProcessProxy``, as a pod with
``KubernetesProcessProxy``), and the launcher reports back. The model is
EG's launcher for ipykernel (``etc/kernel-launchers/python/scripts/
launch_ipykernel.py``); the protocol, as EG's ``RemoteProcessProxy`` reads it:

1. EG passes ``--kernel-id``, ``--response-address`` (its ``ip:port``),
   ``--public-key`` and ``--port-range`` (``lower..upper``, ``0..0`` for any);
   in a pod the same come as ``KERNEL_ID``, ``RESPONSE_ADDRESS``,
   ``PUBLIC_KEY`` and ``PORT_RANGE`` (EG's ``launch_kubernetes.py``).
2. The launcher chooses the kernel's five ports in the range, writes the
   connection file, and opens a *communication port*.
3. It sends the connection info (with ``pid``, ``pgid``, ``comm_port`` and
   ``kernel_id``) to the response address, encrypted (crypto.py). EG
   connects to the ports at the address it reached the host by.
4. On the communication port EG sends ``{"signum": N}`` (0 is its liveness
   poll; 2 an interrupt, with the kernelspec's ``interrupt_mode: signal``)
   and ``{"shutdown": 1}`` after its shutdown_request.

Unlike EG's launcher, which becomes the kernel and forks a listener, this
one stays a small supervisor with the kernel (``python -m bridge -f``) as
its child: the kernel is the same process a local Jupyter starts, EG's
signals on the communication port are passed to it (EG's fallback, a
signal to the reported process group, reaches it directly), and when it
exits the launcher exits too, closing the communication port, which is how
EG learns that the kernel is gone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.remote.crypto import encrypt

log = logging.getLogger("bridge.launch-remote")

# After EG's {"shutdown": 1}: the kernel has had its shutdown_request and
# should be going; past this it is terminated, then killed.
SHUTDOWN_GRACE = 10.0
TERMINATE_GRACE = 5.0
PORT_RETRIES = 25


@dataclass(frozen=True)
class Options:
    kernel_id: str
    response_address: str
    public_key: str
    ports: tuple[int, int]  # (0, 0): any free port
    ip: str


def options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bridge launch-remote",
        description="Start the marimo kernel for Jupyter Enterprise Gateway and report "
        "its connection back (EG's kernel-launcher protocol). Each option falls back "
        "to the environment variable EG's Kubernetes pods set.",
    )
    # EG's kernelspecs pass the RemoteProcessProxy.* spellings; both are accepted.
    # In a pod, EG's launch_kubernetes.py sets the variables (its
    # bootstrap-kernel.sh also reads the EG_ ones).
    for name, envs, help_text in (
        ("kernel-id", ("KERNEL_ID",), "the kernel's id, as EG knows it"),
        ("response-address", ("RESPONSE_ADDRESS", "EG_RESPONSE_ADDRESS"),
         "EG's ip:port for the connection info"),
        ("public-key", ("PUBLIC_KEY", "EG_PUBLIC_KEY"), "EG's public key"),
        ("port-range", ("PORT_RANGE", "EG_PORT_RANGE"),
         "lower..upper for every port (0..0: any)"),
    ):
        parser.add_argument(
            f"--{name}", f"--RemoteProcessProxy.{name}", dest=name.replace("-", "_"),
            default=next((os.environ[e] for e in envs if os.environ.get(e)), None),
            help=f"{help_text} (default: ${' or $'.join(envs)})",
        )
    parser.add_argument(
        "--ip", default=listen_address(os.environ),
        help="the address the kernel's ports listen on (default: $KERNEL_IP, else the "
        "address ssh reached this host by, else 0.0.0.0 as EG's launcher)",
    )
    args, ignored = parser.parse_known_args(argv)
    if ignored:
        # EG's own (--RemoteProcessProxy.spark-context-initialization-mode none, ...).
        log.info("ignored: %s", " ".join(ignored))
    missing = [n for n in ("kernel_id", "response_address", "public_key")
               if not getattr(args, n)]
    if missing:
        parser.error("missing: " + ", ".join("--" + n.replace("_", "-") for n in missing))
    return Options(
        args.kernel_id, args.response_address, args.public_key,
        port_range(args.port_range), args.ip,
    )


def listen_address(env: Mapping[str, str]) -> str:
    """Where the kernel listens: EG connects to the address it chose the host
    by, which over ssh is the server side of ``SSH_CONNECTION`` (client ip,
    client port, server ip, server port)."""
    if env.get("KERNEL_IP"):
        return env["KERNEL_IP"]
    parts = env.get("SSH_CONNECTION", "").split()
    if len(parts) == 4:
        return parts[2]
    return "0.0.0.0"  # as EG's launcher (a pod: EG connects to the pod's ip)


def port_range(text: str | None) -> tuple[int, int]:
    if not text:
        return (0, 0)
    try:
        low, high = (int(part) for part in text.split(".."))
    except ValueError:
        raise SystemExit(f"invalid port range {text!r}: expected lower..upper") from None
    if not 0 <= low <= high <= 65535:
        raise SystemExit(f"invalid port range {text!r}")
    # As EG's launcher: a range of size zero (0..0, N..N) means any port.
    return (low, high) if high > low else (0, 0)


def bound_socket(ip: str, ports: tuple[int, int]) -> socket.socket:
    """A TCP socket bound to a free port of the range on ``ip``."""
    low, high = ports
    for _ in range(PORT_RETRIES):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((ip, random.randint(low, high) if high else 0))
            return sock
        except OSError:
            sock.close()
    raise SystemExit(f"no free port in {low}..{high} on {ip} after {PORT_RETRIES} tries")


def connection(folder: Path, options: Options) -> tuple[Path, socket.socket]:
    """The kernel's connection file, and the communication port's socket
    (bound while the kernel's five ports are still held, so it takes none of
    them)."""
    from jupyter_client.connect import write_connection_file as write

    probes = [bound_socket(options.ip, options.ports) for _ in range(5)]
    comm = bound_socket(options.ip, options.ports)
    shell, iopub, stdin, hb, control = (s.getsockname()[1] for s in probes)
    for probe in probes:
        probe.close()  # the kernel binds them next
    path = folder / f"kernel-{options.kernel_id}.json"
    write(
        fname=str(path), ip=options.ip, key=uuid.uuid4().hex.encode(), transport="tcp",
        shell_port=shell, iopub_port=iopub, stdin_port=stdin, hb_port=hb,
        control_port=control, kernel_name="marimo",
    )
    return path, comm


def report(options: Options, connection_file: Path, comm_port: int) -> None:
    """The connection info to EG's response address (step 3)."""
    info: dict[str, Any] = json.loads(connection_file.read_text())
    info.update(pid=os.getpid(), pgid=os.getpgid(0), comm_port=comm_port,
                kernel_id=options.kernel_id)
    host, _, port = options.response_address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(encrypt(info, options.public_key))


def read_request(conn: socket.socket) -> dict[str, Any] | None:
    """One request from EG: JSON, ended by EG closing its side."""
    conn.settimeout(5)
    data = b""
    try:
        while chunk := conn.recv(1024):
            data += chunk
    except OSError:
        pass
    try:
        request = json.loads(data) if data else None
    except ValueError:
        log.warning("unreadable request on the communication port: %r", data[:200])
        return None
    return request if isinstance(request, dict) else None


def supervise(kernel: subprocess.Popen[bytes], comm: socket.socket) -> None:
    """Serve EG's requests until the kernel exits (step 4), or outlives the
    grace EG's shutdown gives it (the caller then stops it)."""
    comm.settimeout(0.25)
    deadline: float | None = None  # after {"shutdown": 1}
    while kernel.poll() is None:
        if deadline is not None and time.monotonic() > deadline:
            log.warning("the kernel outlived its shutdown: terminated")
            return
        try:
            conn, _ = comm.accept()
        except (TimeoutError, InterruptedError):
            continue
        with conn:
            request = read_request(conn)
        if request is None:
            continue
        try:
            signum = int(request.get("signum") or 0)
        except (TypeError, ValueError):
            log.warning("ignored request on the communication port: %r", request)
            signum = 0
        if signum:  # 0 is EG's poll: being here answers it
            log.info("signal %d from the gateway", signum)
            _forward(kernel, signum)
        if request.get("shutdown") and deadline is None:
            deadline = time.monotonic() + SHUTDOWN_GRACE


def stop(kernel: subprocess.Popen[bytes]) -> int:
    """The kernel ended, gently if it can be; its exit code."""
    if kernel.poll() is None:
        kernel.terminate()
        try:
            kernel.wait(TERMINATE_GRACE)
        except subprocess.TimeoutExpired:
            kernel.kill()
    return kernel.wait()


def _forward(kernel: subprocess.Popen[bytes], signum: int) -> None:
    try:
        kernel.send_signal(signum)  # nothing once the kernel is reaped
    except (OSError, ValueError):
        log.warning("signal %r not sent to the kernel", signum, exc_info=True)


def main(argv: list[str]) -> int:
    logging.basicConfig(format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s",
                        level=logging.INFO)
    opts = options(argv)
    try:
        os.setsid()  # a process group of its own: EG may signal it whole
    except PermissionError:
        pass  # a group leader already
    folder = Path(tempfile.mkdtemp(prefix="marimo-remote-"))
    try:
        connection_file, comm = connection(folder, opts)
        # Listening before EG hears of it: its first poll must find the port.
        comm.listen(4)
        kernel = subprocess.Popen([sys.executable, "-m", "bridge", "-f", str(connection_file)])
        # When the communication port fails, EG signals the process group
        # (the pgid reported below), which holds the kernel: it gets the
        # signal itself. An interrupt is the kernel's alone; a SIGTERM sent
        # to the launcher's pid only is passed on (a second one is harmless).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda n, f: _forward(kernel, signal.SIGTERM))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the ssh session ends
        try:
            report(opts, connection_file, comm.getsockname()[1])
            log.info("kernel %s (pid %d) reported to %s", opts.kernel_id, kernel.pid,
                     opts.response_address)
            supervise(kernel, comm)
        finally:
            comm.close()
            code = stop(kernel)
        return code
    finally:
        shutil.rmtree(folder, ignore_errors=True)
