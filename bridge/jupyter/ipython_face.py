"""The Jupyter side of IPython's habits: replies a cell gets without a run.

``obj?`` is answered with the inspection text as ipykernel's pager payload,
``%quickref`` with a page, ``%load`` with IPython's ``set_next_input``
payload (the frontend replaces the cell's text), ``exit`` with IPython's
ask-exit payload (jupyter console closes), an unknown magic with IPython's
``UsageError``; ``%autoreload`` sets marimo's module autoreloader in the
runtime. The rewriting itself is bridge/ipython.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.ipython.asks import Ask, Help, Load, LoadError, Page, loaded
from bridge.ipython.rewrite import Rewritten
from bridge.runtime.client import RuntimeClient

Inspect = Callable[[str, int, int], Awaitable[dict[str, Any]]]
# Seconds a %load may take (a URL that does not answer).
LOAD_TIMEOUT = 60.0


class IPythonFace:
    def __init__(self, inspect: Inspect, cwd: Callable[[], str], log: Any) -> None:
        """``cwd``: the runtime's working directory, where ``%load`` reads."""
        self._inspect = inspect
        self._cwd = cwd
        self._log = log

    async def reply_without_run(
        self, rewritten: Rewritten, execution_count: int, warn: Callable[[str], None],
        say: Callable[[str], None],
    ) -> dict[str, Any] | None:
        """The reply of a cell of asks only (help, ``%load``) or of an exit
        cell; None for any other cell. A ``%load`` that finds nothing raises
        asks.LoadError; ``warn`` says what it loaded only in part."""
        if rewritten.only_asks:
            payload = await self.payloads(rewritten.asks, warn, say)
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

    async def payloads(
        self, asks: tuple[Ask, ...], warn: Callable[[str], None], say: Callable[[str], None]
    ) -> list[dict[str, Any]]:
        """The reply's payloads, as ipykernel's: ``obj?`` / ``obj??`` and
        ``%quickref`` as pager pages, ``%load`` as the cell's new text.
        ``say`` prints a line (an object ``obj?`` did not find)."""
        payload: list[dict[str, Any]] = []
        for ask in asks:
            if isinstance(ask, Help):
                found = await self._inspect(ask.name, len(ask.name), ask.level)
                if not found.get("data"):
                    # IPython prints it, and pages nothing.
                    say(f"Object `{ask.name}` not found.")
                    continue
                payload.append({"source": "page", "data": found["data"], "start": 0})
            elif isinstance(ask, Page):
                payload.append({"source": "page", "data": {"text/plain": ask.text}, "start": 0})
            elif isinstance(ask, Load):
                text, warnings = await self._load(ask.args)
                for warning in warnings:
                    warn(warning)
                payload.append({"source": "set_next_input", "text": text, "replace": True})
        return payload

    async def _load(self, args: str) -> tuple[str, list[str]]:
        """%load off the event loop (a URL may be slow), within a minute."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(loaded, args, self._cwd()), LOAD_TIMEOUT
            )
        except TimeoutError as exc:
            raise LoadError(
                "TimeoutError", f"%load {args}: nothing read in {LOAD_TIMEOUT:.0f} s"
            ) from exc

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
