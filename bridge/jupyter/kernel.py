"""The Jupyter face: an ipykernel ``Kernel`` that hands cells to marimo.

ipykernel provides signing, channels, heartbeat and busy/idle; this class
turns each execute_request into marimo commands and answers only when the
reactive run it caused has completed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from importlib.metadata import version
from typing import Any

from ipykernel.kernelbase import Kernel
from tornado import ioloop

from bridge import __version__
from bridge.ipython.rewrite import rewrite
from bridge.jupyter.admission import Admitted, read
from bridge.jupyter.batching import RunAllBatcher
from bridge.jupyter.early_start import EarlyStartMixin, Planned
from bridge.jupyter.interaction import InteractionRuns
from bridge.jupyter.introspection import CONCURRENT_REQUESTS, IntrospectionMixin
from bridge.jupyter.ipython_face import IPythonFace
from bridge.jupyter.outputs import (
    RUN_STALE,
    SCRATCH_MAGIC,
    CellView,
    OutputRouter,
    RequestContext,
)
from bridge.jupyter.protocol import ProtocolMixin
from bridge.jupyter.reply import convert_hint, error_content, rerun_summary
from bridge.jupyter.run_all import RunAllTracker, peek
from bridge.jupyter.runtime_host import RuntimeHostMixin
from bridge.jupyter.stdin import InputBroker
from bridge.jupyter.validate import refused
from bridge.jupyter.widget_face import WidgetFace
from bridge.notebook.blame import Blame
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import LastOutputs
from bridge.runs.correlator import Correlator, Sink
from bridge.runs.request import RequestRun
from bridge.runtime import stop_on_error
from bridge.runtime.client import RuntimeClient, create_notebook
from bridge.twin.keeper import TwinKeeper
from bridge.widgets.elements import UiElements


class MarimoKernel(EarlyStartMixin, ProtocolMixin, RuntimeHostMixin, IntrospectionMixin, Kernel):
    implementation = "marimo-bridge"
    implementation_version = __version__
    language_info = {
        "name": "python",
        "version": ".".join(map(str, sys.version_info[:3])),
        "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python",
        "file_extension": ".py",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # ipykernel sleeps 0.5 ms before each execute_reply so that its IOPub
        # thread sends the outputs first; here IOPub is sent on this loop
        # (iopub.py), before the reply, so there is nothing to wait for.
        self._execute_sleep = 0.0
        self._io_loop = ioloop.IOLoop.current()
        self._loop_thread = threading.get_ident()
        self._cells = CellRegistry()
        self._correlator = Correlator()
        self._router = OutputRouter(self._send_iopub, self._cells)
        self._last_outputs = LastOutputs()
        # marimo's word for a cell it did not run, mended (notebook/blame.py).
        self._blame = Blame(self._cells, self._last_outputs)
        self._twin = TwinKeeper(os.environ, getattr(self.parent, "abs_connection_file", None))
        self._first_visible = True
        # The hint at the first MultipleDefinitionError (reply.convert_hint).
        self._convert_hinted = False
        self._stdin = InputBroker(self.session, self.stdin_socket)
        self._stdin_asker = None
        self._run_all = RunAllTracker()
        # Whether the last error reply may abort the waiting requests.
        self._stop_queue = True
        self._runtime = None
        # Why the last runtime went away, told in the next request's output
        # when no request was running to hear it.
        self._loss_notice = None
        self._runtime_ready = None
        # Known once the runtime's config is read (off the kernel_info path).
        self._mode = None
        self._stop_aborting: asyncio.Future[None] | None = None
        self._started = None
        self._held = None
        self._last_parent = None
        self._interactions = InteractionRuns(
            self._router,
            self._ready_runtime,
            self._ensure_runtime,
            self._send_command,
            self.log,
        )
        self._batcher = RunAllBatcher(
            self.session,
            self._cells,
            self._router,
            waiting=self._run_all.waiting,
            runtime=lambda: self._runtime,
            send_command=self._send_command,
            delete=self._drop_batched,
            # MARIMO_BRIDGE_BATCH=0: a run per request (to compare, or to rule
            # batching out when something looks wrong).
            supported=lambda: (
                os.environ.get("MARIMO_BRIDGE_BATCH", "1") != "0" and stop_on_error.supported()
            ),
            lazy=lambda: self._mode != "autorun",
            tell=self._tell_loss,
            log=self.log,
        )
        self._widget_face = WidgetFace(
            self,
            lambda: self._router.latest_parent,
            lambda command, parent: self._interactions.run(command, parent, self.execution_count),
        )
        self._widgets = self._widget_face.relay
        self._elements = UiElements(self._widgets, self.log)
        self._ipython = IPythonFace(self.do_inspect, self.log)
        # Started now, awaited by the first request: kernel_info_reply must not
        # wait for marimo's import.
        self._start_runtime()
        self._guard_handlers()
        signal.signal(signal.SIGINT, self._on_sigint)
        signal.signal(signal.SIGTERM, self._on_sigterm)

    # -- kernel_info -----------------------------------------------------
    @property
    def banner(self) -> str:  # type: ignore[override]
        return (
            f"marimo {version('marimo')} reactive runtime in Jupyter "
            f"(marimo-bridge {__version__}, "
            f"on_cell_change={self._mode or 'as set in your marimo config'})\n"
            "Running a cell re-runs the cells that depend on it.\n"
            f"{self._twin.describe()}"
        )

    @property
    def kernel_info(self) -> dict[str, Any]:
        # Not ipykernel's: it imports its debugger to ask whether debugpy is
        # there (0.14 s, on the way to the first kernel_info reply, and a
        # "frozen modules" warning in jupyter console's terminal), and claims
        # "debugger" when it is. This kernel has no debugger.
        return {
            "protocol_version": "5.4",
            "implementation": self.implementation,
            "implementation_version": self.implementation_version,
            "language_info": self.language_info,
            "banner": self.banner,
            "help_links": self.help_links,
            "supported_features": [],
        }

    # -- execute ---------------------------------------------------------
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
        parent = self.get_parent("shell")
        msg_id = parent["header"]["msg_id"]
        planned = self._take_started(msg_id)
        if planned is None:
            # Before anything is recorded or sent: a refused request changes nothing.
            problem = refused(code, cell_meta, cell_id)
            if problem is not None:
                self._stop_queue = True  # the request's own failure, as a failed cell
                return self._error_reply(problem.ename, problem.evalue, silent, parent)
            try:
                rewritten = rewrite(code)
            except Exception as exc:
                # A magic whose arguments do not parse (an unclosed quote):
                # the cell's own error, which stops the queue like any.
                self._stop_queue = True
                why = f"{type(exc).__name__}: {exc}"
                return self._error_reply("UsageError", why, silent, parent)
            if rewritten.error is not None:
                # IPython's word for a magic it cannot run; nothing is recorded.
                self._stop_queue = True
                return self._error_reply("UsageError", rewritten.error, silent, parent)
            answered = await self._ipython.reply_without_run(rewritten, self.execution_count)
            if answered is not None:
                if rewritten.only_pinfo:
                    self._record_history(code, self.execution_count, silent, store_history)
                return answered
            try:
                runtime = await self._ensure_runtime()
            except Exception as exc:
                self._record_history(code, self.execution_count, silent, store_history)
                self._runtime_ready = None
                self._correlator.lose_all("the marimo runtime could not start")
                return self._error_reply(
                    "RuntimeStartError",
                    f"the marimo runtime could not start: {exc}",
                    silent,
                    parent,
                )
            planned = self._plan(runtime, parent, read(parent, rewritten), self.execution_count)
        return await self._carry_out(planned, allow_stdin)

    def _plan(
        self,
        runtime: RuntimeClient,
        parent: dict[str, Any],
        admitted: Admitted,
        execution_count: int,
    ) -> Planned:
        """Record the request and send its commands to the runtime.

        Sends nothing on IOPub: this may run before ipykernel has published
        busy and execute_input (early_start.py).
        """
        from marimo._internal.commands import (
            ExecuteScratchpadCommand,
            ExecuteStaleCellsCommand,
        )

        msg_id = parent["header"]["msg_id"]
        code, rewritten, silent = admitted.code, admitted.rewritten, admitted.silent
        store_history, cell_meta, cell_id = (
            admitted.store_history, admitted.cell_meta, admitted.cell_id
        )
        # What the user typed (``code``) stays in history and the .ipynb; the
        # runtime runs ``rewritten.code``, its IPython syntax as Python, and
        # the twin keeps ``rewritten.twin``.
        self._record_history(code, execution_count, silent, store_history)
        document = self._twin.document
        assert document is not None
        # VS Code tells the notebook's path only in its startup code.
        if self._twin.discover(code, self._cells.new_id, runtime_empty=len(self._cells) == 0):
            self._adopt_loaded()
            opened = [(c.id, c.code) for c in self._twin.loaded]
            assert self._twin.document is not None
            document = self._twin.document
        else:
            opened = []

        run_stale = code.strip() == RUN_STALE
        scratch = silent or not store_history or code.startswith(SCRATCH_MAGIC) or run_stale
        meta = cell_meta or {}
        jupyter_id = cell_id if isinstance(cell_id, str) and cell_id else None
        roots: set[str] = set()
        cell = None
        if not scratch:
            cell = self._cells.claim(rewritten.twin, jupyter_id, f"In[{execution_count}]")
            roots.add(cell.marimo_id)
        loop = asyncio.get_running_loop()
        request = RequestRun(msg_id, roots, self._router.publish, loop)
        context = RequestContext(
            parent=parent,
            silent=silent,
            execution_count=execution_count,
            anchored=jupyter_id is not None,
            shows_updates=jupyter_id is not None or not admitted.allow_stdin,
        )
        if opened:
            self._send_command(runtime, request, create_notebook(opened))

        deleted = meta.get("deletedCells")
        for gone in deleted if isinstance(deleted, list) else ():
            if not isinstance(gone, str) or gone == jupyter_id:
                continue
            forgotten = self._cells.by_jupyter(gone)
            if forgotten is not None:
                self._delete_cell(runtime, request, forgotten.marimo_id)

        if rewritten.auto_reload is not None:
            self._ipython.set_auto_reload(runtime, rewritten.auto_reload)
        replay: str | None = None
        if run_stale:
            self._send_command(runtime, request, ExecuteStaleCellsCommand())
        elif scratch:
            body = code
            if code.startswith(SCRATCH_MAGIC):
                body = code.split("\n", 1)[1] if "\n" in code else ""
            # Frontends' own setup code holds magics (VS Code's %config).
            body = rewrite(body).code
            # The document and outputs let code mode work through the kernel.
            command = ExecuteScratchpadCommand(
                code=body,
                run_id=msg_id,
                notebook_cells=document.snapshot(),
                cell_outputs=self._last_outputs.snapshot(),
            )
            self._send_command(runtime, request, command, run_id=msg_id)
        elif (
            turn := self._batcher.turn(msg_id, cell.marimo_id if cell else None, request)
        ) not in (None, "run"):
            assert cell is not None
            if turn == "shown":
                # Its cell ran, or runs, in an earlier request's run (batching.py).
                document.set_code(cell.marimo_id, rewritten.twin)
                replay = cell.marimo_id
            elif cell.marimo_id not in document:
                self._cells.forget(cell.marimo_id)  # claimed above, never to run
        elif (view := self._ran_for(parent, cell, rewritten.twin, request)) is not None:
            assert cell is not None
            request.settle(cell.marimo_id, view.errors)
            replay = cell.marimo_id
        else:
            assert cell is not None
            document.set_code(cell.marimo_id, rewritten.twin)
            self._batcher.run(
                runtime, request, admitted, cell.marimo_id, document.codes(), execution_count
            )

        return Planned(request, context, replay, rewritten.pinfo)

    async def _carry_out(self, planned: Planned, allow_stdin: bool) -> dict[str, Any]:
        """Publish the request's placeholders and notices, then wait for its run."""
        request, context = planned.request, planned.context
        parent = context.parent
        self._router.begin(request, context)
        if planned.replay is not None:
            self._router.replay(planned.replay, request)
        if not context.silent:
            notices = self._twin.notices(self._first_visible, self.log.warning)
            self._first_visible = False
            if self._loss_notice is not None:
                notices.insert(0, self._loss_notice)
                self._loss_notice = None
            self._warn(notices, parent)
        self._twin.save(self._cells.jupyter_ids)
        # What the runtime sent since an early start, now that it has a place.
        self._release_held()

        ident = self._get_shell_context_var(self._shell_parent_ident)
        self._stdin_asker = (parent, ident) if allow_stdin else None
        try:
            await request.done
        finally:
            self._stdin_asker = None
            self._stdin.cancel()
        self._run_all.ran(
            request.msg_id, parent["header"], request.roots, request.dependents_ran()
        )
        context = self._router.end(request)
        if not context.silent:
            self._warn(self._twin.notices(False, self.log.warning), parent)
        reply = self._finish(request, context)
        if planned.pinfo and reply["status"] == "ok":
            reply["payload"] = await self._ipython.help_pages(planned.pinfo)
        return reply

    def _ran_for(
        self, parent: dict[str, Any], cell: Any, code: str, request: RequestRun
    ) -> CellView | None:
        """The view of this request's cell if an earlier run already ran it
        for this request (Run All: as a dependent); None when the cell must
        run."""
        if cell is None or request.pending:
            return None
        msg_id = request.msg_id
        view = self._router.view(cell.marimo_id)
        document = self._twin.document
        if (
            view is None
            or view.stale
            or document is None
            or document.code(cell.marimo_id) != code
            or not self._run_all.already_ran(msg_id, parent["header"], cell.marimo_id)
        ):
            return None
        return view

    def _delete_cell(self, runtime: RuntimeClient | None, request: Sink, cell: str) -> None:
        """A cell gone from the notebook: out of the kernel's records, and
        out of the runtime (its command sent for ``request``)."""
        from marimo._internal.commands import DeleteCellCommand
        from marimo._internal.ids import CellId_t

        self._cells.forget(cell)
        self._router.forget(cell)
        self._run_all.forget(cell)
        self._last_outputs.forget(cell)
        if self._twin.document is not None:
            self._twin.document.delete(cell)
        if runtime is not None:
            self._send_command(runtime, request, DeleteCellCommand(cell_id=CellId_t(cell)))

    def _drop_batched(self, cell: str) -> None:
        """A batch cell that will not run (batching.py): deleted at once,
        before any later command can meet its names; nobody waits on it."""
        nobody = RequestRun("", set(), self._router.publish, asyncio.get_running_loop())
        self._delete_cell(self._runtime, nobody, cell)

    def _tell_loss(self, reason: str) -> None:
        """A runtime lost while no request could hear it: told by the next."""
        self._loss_notice = reason

    def _warn(self, notices: list[str], parent: dict[str, Any]) -> None:
        for notice in notices:
            self._warn_raw(f"Warning: {notice}", parent)

    def _warn_raw(self, text: str, parent: dict[str, Any]) -> None:
        self._send_iopub("stream", {"name": "stderr", "text": f"{text}\n"}, parent)

    def _send_command(
        self,
        runtime: RuntimeClient,
        request: Sink,
        command: Any,
        run_id: str | None = None,
    ) -> None:
        run = request.new_run(run_id)
        self._correlator.expect(run)
        try:
            runtime.send(command)
        except Exception as exc:
            request.on_lost(run, f"could not reach the marimo runtime: {exc}")

    def _finish(self, request: RequestRun, context: RequestContext) -> dict[str, Any]:
        document = self._twin.document
        error = error_content(
            request, self._router, lambda cell: document is not None and document.disabled(cell)
        )
        own_failure = request.own_failure()
        # A cell run with a cellId shows its failure in its value display
        # (views.py), which a later run replaces: a healed cell shows its
        # latest run only. An error output would stay for good. Without a
        # cellId, or with nothing to show it in, the error output it is
        # (papermill reads it).
        in_place = (
            context.anchored
            and bool(request.roots)
            and request.lost is None
            and bool(request.failures())
        )
        summary = rerun_summary(request, self._router)
        if error is not None and in_place and not own_failure:
            # Which dependent failed, and how, under the executed cell.
            summary = "\n".join([summary or "", *error["traceback"]]).strip("\n")
        if summary and context.anchored and not context.silent:
            self._send_iopub(
                "display_data", {"data": {"text/plain": summary}, "metadata": {}}, context.parent
            )
        self._stop_queue = own_failure
        if error is not None and error["ename"] == "MultipleDefinitionError":
            if not self._convert_hinted and not context.silent:
                self._convert_hinted = True
                hint = convert_hint(self._twin.notebook)
                error["traceback"] = [*error["traceback"], hint]
                if in_place:  # the cell's display shows the error, not the traceback
                    self._warn_raw(hint, context.parent)
        if error is None:
            return {
                "status": "ok",
                "execution_count": self.execution_count,
                "payload": [],
                "user_expressions": {},
            }
        if not in_place:
            if context.anchored:
                for root in request.roots:
                    view = self._router.view(root)
                    if view is not None:
                        view.error_output_shown = True
            if not context.silent:
                self._send_iopub("error", error, context.parent)
        return {"status": "error", "execution_count": self.execution_count, **error}

    def _error_reply(
        self, ename: str, evalue: str, silent: bool, parent: dict[str, Any]
    ) -> dict[str, Any]:
        error = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
        if not silent:
            self._send_iopub("error", error, parent)
        return {"status": "error", "execution_count": self.execution_count, **error}

    def _send_iopub(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any]) -> None:
        assert self.session is not None
        self.session.send(
            self.iopub_socket, msg_type, content, parent=parent, ident=self._topic(msg_type)
        )

    # -- shell messages, before ipykernel reads them ----------------------
    async def shell_main(self, subshell_id: str | None, msg: Any) -> None:
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
                self._run_all.arrived(str(head.get("msg_id")), msg)
            elif msg_type == "comm_msg":
                # A widget interaction goes to the runtime before ipykernel's busy.
                self._widget_face.peek(found)
        if msg_type in CONCURRENT_REQUESTS and self._main_asyncio_lock.locked():
            await self.answer_concurrently(msg)
            return
        await super().shell_main(subshell_id, msg)

    # -- lifecycle -------------------------------------------------------
    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        runtime = self._runtime
        if runtime is None and self._runtime_ready is not None and self._runtime_ready.done():
            if self._runtime_ready.exception() is None:
                runtime = self._runtime_ready.result()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._twin.close)
        if runtime is not None:
            await loop.run_in_executor(None, runtime.stop)
        self._runtime = None
        return {"status": "ok", "restart": restart}
