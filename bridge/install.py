"""Install the ``marimo`` kernelspec from ``kernelspec/``."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

KERNEL_NAME = "marimo"


def spec_dir() -> Path:
    """The packaged kernelspec (installed as bridge/kernelspec, or the repo's)."""
    packaged = Path(__file__).parent / "kernelspec"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "kernelspec"


def install(user: bool = False, prefix: str | None = None) -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / KERNEL_NAME
        shutil.copytree(spec_dir(), target)
        spec_file = target / "kernel.json"
        spec = json.loads(spec_file.read_text())
        # The interpreter that has the bridge installed runs the kernel.
        spec["argv"][0] = sys.executable
        spec_file.write_text(json.dumps(spec, indent=1) + "\n")
        return KernelSpecManager().install_kernel_spec(
            str(target), KERNEL_NAME, user=user, prefix=prefix
        )
