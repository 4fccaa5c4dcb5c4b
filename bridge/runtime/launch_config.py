"""What the marimo runtime is launched with: the user's config, our overrides."""

from __future__ import annotations

import os
from typing import Any

import msgspec


def user_config(notebook_path: str | None = None) -> dict[str, Any]:
    """The user's marimo configuration (marimo.toml, ``[tool.marimo]``, env).

    ``display.dataframes = "plain"`` is forced: marimo's rich table is a web
    component only its own frontend renders, and formatters are registered on
    first import, so it has to be set at launch.
    """
    from marimo._internal.config import get_default_config_manager

    manager = get_default_config_manager(current_path=notebook_path or os.getcwd())
    config: dict[str, Any] = msgspec.to_builtins(manager.get_config(hide_secrets=False))
    config.setdefault("display", {})["dataframes"] = "plain"
    return config


def on_cell_change(config: dict[str, Any]) -> str:
    """``autorun`` (dependents re-run) or ``lazy`` (dependents marked stale)."""
    return str(config.get("runtime", {}).get("on_cell_change", "autorun"))


def kernel_args(connection_info: Any, config: dict[str, Any], notebook_path: str | None) -> bytes:
    """The JSON KernelArgs that ``marimo._ipc.launch_kernel`` reads on stdin."""
    from marimo._internal.ipc import KernelArgs

    args = msgspec.convert(
        {
            "configs": {},
            "app_metadata": {
                "queryParams": {},
                "cliArgs": {},
                "appConfig": {},
                "filename": notebook_path,
            },
            "user_config": config,
            "log_level": 30,
            "profile_path": None,
            "connection_info": msgspec.to_builtins(connection_info),
            "is_run_mode": False,
            "redirect_console_to_browser": True,
            "parent_pid": os.getpid(),
        },
        KernelArgs,
    )
    return args.encode_json()
