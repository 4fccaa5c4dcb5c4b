"""The Jupyter face: an ipykernel ``Kernel`` that hands cells to marimo.

ipykernel provides signing, channels, heartbeat and busy/idle; this class
turns each execute_request into marimo commands and answers only when the
reactive run it caused has completed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sys
import threading
from importlib.metadata import version
from typing import Any

from ipykernel.kernelbase import Kernel
from tornado import ioloop

from bridge import __version__
from bridge.jupyter.introspection import IntrospectionMixin
from bridge.jupyter.outputs import OutputRouter, RequestContext
from bridge.jupyter.reply import error_content, rerun_summary
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import LastOutputs
from bridge.runs.correlator import Correlator, Run
from bridge.runs.request import RequestRun
from bridge.runtime.client import RuntimeClient, create_notebook
from bridge.runtime.launch_config import on_cell_change
from bridge.runtime.messages import (
    CellOp,
    CompletionResult,
    DocumentTransaction,
    Notification,
    Other,
)
from bridge.twin.keeper import TwinKeeper

SCRATCH_MAGIC = "%%scratch"


class MarimoKernel(IntrospectionMixin, Kernel):
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
        self._io_loop = ioloop.IOLoop.current()
        self._cells = CellRegistry()
        self._correlator = Correlator()
        self._router = OutputRouter(self._send_iopub, self._cells)
        self._last_outputs = LastOutputs()
        self._twin = TwinKeeper(os.environ, getattr(self.parent, "abs_connection_file", None))
        self._first_visible = True
        self._runtime: RuntimeClient | None = None
        # Why the last runtime went away, told in the next request's output
        # when no request was running to hear it.
        self._loss_notice: str | None = None
        self._runtime_ready: concurrent.futures.Future[RuntimeClient] | None = None
        # Known once the runtime's config is read (off the kernel_info path).
        self._mode: str | None = None
        # Started now, awaited by the first request: kernel_info_reply must not
        # wait for marimo's import.
        self._start_runtime()
        signal.signal(signal.SIGINT, self._on_sigint)
        signal.signal(signal.SIGTERM, self._on_sigterm)

    # -- kernel_info -----------------------------------------------------
    @property
    def banner(self) -> str:  # type: ignore[override]
        return (
            f"marimo {version('marimo')} reactive runtime in Jupyter "
            f"(marimo-bridge {__version__}, "
            f"on_cell_change={self._mode or 'as set in your marimo config'})\n"
            "Running a cell re-runs the cells that depend on it."
        )

    @property
    def kernel_info(self) -> dict[str, Any]:
        info = dict(super().kernel_info)
        info["protocol_version"] = "5.4"
        # ipykernel claims "debugger" whenever debugpy imports; we have none.
        info["supported_features"] = []
        return info

    # -- the runtime -----------------------------------------------------
    def _start_runtime(self) -> None:
        future: concurrent.futures.Future[RuntimeClient] = concurrent.futures.Future()
        client = RuntimeClient(
            self._on_notifications, lambda code: self._on_runtime_exit(client, code)
        )
        self._runtime_ready = future

        # After a runtime death the document lives on: the new runtime gets
        # its cells, unrun, so the next run brings back what it needs.
        known = self._twin.document

        def start() -> None:
            try:
                if known is None:
                    self._load_twin()
                assert self._twin.document is not None
                client.start([(c.id, c.code) for c in self._twin.document.states()])
            except BaseException as exc:  # reported to the request that waits
                future.set_exception(exc)
            else:
                self._mode = on_cell_change(client.config)
                future.set_result(client)

        threading.Thread(target=start, name="marimo-runtime-start", daemon=True).start()
        # The CreateNotebookCommand that start() sends completes like any run.
        self._correlator.expect(Run(None))

    def _load_twin(self) -> None:
        """Open the document (from the twin when there is one); off-loop."""
        self._twin.load(self._cells.new_id)
        self._adopt_loaded()

    def _adopt_loaded(self) -> None:
        for cell in self._twin.loaded:
            self._cells.adopt(cell.id, cell.code, "" if cell.name == "_" else cell.name)
        for jupyter_id, cell_id in self._twin.bindings.items():
            self._cells.bind(jupyter_id, cell_id)

    async def _ensure_runtime(self) -> RuntimeClient:
        if self._runtime_ready is None:
            self._start_runtime()
        assert self._runtime_ready is not None
        client = await asyncio.wrap_future(self._runtime_ready)
        if not client.alive:
            # Died since the last request and the reader has not said so yet.
            self._runtime_died(client, client.returncode)
            return await self._ensure_runtime()
        self._runtime = client
        return client

    def _on_notifications(self, notes: list[Notification | Other]) -> None:
        # Reader thread -> event loop; everything else happens on the loop.
        self._io_loop.add_callback(self._dispatch, notes)

    def _dispatch(self, notes: list[Notification | Other]) -> None:
        changed = False
        for note in notes:
            if isinstance(note, CompletionResult):
                # Belongs to no run: the correlator would give it to the head run.
                self._completion_arrived(note)
                continue
            if isinstance(note, DocumentTransaction):
                changed |= self._apply_transaction(note.transaction)
                continue
            if isinstance(note, CellOp):
                self._last_outputs.feed(note)
            self._correlator.feed(note)
        if changed:
            self._twin.save(self._cells.jupyter_ids())

    def _apply_transaction(self, transaction: dict[str, Any]) -> bool:
        """A document change the runtime made (code mode); True if applied."""
        document = self._twin.document
        if document is None:
            return False
        version = document.version
        for change in document.apply_runtime(transaction):
            if change.kind == "create":
                self._cells.adopt(change.cell_id, change.code)
            elif change.kind == "code":
                self._cells.set_code(change.cell_id, change.code)
            elif change.kind == "delete":
                self._cells.forget(change.cell_id)
                self._router.forget(change.cell_id)
                self._last_outputs.forget(change.cell_id)
        return document.version != version

    def _on_runtime_exit(self, client: RuntimeClient, returncode: int | None) -> None:
        self._io_loop.add_callback(self._runtime_died, client, returncode)

    def _runtime_died(self, client: RuntimeClient, returncode: int | None) -> None:
        current = self._runtime_ready
        if current is None or not current.done() or current.exception() is not None:
            return
        if current.result() is not client:
            return  # an older runtime, already replaced
        if returncode is not None and returncode < 0:
            try:
                how = f"was killed by {signal.Signals(-returncode).name}"
            except ValueError:
                how = f"was killed by signal {-returncode}"
        else:
            how = f"exited with code {returncode}"
        reason = (
            f"the marimo runtime {how}; every variable of this session was lost. "
            "The notebook's cells are kept: the next request starts a fresh "
            "runtime, which re-runs the cells that request needs."
        )
        client.stop(timeout=0.5)  # close its queues; reap the process
        self._runtime = None
        self._runtime_ready = None
        if len(self._correlator) == 0:
            self._loss_notice = reason
        self._correlator.lose_all(reason)
        self._router.reset()
        self._last_outputs.clear()

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._runtime is not None:
            self._runtime.interrupt()

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        # The pending twin save lands before the kernel goes; then the runtime.
        self._twin.close(timeout=5.0)
        runtime = self._runtime or self._ready_runtime()
        if runtime is not None:
            runtime.stop(timeout=1.0)
        os._exit(0)

    def _ready_runtime(self) -> RuntimeClient | None:
        ready = self._runtime_ready
        if ready is not None and ready.done() and ready.exception() is None:
            return ready.result()
        return None

    # ipykernel swaps in default_int_handler around each handler; keep ours so
    # SIGINT interrupts the runtime instead of raising in the bridge.
    def pre_handler_hook(self) -> None:
        pass

    def post_handler_hook(self) -> None:
        pass

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
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        from marimo._internal.commands import (
            DeleteCellCommand,
            ExecuteCellsCommand,
            ExecuteScratchpadCommand,
        )
        from marimo._internal.ids import CellId_t

        parent = self.get_parent("shell")
        msg_id = parent["header"]["msg_id"]
        self._record_history(code, silent=silent, store_history=store_history)
        try:
            runtime = await self._ensure_runtime()
        except Exception as exc:
            self._runtime_ready = None
            self._correlator.lose_all("the marimo runtime could not start")
            return self._error_reply(
                "RuntimeStartError", f"the marimo runtime could not start: {exc}", silent, parent
            )

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

        scratch = silent or not store_history or code.startswith(SCRATCH_MAGIC)
        meta = cell_meta or {}
        jupyter_id = cell_id if isinstance(cell_id, str) and cell_id else None
        roots: set[str] = set()
        cell = None
        if not scratch:
            cell = self._cells.claim(code, jupyter_id, f"In[{self.execution_count}]")
            roots.add(cell.marimo_id)
        loop = asyncio.get_running_loop()
        request = RequestRun(msg_id, roots, self._router.publish, loop)
        context = RequestContext(
            parent=parent,
            silent=silent,
            execution_count=self.execution_count,
            anchored=jupyter_id is not None,
        )
        self._router.begin(request, context)
        if opened:
            self._send_command(runtime, request, create_notebook(opened))
        if not silent:
            notices = self._twin.notices(first_visible=self._first_visible)
            self._first_visible = False
            if self._loss_notice is not None:
                notices.insert(0, self._loss_notice)
                self._loss_notice = None
            self._warn(notices, parent)

        deleted = meta.get("deletedCells")
        for gone in deleted if isinstance(deleted, list) else ():
            if not isinstance(gone, str) or gone == jupyter_id:
                continue
            forgotten = self._cells.forget_jupyter(gone)
            if forgotten is not None:
                self._router.forget(forgotten.marimo_id)
                self._last_outputs.forget(forgotten.marimo_id)
                document.delete(forgotten.marimo_id)
                self._send_command(
                    runtime, request, DeleteCellCommand(cell_id=CellId_t(forgotten.marimo_id))
                )

        if scratch:
            body = code.split("\n", 1)[1] if code.startswith(SCRATCH_MAGIC) else code
            # The document and outputs let code mode work through the kernel.
            command = ExecuteScratchpadCommand(
                code=body,
                run_id=msg_id,
                notebook_cells=document.snapshot(),
                cell_outputs=self._last_outputs.snapshot(),
            )
            self._send_command(runtime, request, command, run_id=msg_id)
        else:
            assert cell is not None
            document.set_code(cell.marimo_id, code)
            self._send_command(
                runtime,
                request,
                ExecuteCellsCommand(cell_ids=[CellId_t(cell.marimo_id)], codes=[code]),
            )

        self._twin.save(self._cells.jupyter_ids())

        await request.done
        context = self._router.end(request)
        if not context.silent:
            self._warn(self._twin.notices(first_visible=False), parent)
        return self._finish(request, context)

    def _warn(self, notices: list[str], parent: dict[str, Any]) -> None:
        for notice in notices:
            self._send_iopub("stream", {"name": "stderr", "text": f"Warning: {notice}\n"}, parent)

    def _send_command(
        self,
        runtime: RuntimeClient,
        request: RequestRun,
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
        summary = rerun_summary(request, self._router)
        if summary and context.anchored and not context.silent:
            self._send_iopub(
                "display_data", {"data": {"text/plain": summary}, "metadata": {}}, context.parent
            )
        error = error_content(request, self._router)
        if error is None:
            return {
                "status": "ok",
                "execution_count": self.execution_count,
                "payload": [],
                "user_expressions": {},
            }
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
