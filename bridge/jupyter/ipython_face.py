"""The Jupyter side of IPython's habits: replies a cell gets without a run.

``obj?`` is answered with the inspection text as ipykernel's pager payload,
``exit`` with IPython's ask-exit payload (jupyter console closes), an unknown
magic with IPython's ``UsageError``; ``%autoreload`` sets marimo's module
autoreloader in the runtime. The rewriting itself is bridge/ipython.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.ipython.rewrite import Rewritten
from bridge.runtime.client import RuntimeClient

Inspect = Callable[[str, int, int], Awaitable[dict[str, Any]]]


class IPythonFace:
    def __init__(self, inspect: Inspect, log: Any) -> None:
        self._inspect = inspect
        self._log = log

    async def reply_without_run(
        self, rewritten: Rewritten, execution_count: int
    ) -> dict[str, Any] | None:
        """The reply of a help-only or exit cell; None for any other cell."""
        if rewritten.only_pinfo:
            payload = await self.help_pages(rewritten.pinfo)
        elif rewritten.ask_exit:
            # As IPython's exit: the frontend closes (and shuts the kernel down).
            payload = [{"source": "ask_exit", "keepkernel": False}]
        else:
            return None
        return {
            "status": "ok",
            "execution_count": execution_count,
            "payload": payload,
            "user_expressions": {},
        }

    async def help_pages(self, asked: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
        """``obj?`` / ``obj??``: each object's inspection, as a pager page."""
        pages = []
        for name, level in asked:
            found = await self._inspect(name, len(name), level)
            data = found.get("data") or {"text/plain": f"Object `{name}` not found."}
            pages.append({"source": "page", "data": data, "start": 0})
        return pages

    def set_auto_reload(self, runtime: RuntimeClient, mode: str) -> None:
        """%autoreload: marimo's module autoreloader, runtime.auto_reload."""
        from marimo._internal.commands import UpdateUserConfigCommand

        config = copy.deepcopy(runtime.config)
        config.setdefault("runtime", {})["auto_reload"] = mode
        runtime.config = config
        try:
            runtime.send(UpdateUserConfigCommand(config=config))  # type: ignore[arg-type]
        except Exception as exc:
            self._log.warning("could not set marimo's auto_reload: %s", exc)
