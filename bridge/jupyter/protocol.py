"""ipykernel's request handling, adjusted for this kernel.

A mixin of ``MarimoKernel``, for the places where ipykernel's own behaviour
is wrong or slow here:

* every request gets a reply, even a malformed one or one whose handler
  raised (ipykernel logs and sends nothing; the client waits forever);
* no 0.5 ms sleep before the execute_reply: IOPub is sent on the loop
  (iopub.py), so the request's outputs are on their socket before it;
* after an error reply every request already sent is aborted, but only
  when the executed cell itself failed (Run All, see run_all.py).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from bridge.jupyter.run_all import RunAllTracker
from bridge.jupyter.validate import Problem, unreadable


class ProtocolMixin:
    # Set up by MarimoKernel.__init__ (and ipykernel's Kernel).
    _run_all: RunAllTracker
    _stop_queue: bool
    _stop_aborting: asyncio.Future[None] | None
    session: Any
    log: Any
    shell_handlers: dict[str, Any]
    control_handlers: dict[str, Any]
    execution_count: int
    shell_channel_thread: Any
    shell_stream: Any
    stop_on_error_timeout: float
    _main_asyncio_lock: asyncio.Lock
    _aborting: bool
    # MarimoKernel's (declared only: a body here could shadow it).
    _send_iopub: Callable[[str, dict[str, Any], dict[str, Any]], None]

    def _guard_handlers(self) -> None:
        """Every request gets a reply, even one whose handler raised.

        ipykernel logs an exception in a handler and sends nothing, so a
        client waits for a reply that never comes (a complete_request
        without ``code``, a shutdown_request without ``restart``). Here such
        a request gets an error reply, and the kernel goes on.
        """
        for handlers in (self.shell_handlers, self.control_handlers):
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
                self.log.error("Exception in %s handler:", msg_type, exc_info=True)
                detail = f"{type(exc).__name__}: {exc}"[:300]
                evalue = (
                    f"the kernel could not handle this {msg_type} ({detail}); "
                    "a field may be missing or of the wrong type"
                )
                self._refuse(stream, ident, parent, msg_type, Problem("InvalidRequest", evalue))

        return guarded

    def _refuse(
        self, stream: Any, ident: Any, parent: dict[str, Any], msg_type: str, problem: Problem
    ) -> None:
        """An error reply to a request refused unread, or whose handler failed."""
        assert self.session is not None
        error = {
            "ename": problem.ename,
            "evalue": problem.evalue,
            "traceback": [f"{problem.ename}: {problem.evalue}"],
        }
        content: dict[str, Any] = {"status": "error", **error}
        if msg_type == "execute_request":
            content["execution_count"] = self.execution_count
            # As every error reply of this kernel: an error output too (papermill
            # reads outputs), unless the request asked for silence.
            body = parent.get("content")
            if not (isinstance(body, dict) and body.get("silent") is True):
                self._send_iopub("error", error, parent)
        reply_type = msg_type.removesuffix("_request") + "_reply"
        self.session.send(stream, reply_type, content, parent, ident=ident)

    async def execute_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        """Answer what ipykernel's handler could not read; hand it the rest.

        ipykernel drops an execute_request without ``code`` (or whose
        metadata is not an object) with a log line and no reply, and fails
        while echoing code it cannot encode. Those get an error reply here,
        with no execute_input and no new execution count: nothing ran.
        """
        problem = unreadable(parent.get("content"), parent.get("metadata"))
        if problem is not None:
            self._refuse(stream, ident, parent, "execute_request", problem)
            return
        await super().execute_request(stream, ident, parent)  # type: ignore[misc]

    def _abort_queues(self, subshell_id: str | None = None) -> None:
        """After an error reply with stop_on_error: abort every request already sent.

        Only when the executed cell itself failed: a failed dependent's own
        waiting request reports it (run_all.py). ipykernel's own way without
        its shell-channel thread (see ``MarimoKernelApp``) stops aborting one
        loop turn later, but requests that came while the failing one ran are
        tasks already waiting for the shell lock, and only the first of them
        would be aborted. Stop aborting from behind that lock instead: it is
        first come, first served, so every request received so far is aborted.
        """
        if not self._stop_queue:
            return
        if self.shell_channel_thread is not None or subshell_id is not None:
            super()._abort_queues(subshell_id)  # type: ignore[misc]
            return
        self._aborting = True
        if self.shell_stream is not None:
            self.shell_stream.flush()  # messages still in the socket queue up too
        grace = self.stop_on_error_timeout
        lock = self._main_asyncio_lock

        async def stop_aborting() -> None:
            if grace:
                await asyncio.sleep(grace)
            async with lock:
                self._aborting = False

        self._stop_aborting = asyncio.ensure_future(stop_aborting())

