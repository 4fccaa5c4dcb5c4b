"""The Jupyter face: an ipykernel ``Kernel`` that hands cells to marimo.

ipykernel provides signing, channels, heartbeat and busy/idle. This class
overrides only what ipykernel makes it override, each a short delegation to
a part it owns (docs/architecture.md, "The kernel class: who owns what"):
``Requests`` answers an execute_request once the reactive run it caused has
completed, ``RuntimeHost`` keeps the marimo runtime, ``Introspection``
answers about code, ``Guards`` make sure every request is answered.
"""

from __future__ import annotations

import asyncio
import os
import signal
from contextvars import copy_context
from typing import Any

from ipykernel.kernelbase import Kernel
from tornado import ioloop

from bridge import __version__
from bridge.ipython import run as ipython_run
from bridge.ipython.kernel_magics import CONNECTION_FILE_ENV
from bridge.jupyter import info
from bridge.jupyter.interaction import InteractionRuns
from bridge.jupyter.introspection import CONCURRENT_REQUESTS, Introspection
from bridge.jupyter.iopub import IOPubSender
from bridge.jupyter.ipython_face import IPythonFace
from bridge.jupyter.notifications import Notifications
from bridge.jupyter.protocol import Guards
from bridge.jupyter.records import Records
from bridge.jupyter.reply import Replies
from bridge.jupyter.requests import Requests
from bridge.jupyter.run_all import peek
from bridge.jupyter.runtime_host import RuntimeHost
from bridge.jupyter.stdin import InputBroker
from bridge.jupyter.syntax import is_complete
from bridge.jupyter.widget_face import WidgetFace
from bridge.twin.keeper import TwinKeeper


