"""ipykernel's request handling, made to answer every request.

ipykernel logs an exception raised in a handler and sends nothing, and drops
an execute_request it cannot read (no ``code``, metadata that is not an
object) with a log line: a client then waits forever for the reply. Here
every such request gets an error reply, and the kernel goes on.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from bridge.jupyter.validate import Problem, unreadable

Publish = Callable[[str, dict[str, Any], dict[str, Any]], None]


class Guards:
    def __init__(
        self,
        session: Any,
        publish: Publish,
        execution_count: Callable[[], int],
        log: logging.Logger,
    ) -> None:
        self._session = session
        self._publish = publish  # on IOPub
        self._execution_count = execution_count
        self._log = log

    def wrap(self, handlers: dict[str, Any]) -> None:
        """Every request in ``handlers`` gets a reply, even if its handler raises
        (a complete_request without ``code``, a shutdown_request without
        ``restart``): an InvalidRequest error reply."""
        for msg_type, handler in list(handlers.items()):
            if msg_type.endswith("_request"):
                handlers[msg_type] = self._guarded(msg_type, handler)

    def _guarded(self, msg_type: str, handler: Any) -> Any:
        async def guarded(stream: Any, ident: Any, parent: dict[str, Any]) -> None:
            try:
                result = handler(stream, ident, parent)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._log.error("Exception in %s handler:", msg_type, exc_info=True)
                detail = f"{type(exc).__name__}: {exc}"[:300]
                evalue = (
                    f"the kernel could not handle this {msg_type} ({detail}); "
                    "a field may be missing or of the wrong type"
                )
                self._refuse(stream, ident, parent, msg_type, Problem("InvalidRequest", evalue))

        return guarded

    def refused_unread(self, stream: Any, ident: Any, parent: dict[str, Any]) -> bool:
        """Answer an execute_request ipykernel could not read; True if answered.

        With no execute_input and no new execution count: nothing ran.
        """
        problem = unreadable(parent.get("content"), parent.get("metadata"))
        if problem is None:
            return False
        self._refuse(stream, ident, parent, "execute_request", problem)
        return True

    def _refuse(
        self, stream: Any, ident: Any, parent: dict[str, Any], msg_type: str, problem: Problem
    ) -> None:
        """An error reply to a request refused unread, or whose handler failed."""
        error = {
            "ename": problem.ename,
            "evalue": problem.evalue,
            "traceback": [f"{problem.ename}: {problem.evalue}"],
        }
        content: dict[str, Any] = {"status": "error", **error}
        if msg_type == "execute_request":
            content["execution_count"] = self._execution_count()
            # As every error reply of this kernel: an error output too (papermill
            # reads outputs), unless the request asked for silence.
            body = parent.get("content")
            if not (isinstance(body, dict) and body.get("silent") is True):
                self._publish("error", error, parent)
        reply_type = msg_type.removesuffix("_request") + "_reply"
        self._session.send(stream, reply_type, content, parent, ident=ident)
