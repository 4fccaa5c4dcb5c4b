"""Completion, inspection, is_complete and history for the marimo kernel.

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
from contextvars import copy_context
from typing import TYPE_CHECKING, Any

from bridge.jupyter.docs import (
    Source,
    complete_reply,
    definition_source,
    find_option,
    inspect_reply,
)
from bridge.jupyter.history import History
from bridge.jupyter.syntax import Target, is_complete, name_at_cursor
from bridge.runtime.completion import COLD_BUDGET, WARM_BUDGET, Completions
from bridge.runtime.messages import CompletionResult

if TYPE_CHECKING:
    from ipykernel.kernelbase import Kernel as _Base

    from bridge.notebook.cells import CellRegistry
    from bridge.runs.correlator import Correlator
    from bridge.runtime.client import RuntimeClient
else:
    _Base = object

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


class IntrospectionMixin(_Base):
    """Goes before ``Kernel`` in the bases of the kernel class."""

    if TYPE_CHECKING:

        async def _ensure_runtime(self) -> RuntimeClient: ...

        _cells: CellRegistry
        _correlator: Correlator

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._history = History()
        self._completer = Completions(
            self._ensure_runtime,
            self.log,
            names=lambda: self._cells.defined_names(),
            busy=lambda: len(self._correlator) > 0,  # a run in flight
        )
        # jedi is not thread-safe: one worker, and never on the event loop.
        self._jedi = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="bridge-jedi"
        )
        self._jedi_warm = False

    # -- hooks for the kernel --------------------------------------------
    def _record_history(
        self, code: str, execution_count: int, silent: bool, store_history: bool
    ) -> None:
        """Called as a request is planned: its code is history if it counts."""
        if store_history and not silent:
            self._history.record(execution_count, code)

    def _completion_arrived(self, result: CompletionResult) -> None:
        """A completion-result from the runtime, on the event loop."""
        self._completer.arrived(result)

    # -- shell dispatch --------------------------------------------------
    async def execute_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        """As IPython: only requests that store history advance the count.

        ipykernel's base Kernel counts every non-silent request, so VS Code's
        startup code (``store_history: false``) would push the first cell's
        prompt and the history's line numbers past 1.
        """
        content = parent.get("content", {})
        silent = bool(content.get("silent", False))
        uncounted = not silent and not content.get("store_history", not silent)
        before = self.execution_count
        await super().execute_request(stream, ident, parent)
        if uncounted and self.execution_count == before + 1:
            self.execution_count = before

    async def answer_concurrently(self, msg: Any) -> None:
        """A read-only request (CONCURRENT_REQUESTS) while an execute_request
        holds the shell: as ipykernel's comm path, no busy/idle (the running
        request owns the kernel's status), and the running request's parent
        is restored afterwards."""
        parent = self.get_parent("shell")
        ident = self._get_shell_context_var(self._shell_parent_ident)
        try:
            await asyncio.create_task(
                self.dispatch_shell(msg, subshell_id=None, concurrent=True),
                context=copy_context(),
            )
        finally:
            self.set_parent(ident, parent, channel="shell")

    # -- the runtime's completion ----------------------------------------
    async def _find_source(self, code: str, target: Target) -> Source | None:
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(
            self._jedi, definition_source, self._history.codes(), code, target
        )
        # The bridge's own jedi is cold at first too (completion.py).
        budget = WARM_BUDGET if self._jedi_warm else COLD_BUDGET
        try:
            source = await asyncio.wait_for(job, budget)
        except asyncio.TimeoutError:
            self.log.warning("inspection: jedi found no source within %.0f s", budget)
            return None
        except Exception:
            self.log.debug("inspection: jedi failed", exc_info=True)
            return None
        self._jedi_warm = True
        return source

    # -- the protocol ----------------------------------------------------
    async def do_complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:
        cursor = _clamp(code, cursor_pos)
        result = await self._completer.ask(code[:cursor])
        return complete_reply(result, cursor)

    async def do_inspect(
        self,
        code: str,
        cursor_pos: int | None,
        detail_level: int = 0,
        omit_sections: Any = (),
    ) -> dict[str, Any]:
        target = name_at_cursor(code, _clamp(code, cursor_pos))
        if target is None:
            return inspect_reply("", None, None, detail_level)
        # Completing the code up to the end of the name documents that name;
        # names alone (the quick answer) document nothing.
        asked = self._completer.ask(code[: target.end], quick=False)
        if detail_level >= 1:
            result, source = await asyncio.gather(asked, self._find_source(code, target))
        else:
            result, source = await asked, None
        return inspect_reply(target.name, find_option(result, target.name), source, detail_level)

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        return is_complete(code)

    async def do_history(
        self,
        hist_access_type: str = "tail",
        output: bool = False,
        raw: bool = True,
        session: int | None = None,
        start: int | None = None,
        stop: int | None = None,
        n: int | None = None,
        pattern: str | None = None,
        unique: bool = False,
        **extra: Any,  # fields of newer protocols must not cost the reply
    ) -> dict[str, Any]:
        # raw and translated input are the same here: the kernel runs no
        # input transformers (%%scratch stays, as IPython keeps its magics).
        return self._history.query(
            hist_access_type,
            output=bool(output),
            session=session,
            start=start,
            stop=stop,
            n=n,
            pattern=pattern,
            unique=bool(unique),
        )


def _clamp(code: str, cursor_pos: int | None) -> int:
    """The cursor as an index into ``code`` (the protocol counts code points)."""
    if cursor_pos is None:
        return len(code)
    return max(0, min(int(cursor_pos), len(code)))
