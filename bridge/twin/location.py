"""Which notebook this kernel serves, and where its twin lives.

The notebook's path comes, in this order, from: ``MARIMO_BRIDGE_NOTEBOOK``
(set it in kernel.json's ``env`` or the environment),
``KERNEL_MARIMO_BRIDGE_NOTEBOOK`` (the same, named so that a kernel gateway
passes it on: gateways give a kernel only ``KERNEL_*`` variables),
``JPY_SESSION_NAME`` (jupyter_server; behind a gateway, relative to
``KERNEL_WORKING_DIR``, the notebook's folder jupyter_server sends),
``jupyter_session`` in the connection file (jupyter_client), and the
``__vsc_ipynb_file__ = "..."`` line of VS Code's startup code. The twin
is that path with ``.ipynb`` replaced by ``MARIMO_BRIDGE_TWIN_SUFFIX`` (default
``.py``); ``MARIMO_BRIDGE_TWIN=0`` turns the twin off.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

NOTEBOOK_ENV = "MARIMO_BRIDGE_NOTEBOOK"
GATEWAY_NOTEBOOK_ENV = "KERNEL_MARIMO_BRIDGE_NOTEBOOK"
# jupyter_server's gateway client sends the notebook's folder in this.
WORKING_DIR_ENV = "KERNEL_WORKING_DIR"
SUFFIX_ENV = "MARIMO_BRIDGE_TWIN_SUFFIX"
SWITCH_ENV = "MARIMO_BRIDGE_TWIN"

_VSCODE = re.compile(r"""^\s*__vsc_ipynb_file__\s*=\s*(?P<q>['"])(?P<path>.+?)(?P=q)\s*$""", re.M)


def enabled(env: Mapping[str, str]) -> bool:
    return env.get(SWITCH_ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def from_launch(env: Mapping[str, str], connection_file: str | None) -> Path | None:
    """The notebook path known when the kernel starts, if any."""
    for candidate in (env.get(NOTEBOOK_ENV), env.get(GATEWAY_NOTEBOOK_ENV)):
        if candidate:
            return _resolve(candidate)
    session_name = env.get("JPY_SESSION_NAME")
    if session_name:
        folder = env.get(WORKING_DIR_ENV)
        if folder and not os.path.isabs(session_name):
            return Path(folder) / Path(session_name).name
        return _resolve(session_name)
    if connection_file:
        try:
            with open(connection_file, encoding="utf-8") as f:
                session = json.load(f).get("jupyter_session")
        except (OSError, ValueError, AttributeError):
            session = None
        if isinstance(session, str) and session:
            return _resolve(session)
    return None


def from_vscode(code: str) -> Path | None:
    """The path in VS Code's startup code (``__vsc_ipynb_file__ = "..."``)."""
    if "__vsc_ipynb_file__" not in code:
        return None
    match = _VSCODE.search(code)
    if match is None:
        return None
    raw = match.group("path")
    try:
        # The line is Python: undo its string escapes (Windows backslashes).
        raw = raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        pass
    return _resolve(raw)


def twin_path(notebook: Path, env: Mapping[str, str]) -> Path:
    suffix = env.get(SUFFIX_ENV) or ".py"
    name = notebook.name
    stem = name[: -len(".ipynb")] if name.endswith(".ipynb") else notebook.stem
    return notebook.with_name(stem + suffix)


def _resolve(raw: str) -> Path:
    path = Path(os.path.expanduser(raw))
    if not path.is_absolute():
        # jupyter_server names a session relative to its root, while the kernel
        # runs in the notebook's folder: prefer a file that is really there.
        here, beside = Path.cwd() / path, Path.cwd() / path.name
        path = beside if not here.exists() and beside.exists() else here
    return path
