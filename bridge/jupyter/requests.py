"""One execute_request, from its code to its reply.

Refused or rewritten (bridge/ipython), planned (its cell claimed, its
commands sent to the runtime), shown (placeholders, notices), awaited until
the whole reactive run it caused is over, and answered (reply.py). Planning
may happen before ipykernel's busy (early_start.py); Run All's waiting
requests may share one run (batching.py) or be answered from an earlier
run (run_all.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any

from bridge.ipython.asks import LoadError
from bridge.ipython.rewrite import rewrite
from bridge.jupyter.admission import Admitted, read
from bridge.jupyter.batching import RunAllBatcher
from bridge.jupyter.early_start import EarlyStart, Planned
from bridge.jupyter.ipython_face import IPythonFace
from bridge.jupyter.outputs import RUN_STALE, SCRATCH_MAGIC, CellView
from bridge.jupyter.records import Records
from bridge.jupyter.reply import Replies
from bridge.jupyter.request_messages import RequestContext
from bridge.jupyter.runtime_host import RuntimeHost
from bridge.jupyter.stdin import InputBroker
from bridge.jupyter.validate import refused
from bridge.notebook.cells import Cell
from bridge.runs.correlator import Sink
from bridge.runs.request import RequestRun
from bridge.runtime import output_history, stop_on_error
from bridge.runtime.client import RuntimeClient, create_notebook


class Requests:
    def __init__(
        self,
        records: Records,
        host: RuntimeHost,
        replies: Replies,
        ipython: IPythonFace,
        stdin: InputBroker,
        record_history: Callable[[str, int, bool, bool], None],
        session: Any,
        log: logging.Logger,
    ) -> None:
        """``record_history(code, execution_count, silent, store_history)``:
        the history's hook (introspection.py)."""
        self._records = records
        self._host = host
        self.replies = replies
        self._ipython = ipython
        self._stdin = stdin
        self._record_history = record_history
        self._log = log
        self._first_visible = True
        self._history_supported: bool | None = None  # asked at the first run
        self.early = EarlyStart(self._plan, host, session, log)
        self._batcher = RunAllBatcher(
            session,
            records.cells,
            records.router,
            waiting=records.run_all.waiting,
            runtime=lambda: host.current,
            send_command=host.send,
            delete=self._drop_batched,
            # MARIMO_BRIDGE_BATCH=0: a run per request (to compare, or to rule
            # batching out when something looks wrong).
            supported=lambda: (
                os.environ.get("MARIMO_BRIDGE_BATCH", "1") != "0" and stop_on_error.supported()
            ),
            counts=self._history_counts,
            lazy=lambda: host.mode != "autorun",
            tell=host.tell_loss,
            log=log,
        )

    async def execute(
        self,
        code: str,
        silent: bool,
        store_history: bool,
        allow_stdin: bool,
        cell_meta: dict[str, Any] | None,
        cell_id: object,
        parent: dict[str, Any],
        ident: Any,
        execution_count: int,
    ) -> dict[str, Any]:
        """do_execute's work: the reply once the request's whole run is over."""
        planned = self.early.take(parent["header"]["msg_id"])
        if planned is None:
            # Before anything is recorded or sent: a refused request changes nothing.
            problem = refused(code, cell_meta, cell_id)
            if problem is not None:
                return self.replies.error(problem.ename, problem.evalue, silent, parent)
            try:
                rewritten = rewrite(code)
            except Exception as exc:
                # A magic whose arguments do not parse (an unclosed quote).
                why = f"{type(exc).__name__}: {exc}"
                return self.replies.error("UsageError", why, silent, parent)
            if rewritten.error is not None:
                # IPython's word for a magic it cannot run; nothing is recorded.
                return self.replies.error("UsageError", rewritten.error, silent, parent)
            try:
                answered = await self._ipython.reply_without_run(
                    rewritten, execution_count, lambda text: self.replies.warn([text], parent),
                    lambda text: self.replies.say(text, silent, parent),
                )
            except LoadError as exc:
                self._record_history(code, execution_count, silent, store_history)
                return self.replies.error(exc.ename, exc.evalue, silent, parent)
            if answered is not None:
                if rewritten.only_asks:
                    self._record_history(code, execution_count, silent, store_history)
                return answered
            try:
                runtime = await self._host.ensure()
            except Exception as exc:
                self._record_history(code, execution_count, silent, store_history)
                self._host.forget_failed_start("the marimo runtime could not start")
                why = f"the marimo runtime could not start: {exc}"
                return self.replies.error("RuntimeStartError", why, silent, parent, own=False)
            planned = self._plan(runtime, parent, read(parent, rewritten), execution_count)
        return await self._carry_out(planned, allow_stdin, ident)

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

        records, twin, host = self._records, self._records.twin, self._host
        msg_id = parent["header"]["msg_id"]
        code, rewritten, silent = admitted.code, admitted.rewritten, admitted.silent
        # What the user typed (``code``) stays in history and the .ipynb; the
        # runtime runs ``rewritten.code``, its IPython syntax as Python, and
        # the twin keeps ``rewritten.twin``.
        self._record_history(code, execution_count, silent, admitted.store_history)
        # VS Code tells the notebook's path only in its startup code.
        opened = []
        if twin.discover(code, records.cells.new_id, runtime_empty=len(records.cells) == 0):
            records.adopt_loaded()
            opened = [(c.id, c.code) for c in twin.loaded]
        document = twin.document
        assert document is not None

        run_stale = code.strip() == RUN_STALE
        scratch = (
            silent or not admitted.store_history or code.startswith(SCRATCH_MAGIC) or run_stale
        )
        meta = admitted.cell_meta or {}
        cell_id = admitted.cell_id
        jupyter_id = cell_id if isinstance(cell_id, str) and cell_id else None
        cell = None
        if not scratch:
            cell = records.cells.claim(rewritten.twin, jupyter_id, f"In[{execution_count}]")
        request = RequestRun(
            msg_id,
            {cell.marimo_id} if cell else set(),
            records.router.publish,
            asyncio.get_running_loop(),
        )
        context = RequestContext(
            parent=parent,
            silent=silent,
            execution_count=execution_count,
            anchored=jupyter_id is not None,
            shows_updates=jupyter_id is not None or not admitted.allow_stdin,
        )
        if opened:
            host.send(runtime, request, create_notebook(opened))

        deleted = meta.get("deletedCells")
        for gone in deleted if isinstance(deleted, list) else ():
            if not isinstance(gone, str) or gone == jupyter_id:
                continue
            forgotten = records.cells.by_jupyter(gone)
            if forgotten is not None:
                self._delete_cell(runtime, request, forgotten.marimo_id)

        if rewritten.auto_reload is not None:
            self._ipython.set_auto_reload(runtime, rewritten.auto_reload)
        replay: str | None = None
        if run_stale:
            host.send(runtime, request, ExecuteStaleCellsCommand())
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
                cell_outputs=records.last_outputs.snapshot(),
            )
            host.send(runtime, request, command, run_id=msg_id)
        elif (
            turn := self._batcher.turn(msg_id, cell.marimo_id if cell else None, request)
        ) not in (None, "run"):
            assert cell is not None
            if turn == "shown":
                # Its cell ran, or runs, in an earlier request's run (batching.py).
                document.set_code(cell.marimo_id, rewritten.twin)
                replay = cell.marimo_id
            elif cell.marimo_id not in document:
                records.cells.forget(cell.marimo_id)  # claimed above, never to run
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

        return Planned(request, context, replay, rewritten.asks)

    async def _carry_out(self, planned: Planned, allow_stdin: bool, ident: Any) -> dict[str, Any]:
        """Publish the request's placeholders and notices, then wait for its run."""
        records, replies = self._records, self.replies
        request, context = planned.request, planned.context
        parent = context.parent
        records.router.begin(request, context)
        if planned.replay is not None:
            records.router.replay(planned.replay, request)
        if not context.silent:
            notices = records.twin.notices(self._first_visible, self._log.warning)
            self._first_visible = False
            loss = self._host.take_loss_notice()
            if loss is not None:
                notices.insert(0, loss)
            replies.warn(notices, parent)
        records.twin.save(records.cells.jupyter_ids)
        # What the runtime sent since an early start, now that it has a place.
        self._host.release()

        if allow_stdin:
            self._stdin.allow(parent, ident)
        try:
            await request.done
        finally:
            self._stdin.end()
        records.run_all.ran(
            request.msg_id, parent["header"], request.roots, request.dependents_ran()
        )
        context = records.router.end(request)
        if not context.silent:
            replies.warn(records.twin.notices(False, self._log.warning), parent)
        reply = replies.finish(request, context)
        if planned.asks and reply["status"] == "ok":
            # Help and pages only: a %load shares its cell with nothing (rewrite.py).
            reply["payload"] = await self._ipython.payloads(
                planned.asks, lambda text: replies.warn([text], parent),
                lambda text: replies.say(text, context.silent, parent),
            )
        return reply

    def _ran_for(
        self, parent: dict[str, Any], cell: Cell | None, code: str, request: RequestRun
    ) -> CellView | None:
        """The view of this request's cell if an earlier run already ran it
        for this request (Run All: as a dependent); None when the cell must
        run."""
        if cell is None or request.pending:
            return None
        view = self._records.router.view(cell.marimo_id)
        document = self._records.twin.document
        if (
            view is None
            or view.stale
            or document is None
            or document.code(cell.marimo_id) != code
            or not self._records.run_all.already_ran(
                request.msg_id, parent["header"], cell.marimo_id
            )
        ):
            return None
        return view

    def _delete_cell(self, runtime: RuntimeClient | None, request: Sink, cell: str) -> None:
        """A cell gone from the notebook: out of the kernel's records, and
        out of the runtime (its command sent for ``request``)."""
        from marimo._internal.commands import DeleteCellCommand
        from marimo._internal.ids import CellId_t

        self._records.forget(cell)
        if runtime is not None:
            self._host.send(runtime, request, DeleteCellCommand(cell_id=CellId_t(cell)))

    def _drop_batched(self, cell: str) -> None:
        """A batch cell that will not run (batching.py): deleted at once,
        before any later command can meet its names; nobody waits on it."""
        nobody = RequestRun("", set(), self._records.router.publish, asyncio.get_running_loop())
        self._delete_cell(self._host.current, nobody, cell)

    def _history_counts(self, counts: dict[str, tuple[int, str]]) -> Any:
        """The ``request`` that tells the runtime the execution count and
        typed input of a command's cells (IPython's In and Out:
        output_history.py), or None when this marimo lacks the hooks that
        read it."""
        if self._history_supported is None:
            self._history_supported = output_history.supported()
        return output_history.request_meta(counts) if self._history_supported else None
