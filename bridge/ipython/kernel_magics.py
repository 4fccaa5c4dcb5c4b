"""``%connect_info`` and ``%qtconsole``: the magics about the kernel itself.

ipykernel answers them from its connection file: it prints the file and how
to connect another frontend to the kernel, or starts a Qt console on it.
Here they run in the runtime, which learns the kernel's connection file
from ``CONNECTION_FILE_ENV`` (the kernel sets it, bridge/jupyter/kernel.py,
and the runtime inherits it), and say what ipykernel says. The twin keeps them as
comments: under marimo there is no Jupyter kernel to connect to.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import warnings

from bridge.ipython.replacement import Replacement

CONNECTION_FILE_ENV = "MARIMO_BRIDGE_CONNECTION_FILE"
_MODULE = "__import__('bridge.ipython.kernel_magics', fromlist=['_'])"


def connect_info_magic(args: str) -> Replacement:
    return Replacement(setup=[f"{_MODULE}.connect_info()"], twin="pass  # %connect_info")


def qtconsole_magic(args: str) -> Replacement:
    return Replacement(
        setup=[f"{_MODULE}.qtconsole({args.strip()!r})"],
        twin=f"pass  # %qtconsole {args.strip()}".rstrip(),
    )


def _connection_file() -> str | None:
    path = os.environ.get(CONNECTION_FILE_ENV)
    if not path or not os.path.exists(path):
        warnings.warn(
            "Could not get connection info: this runtime's kernel has no connection file",
            stacklevel=3,
        )
        return None
    return path


def connect_info() -> None:
    """In the runtime: ipykernel's ``%connect_info``."""
    from jupyter_core.paths import jupyter_runtime_dir

    path = _connection_file()
    if path is None:
        return
    with open(path, encoding="utf-8") as file:
        info = file.read()
    # In the default folder, the file's name is enough, as ipykernel says.
    shown = os.path.basename(path) if os.path.dirname(path) == jupyter_runtime_dir() else path
    print(info + "\n")
    print(
        "Paste the above JSON into a file, and connect with:\n"
        "    $> jupyter <app> --existing <file>\n"
        "or, if you are local, you can connect with just:\n"
        f"    $> jupyter <app> --existing {shown}\n"
        "or even just:\n"
        "    $> jupyter <app> --existing\n"
        "if this is the most recent Jupyter kernel you have started."
    )


def qtconsole(args: str) -> None:
    """In the runtime: ipykernel's ``%qtconsole`` (a Qt console on this
    kernel, in a session of its own so that an interrupt leaves it be)."""
    path = _connection_file()
    if path is None:
        return
    command = "from qtconsole import qtconsoleapp; qtconsoleapp.main()"
    try:
        subprocess.Popen(
            [sys.executable, "-c", command, "--existing", path, *shlex.split(args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        warnings.warn(f"Could not start qtconsole: {exc!r}", stacklevel=2)