class MarimoKernel(Kernel):
    implementation = info.IMPLEMENTATION
    implementation_version = __version__
    language_info = info.LANGUAGE_INFO

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # ipykernel sleeps 0.5 ms before each execute_reply so that its IOPub
        # thread sends the outputs first; here IOPub is sent on this loop
        # (iopub.py), before the reply, so there is nothing to wait for.
        self._execute_sleep = 0.0
        loop = ioloop.IOLoop.current()
        iopub = IOPubSender(self.session, self.iopub_socket, self._topic)
        publish = iopub.send
        connection_file = getattr(self.parent, "abs_connection_file", None)
        if connection_file:
            # For the runtime's %connect_info and %qtconsole (it inherits the
            # environment): bridge/ipython/kernel_magics.py.
            os.environ[CONNECTION_FILE_ENV] = connection_file
        twin = TwinKeeper(os.environ, connection_file)
        self._records = records = Records.new(twin, publish)
        router = records.router
        self._stdin = InputBroker(self.session, self.stdin_socket)
        # The runtime's notifications and lifecycle go to ``notes`` (below).
        self._host = host = RuntimeHost(
            records, loop, lambda n: notes.dispatch(n), lambda r: notes.runtime_started(r),
            lambda: notes.runtime_lost(),
        )
        # %run and %load read files where the runtime is (%cd moves it).
        ipython_run.directory = host.cwd
        self._introspection = Introspection(
            host.ensure, self.log,
            names=records.cells.defined_names,
            busy=lambda: len(records.correlator) > 0,  # a run in flight
        )
        interactions = InteractionRuns(router, host, self.log)
        self._widget_face = WidgetFace(
            self.session, iopub, lambda: router.latest_parent,
            lambda command, parent: interactions.run(command, parent, self.execution_count),
            self.log,
        )
        self.shell_handlers.update(self._widget_face.handlers)
        notes = Notifications(
            records, host, self._stdin, self._widget_face.relay, self._introspection.completer,
            self.log,
        )
        self._requests = Requests(
            records, host,
            Replies(publish, records, lambda: self.execution_count),
            IPythonFace(self.do_inspect, host.cwd, self.log),
            self._stdin, self._introspection.record, self.session, self.log,
        )
        self._guards = Guards(self.session, publish, lambda: self.execution_count,
                              self.log)
        self._guards.wrap(self.shell_handlers)
        self._guards.wrap(self.control_handlers)
        self._stop_aborting: asyncio.Future[None] | None = None
        # Started now, awaited by the first request: kernel_info_reply must not
        # wait for marimo's import.
        host.start()
        signal.signal(signal.SIGINT, self._on_sigint)
        signal.signal(signal.SIGTERM, self._on_sigterm)

    # -- kernel_info -----------------------------------------------------
    @property
    def banner(self) -> str:  # type: ignore[override]
        return info.banner(self._host.mode, self._records.twin.describe())

    @property
    def kernel_info(self) -> dict[str, Any]:
        return info.kernel_info(self.banner, self.help_links)

    # -- shell messages ----------------------------------------------------
    async def shell_main(self, subshell_id: str | None, msg: Any) -> None:
        """Before ipykernel reads a message: Run All's bookkeeping, a widget
        interaction sent before busy, and read-only requests answered at once."""
        msg_type = None
        found = peek(self.session, msg) if subshell_id is None and self.session else None
        if found is not None:
            head = found["header"]
            msg_type = head.get("msg_type")
            if msg_type == "execute_request":
                # Waiting until ipykernel takes it up (set_parent): Run All's
                # shape (run_all.py, batching.py). Recorded whether or not the
                # shell lock is held: between a release and the next holder's
                # wake-up it is free, and a request arriving then still waits.
                self._records.run_all.arrived(str(head.get("msg_id")), msg)
            elif msg_type == "comm_msg":
                self._widget_face.peek(found)
        if msg_type in CONCURRENT_REQUESTS and self._main_asyncio_lock.locked():
            await self._answer_concurrently(msg)
            return
        await super().shell_main(subshell_id, msg)

    async def _answer_concurrently(self, msg: Any) -> None:
        """A read-only request while an execute_request holds the shell: as
        ipykernel's comm path, no busy/idle (the running request owns the
        kernel's status), and the running request's parent restored after."""
        parent = self.get_parent("shell")
        ident = self._get_shell_context_var(self._shell_parent_ident)
        try:
            await asyncio.create_task(
                self.dispatch_shell(msg, subshell_id=None, concurrent=True),
                context=copy_context(),
            )
        finally:
            self.set_parent(ident, parent, channel="shell")

    async def execute_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        if self._guards.refused_unread(stream, ident, parent):
            return
        # As IPython, only requests that store history advance the count: VS
        # Code's startup code (``store_history: false``) would push the first
        # cell's prompt and the history's line numbers past 1.
        content = parent.get("content", {})
        silent = bool(content.get("silent", False))
        uncounted = not silent and not content.get("store_history", not silent)
        before = self.execution_count
        await super().execute_request(stream, ident, parent)
        if uncounted and self.execution_count == before + 1:
            self.execution_count = before

    def set_parent(self, ident: Any, parent: Any, channel: str = "shell") -> None:
        super().set_parent(ident, parent, channel)
        header = parent.get("header") if isinstance(parent, dict) else None
        if channel == "shell" and isinstance(header, dict):
            if header.get("msg_type") == "execute_request":
                # Taken up, even if ipykernel aborts it: no longer waiting.
                self._records.run_all.started(str(header.get("msg_id")))
                self._requests.early.taken_up(parent, self._aborting, self.execution_count)

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: object = None,
    ) -> dict[str, Any]:
        return await self._requests.execute(
            code, silent, store_history, allow_stdin, cell_meta, cell_id,
            self.get_parent("shell"), self._get_shell_context_var(self._shell_parent_ident),
            self.execution_count,
        )

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
        if not self._requests.replies.stop_queue:
            return
        if self.shell_channel_thread is not None or subshell_id is not None:
            super()._abort_queues(subshell_id)
            return
        self._aborting = True
        if self.shell_stream is not None:
            self.shell_stream.flush()  # messages still in the socket queue up too
        grace, lock = self.stop_on_error_timeout, self._main_asyncio_lock

        async def stop_aborting() -> None:
            if grace:
                await asyncio.sleep(grace)
            async with lock:
                self._aborting = False

        self._stop_aborting = asyncio.ensure_future(stop_aborting())

    # -- about code --------------------------------------------------------
    async def do_complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:
        return await self._introspection.complete(code, cursor_pos)

    async def do_inspect(
        self, code: str, cursor_pos: int | None, detail_level: int = 0, omit_sections: Any = ()
    ) -> dict[str, Any]:
        return await self._introspection.inspect(code, cursor_pos, detail_level)

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        return is_complete(code)

    async def do_history(self, hist_access_type: Any = "tail", output: Any = False,
                         raw: Any = True, session: Any = None,
                         start: Any = None, stop: Any = None, n: Any = None, pattern: Any = None,
                         unique: Any = False, **newer: Any) -> dict[str, Any]:
        # raw and translated input are the same here: the kernel runs no
        # input transformers (%%scratch stays, as IPython keeps its magics).
        # ``newer``: fields of newer protocols must not cost the reply.
        return self._introspection.history.query(
            hist_access_type, bool(output), session, start, stop, n, pattern, bool(unique))

    # -- lifecycle -------------------------------------------------------
    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._stdin.cancel()
        self._host.interrupt()

    def _send_interrupt_children(self) -> None:
        # interrupt_request: the runtime is our child; a pending input ends too.
        self._stdin.cancel()
        super()._send_interrupt_children()

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        # The pending twin save lands before the kernel goes; then the runtime.
        self._records.twin.close(timeout=5.0)
        self._host.stop_now()
        os._exit(0)

    # ipykernel swaps in default_int_handler around each handler; keep ours so
    # SIGINT interrupts the runtime instead of raising in the bridge.
    def pre_handler_hook(self) -> None:
        pass

    def post_handler_hook(self) -> None:
        pass

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        await asyncio.get_running_loop().run_in_executor(None, self._records.twin.close)
        await self._host.shutdown()
        return {"status": "ok", "restart": restart}
