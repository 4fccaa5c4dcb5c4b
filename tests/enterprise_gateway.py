"""Enterprise Gateway starting the kernel on a "remote" host over ssh.

The remote host is this machine at 127.0.0.2, reached through an sshd of the
test's own (its keys and config in a temporary folder, listening on that
loopback address only). Enterprise Gateway's ``ip_is_local`` counts
127.0.0.1 and this machine's public addresses as local and would then skip
ssh; 127.0.0.2 is neither, so every launch, signal and kill goes over ssh
as it would to another host. Enterprise Gateway itself runs from its own
environment (``.venv-eg``, which ``make remote`` builds): it pins
jupyter_client < 7, which the kernel's environment cannot share.

Used by tests/remote and by the browser suite's Enterprise Gateway scenarios
(tests/e2e/test_lab_remote_kernels.py), both run by ``make remote``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway import GatewayClient

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
ARTIFACTS = TESTS / "artifacts" / "remote"
REMOTE_HOST = "127.0.0.2"
REMOTE_KERNEL = "marimo (reactive Python) on remote hosts"  # its display name
SSHD = Path("/usr/sbin/sshd")
EG_VENV = Path(os.environ.get("MARIMO_BRIDGE_EG_VENV", REPO / ".venv-eg"))


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Sshd:
    port: int
    home: Path  # a HOME whose .ssh has the client key and the host's key


@contextlib.contextmanager
def running_sshd(folder: Path) -> Iterator[Sshd]:
    """An sshd for REMOTE_HOST only, its keys and config in ``folder``."""
    assert SSHD.exists(), "sshd is missing: apt-get install openssh-server (.ci/run does)"
    home = folder / "home"
    (home / ".ssh").mkdir(parents=True)
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-f", str(folder / "host_key")], check=True)
    subprocess.run([*keygen, "-f", str(home / ".ssh" / "id_ed25519")], check=True)
    shutil.copy(home / ".ssh" / "id_ed25519.pub", folder / "authorized_keys")
    port = free_port(REMOTE_HOST)
    host_key = (folder / "host_key.pub").read_text().split()
    (home / ".ssh" / "known_hosts").write_text(
        f"[{REMOTE_HOST}]:{port} {host_key[0]} {host_key[1]}\n"
    )
    config = folder / "sshd_config"
    config.write_text("\n".join([
        f"ListenAddress {REMOTE_HOST}:{port}",
        f"HostKey {folder / 'host_key'}",
        f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        "",
    ]))
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege-separation folder
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "sshd.log").open("ab")
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"sshd exited; see {ARTIFACTS / 'sshd.log'}"
            try:
                socket.create_connection((REMOTE_HOST, port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "sshd did not listen"
                time.sleep(0.1)
        yield Sshd(port, home)
    finally:
        process.terminate()
        process.wait(10)


class EnterpriseGateway(GatewayClient):
    """Jupyter Enterprise Gateway on a loopback port, whose kernelspec
    ``marimo_remote`` (``python -m bridge install --remote-hosts``) starts
    kernels on REMOTE_HOST over ssh."""

    def __init__(self, folder: Path, sshd: Sshd) -> None:
        super().__init__()
        self.folder = folder
        self.sshd = sshd
        self.log_path = ARTIFACTS / "enterprise-gateway.log"
        self.kernel_logs = folder / "kernel-logs"  # the launchers' output, on the host

    def start(self) -> None:
        prefix = self.folder / "prefix"
        # The command docs/remote.md gives, with the test's host.
        subprocess.run(
            [sys.executable, "-m", "bridge", "install", "--prefix", str(prefix),
             "--remote-hosts", REMOTE_HOST],
            check=True,
        )
        self.kernel_logs.mkdir()
        env = {
            **os.environ,
            "HOME": str(self.sshd.home),  # paramiko's keys and known_hosts
            "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
            "JUPYTER_DATA_DIR": str(self.folder / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.folder / "runtime"),
            "EG_SSH_PORT": str(self.sshd.port),
            "EG_REMOTE_USER": pwd.getpwuid(os.getuid()).pw_name,
            # Where the launcher sends the connection info: loopback too.
            "EG_RESPONSE_IP": "127.0.0.1",
            "EG_KERNEL_LOG_DIR": str(self.kernel_logs),
            "EG_KERNEL_LAUNCH_TIMEOUT": "90",
        }
        env.pop("JUPYTER_CONFIG_DIR", None)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(EG_VENV / "bin" / "jupyter-enterprisegateway"),
             "--EnterpriseGatewayApp.ip=127.0.0.1", f"--EnterpriseGatewayApp.port={self.port}",
             f"--EnterpriseGatewayApp.auth_token={self.token}",
             "--EnterpriseGatewayApp.allowed_kernels=['marimo_remote']",
             # The notebook's name, which jupyter_server sends when allowed
             # (the twin's path; KERNEL_* variables pass anyway).
             "--EnterpriseGatewayApp.env_whitelist=['JPY_SESSION_NAME']",
             "--EnterpriseGatewayApp.list_kernels=True"],
            cwd=self.folder, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_up(self.log_path)

    def start_kernel(self, env: dict[str, str], name: str = "marimo_remote") -> str:
        # As JupyterLab's gateway client sends it: the user the kernel is for
        # (EG refuses root, its default unauthorized user; the kernel itself
        # runs as EG_REMOTE_USER on the host).
        return super().start_kernel({"KERNEL_USERNAME": "analyst", **env}, name)

    def kernel_log(self, kernel_id: str) -> str:
        path = self.kernel_logs / f"kernel-{kernel_id}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def running_enterprise_gateway(folder: Path, sshd: Sshd) -> Iterator[EnterpriseGateway]:
    assert (EG_VENV / "bin" / "jupyter-enterprisegateway").exists(), (
        f"Enterprise Gateway is not installed in {EG_VENV}: run make remote"
    )
    gateway = EnterpriseGateway(folder, sshd)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.shutdown_kernels()
        gateway.stop()
