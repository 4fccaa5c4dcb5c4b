"""The runtime, seen from the Jupyter face: its start, its stream, its death.

A mixin of ``MarimoKernel``: it starts the runtime in the background (the
document it opens is the twin's), hands the reader thread's notifications to
the event loop, routes them (document changes, input prompts, completions,
run output), and turns a runtime's death into a truthful reply and a fresh
runtime for the next request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import msgspec
from tornado import ioloop

from bridge.jupyter.outputs import OutputRouter
from bridge.jupyter.stdin import InputBroker
from bridge.notebook.blame import Blame
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import LastOutputs
from bridge.runs.correlator import Correlator, Run
from bridge.runtime.child import EOF_REPLY
from bridge.runtime.client import RuntimeClient
from bridge.runtime.completion import Completions
from bridge.runtime.launch_config import on_cell_change
from bridge.runtime.messages import (
    CellOp,
    CellOutput,
    CompletionResult,
    DocumentTransaction,
    ModelLifecycle,
    Notification,
    Other,
)
from bridge.twin.keeper import TwinKeeper
from bridge.widgets.elements import UiElements
from bridge.widgets.relay import WidgetRelay


class RuntimeHostMixin:
    # Set up by MarimoKernel.__init__.
    _io_loop: ioloop.IOLoop
    _cells: CellRegistry
    _correlator: Correlator
    _router: OutputRouter
    _last_outputs: LastOutputs
    _blame: Blame
    _twin: TwinKeeper
    _stdin: InputBroker
    # (parent, ident) of the request that may answer input(); None: EOF.
    _stdin_asker: tuple[dict[str, Any], Any] | None
    _runtime: RuntimeClient | None
    _runtime_ready: concurrent.futures.Future[RuntimeClient] | None
    _loss_notice: str | None
    _mode: str | None
    _loop_thread: int
    _widgets: WidgetRelay
    _elements: UiElements
    _held: list[Notification | Other] | None
    # From IntrospectionMixin (declared only: a body here would shadow it).
    _completion_arrived: Callable[[CompletionResult], None]
    _completer: Completions

    def _start_runtime(self) -> None:
        future: concurrent.futures.Future[RuntimeClient] = concurrent.futures.Future()
        client = RuntimeClient(
            self._on_notifications,
            lambda code: self._on_runtime_exit(client, code),
            loop=self._io_loop.asyncio_loop,  # type: ignore[attr-defined]
        )
        self._runtime_ready = future

        # After a runtime death the document lives on: the new runtime gets
        # its cells, unrun, so the next run brings back what it needs.
        known = self._twin.document

        def start() -> None:
            try:
                client.spawn()  # first: the child imports marimo meanwhile
                if known is None:
                    self._load_twin()
                assert self._twin.document is not None
                client.start([(c.id, c.code) for c in self._twin.document.states()])
            except BaseException as exc:  # reported to the request that waits
                try:
                    client.stop(timeout=0.5)  # no half-started child left behind
                except BaseException:
                    # What failed the start may fail the stop too (a marimo
                    # that cannot import): the request must hear of it still.
                    pass
                finally:
                    future.set_exception(exc)
            else:
                self._mode = on_cell_change(client.config)
                future.set_result(client)
                self._io_loop.add_callback(
                    self._completer.warm_when_idle, client, self._correlator.activity
                )

        threading.Thread(target=start, name="marimo-runtime-start", daemon=True).start()
        # The CreateNotebookCommand that start() sends completes like any run.
        self._correlator.expect(Run(None))

    def _load_twin(self) -> None:
        """Open the document (from the twin when there is one); off-loop."""
        self._twin.load(self._cells.new_id)
        self._adopt_loaded()

    def _adopt_loaded(self) -> None:
        # Until a request runs them, twin cells are named as the file has them.
        where = self._twin.path.name if self._twin.path is not None else "the twin"
        for index, cell in enumerate(self._twin.loaded, start=1):
            label = cell.name if cell.name != "_" else f"{index} of {where}"
            self._cells.adopt(cell.id, cell.code, label)
        for jupyter_id, cell_id in self._twin.bindings.items():
            self._cells.bind(jupyter_id, cell_id)

    async def _ensure_runtime(self) -> RuntimeClient:
        if self._runtime_ready is None:
            self._start_runtime()
        ready = self._runtime_ready
        assert ready is not None
        if ready.done():
            # Started already: wrap_future would still cost a trip through
            # call_soon_threadsafe and another loop iteration.
            client = ready.result()
        else:
            client = await asyncio.wrap_future(ready)
        if not client.alive:
            # Died since the last request and the reader has not said so yet.
            self._runtime_died(client, client.returncode)
            return await self._ensure_runtime()
        self._runtime = client
        return client

    def _on_notifications(self, notes: list[Notification | Other]) -> None:
        # Everything happens on the loop: the client reads the runtime's
        # stream there (or, as a fallback, on a reader thread).
        if threading.get_ident() == self._loop_thread:
            if self._held is not None:
                # A request started early has no place for them yet
                # (early_start.py); it handles them once it has.
                self._held.extend(notes)
                return
            self._dispatch(notes)
        else:
            self._io_loop.add_callback(self._on_notifications, notes)

    def _dispatch(self, notes: list[Notification | Other]) -> None:
        changed = False
        for note in notes:
            if isinstance(note, CompletionResult):
                # Belongs to no run: the correlator would give it to the head run.
                self._completion_arrived(note)
                continue
            if isinstance(note, ModelLifecycle):
                self._widgets.on_model(note, self._router.latest_parent)
                continue
            if isinstance(note, DocumentTransaction):
                changed |= self._apply_transaction(note.transaction)
                continue
            if isinstance(note, CellOp):
                note = self._blame.correct(note)
                self._last_outputs.feed(note)
                for item in note.console_items():
                    if item.channel == "stdin":
                        self._io_loop.add_callback(self._on_input_prompt, note.cell_id, item)
                if note.output is not None:
                    # marimo's UI elements become widgets (bridge/widgets).
                    live = self._elements.translate(note.cell_id, note.output)
                    if live is not None:
                        note = msgspec.structs.replace(note, output=live)
            self._correlator.feed(note)
        if changed:
            self._twin.save(self._cells.jupyter_ids)

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
        self._completer.runtime_replaced()
        self._runtime = None
        self._runtime_ready = None
        if len(self._correlator) == 0:
            self._loss_notice = reason
        self._correlator.lose_all(reason)
        self._router.reset()
        self._last_outputs.clear()
        self._widgets.runtime_lost(self._router.latest_parent)
        self._elements.reset()

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._stdin.cancel()
        if self._runtime is not None:
            self._runtime.interrupt()

    def _send_interrupt_children(self) -> None:
        # interrupt_request: the runtime is our child; a pending input ends too.
        self._stdin.cancel()
        super()._send_interrupt_children()  # type: ignore[misc]

    async def _on_input_prompt(self, cell: str, item: CellOutput) -> None:
        """A cell waits in input(): ask the frontend, or give it EOF."""
        runtime = self._runtime
        if runtime is None:
            return
        asker = self._stdin_asker
        if asker is None:
            runtime.answer_input(EOF_REPLY)
            return
        parent, ident = asker
        self._router.flush()  # what the cell printed before asking comes first
        answer = await self._stdin.ask(
            str(item.data or ""), item.mimetype == "text/password", parent, ident
        )
        if answer is not None and self._runtime is runtime:
            runtime.answer_input(answer)
            self._router.split_console(cell)

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

