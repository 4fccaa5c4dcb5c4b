"""Completion, inspection and history for the marimo kernel.

Completion and inspection go through marimo's own completion (jedi over the
code of every cell in the runtime's graph, falling back to the live globals
when the runtime is idle). It travels on the runtime's completion queue,
which a worker thread serves even while a cell runs, and its answer comes
back on the stream queue keyed by the request's id, outside any run: the
kernel hands it here before the run correlator could claim it.

ipykernel serves shell requests one at a time, so a completion would wait
for the running cell; these requests are served at once instead, as
ipykernel does for comm messages.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from bridge.jupyter.docs import (
    Source,
    complete_reply,
    definition_source,
    find_option,
    inspect_reply,
)
from bridge.jupyter.history import History
from bridge.jupyter.syntax import Target, name_at_cursor
from bridge.runtime.completion import COLD_BUDGET, WARM_BUDGET, Completions

if TYPE_CHECKING:
    from bridge.runtime.client import RuntimeClient

# Read-only requests answered while an execute_request holds the shell.
CONCURRENT_REQUESTS = frozenset(
    {
        "complete_request",
        "inspect_request",
        "is_complete_request",
        "history_request",
        "comm_info_request",
    }
)


class Introspection:
    """What the kernel answers about code without running it."""

    def __init__(
        self,
        ensure_runtime: Callable[[], Awaitable[RuntimeClient]],
        log: logging.Logger,
        names: Callable[[], Iterable[str]],
        busy: Callable[[], bool],
    ) -> None:
        """``names``: the notebook's defined names (the quick answer);
        ``busy``: whether a run is in flight (the runtime's jedi is then slow)."""
        self._log = log
        self.history = History()
        self.completer = Completions(ensure_runtime, log, names=names, busy=busy)
        # jedi is not thread-safe: one worker, and never on the event loop.
        self._jedi = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="bridge-jedi"
        )
        self._jedi_warm = False

    def record(self, code: str, execution_count: int, silent: bool, store_history: bool) -> None:
        """Called as a request is planned: its code is history if it counts."""
        if store_history and not silent:
            self.history.record(execution_count, code)

    async def complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:
        cursor = _clamp(code, cursor_pos)
        result = await self.completer.ask(code[:cursor])
        return complete_reply(result, cursor)

    async def inspect(self, code: str, cursor_pos: int | None, detail_level: int = 0
                      ) -> dict[str, Any]:
        target = name_at_cursor(code, _clamp(code, cursor_pos))
        if target is None:
            return inspect_reply("", None, None, detail_level)
        # Completing the code up to the end of the name documents that name;
        # names alone (the quick answer) document nothing.
        asked = self.completer.ask(code[: target.end], quick=False)
        if detail_level >= 1:
            result, source = await asyncio.gather(asked, self._find_source(code, target))
        else:
            result, source = await asked, None
        return inspect_reply(target.name, find_option(result, target.name), source, detail_level)

    async def _find_source(self, code: str, target: Target) -> Source | None:
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(
            self._jedi, definition_source, self.history.codes(), code, target
        )
        # The bridge's own jedi is cold at first too (completion.py).
        budget = WARM_BUDGET if self._jedi_warm else COLD_BUDGET
        try:
            source = await asyncio.wait_for(job, budget)
        except asyncio.TimeoutError:
            self._log.warning("inspection: jedi found no source within %.0f s", budget)
            return None
        except Exception:
            self._log.debug("inspection: jedi failed", exc_info=True)
            return None
        self._jedi_warm = True
        return source


def _clamp(code: str, cursor_pos: int | None) -> int:
    """The cursor as an index into ``code`` (the protocol counts code points)."""
    if cursor_pos is None:
        return len(code)
    return max(0, min(int(cursor_pos), len(code)))
