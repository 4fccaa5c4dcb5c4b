"""Install the ``marimo`` kernelspec from ``kernelspec/``, or its Enterprise
Gateway variant ``marimo_remote`` (docs/remote.md)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

KERNEL_NAME = "marimo"
REMOTE_KERNEL_NAME = "marimo_remote"
# Enterprise Gateway starts this kernelspec's argv on one of the hosts over
# ssh (its DistributedProcessProxy), with these placeholders filled in.
DISTRIBUTED_PROXY = "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy"
LAUNCHER_ARGS = [
    "--RemoteProcessProxy.kernel-id", "{kernel_id}",
    "--RemoteProcessProxy.response-address", "{response_address}",
    "--RemoteProcessProxy.public-key", "{public_key}",
    "--RemoteProcessProxy.port-range", "{port_range}",
]


def spec_dir() -> Path:
    """The kernelspec to copy: the checkout's ``kernelspec/`` (a source tree or an
    editable install), else the one the wheel installed as data files
    (``<prefix>/share/jupyter/kernels/marimo``, wherever pip's scheme put it)."""
    repo = Path(__file__).resolve().parent.parent / "kernelspec"
    if (repo / "kernel.json").is_file():
        return repo
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        files = distribution("marimo-bridge").files or []
    except PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "kernel.json" and file.parent.name == KERNEL_NAME:
            return Path(str(file.locate())).resolve().parent
    return Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def install(
    user: bool = False, prefix: str | None = None, remote_hosts: list[str] | None = None
) -> str:
    """The kernelspec, run by this interpreter; with ``remote_hosts``, the one
    Enterprise Gateway starts on those hosts (this interpreter's path must be
    the same there)."""
    from jupyter_client.kernelspec import KernelSpecManager

    name = REMOTE_KERNEL_NAME if remote_hosts else KERNEL_NAME
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / name
        shutil.copytree(spec_dir(), target)
        spec_file = target / "kernel.json"
        spec = json.loads(spec_file.read_text())
        # The interpreter that has the bridge installed runs the kernel.
        spec["argv"][0] = sys.executable
        if remote_hosts:
            spec["argv"] = [sys.executable, "-m", "bridge", "launch-remote", *LAUNCHER_ARGS]
            spec["display_name"] += " on remote hosts"
            spec["metadata"]["process_proxy"] = {
                "class_name": DISTRIBUTED_PROXY,
                "config": {"remote_hosts": ",".join(remote_hosts)},
            }
        spec_file.write_text(json.dumps(spec, indent=1) + "\n")
        return KernelSpecManager().install_kernel_spec(
            str(target), name, user=user, prefix=prefix
        )
