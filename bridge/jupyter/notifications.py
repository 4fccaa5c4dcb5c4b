"""The runtime's notifications, and its start and death, to the parts they concern.

A completion answer belongs to no run (the correlator would give it to the
head run); a widget model's lifecycle goes to the relay; a document change
made by the runtime (code mode) to the document and the cell records; and
a cell's op, mended (notebook/blame.py), made live (marimo's UI elements as
widgets) and with its ``input()`` prompt asked on Jupyter's stdin, to the
correlator, which gives it to its run's request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from bridge.jupyter.records import Records
from bridge.jupyter.runtime_host import RuntimeHost
from bridge.jupyter.stdin import InputBroker
from bridge.notebook.blame import Blame
from bridge.runtime.child import EOF_REPLY
from bridge.runtime.client import RuntimeClient
from bridge.runtime.completion import Completions
from bridge.runtime.messages import (
    CellOp,
    CellOutput,
    CompletionResult,
    DocumentTransaction,
    ModelLifecycle,
    Notification,
    Other,
)
from bridge.widgets.elements import UiElements
from bridge.widgets.relay import WidgetRelay


class Notifications:
    def __init__(
        self,
        records: Records,
        host: RuntimeHost,
        stdin: InputBroker,
        widgets: WidgetRelay,
        completer: Completions,
        log: logging.Logger,
    ) -> None:
        self._records = records
        self._host = host  # its current runtime is the one a prompt answers
        self._stdin = stdin
        self._widgets = widgets
        self._completer = completer
        # marimo's word for a cell it did not run, mended (notebook/blame.py).
        self._blame = Blame(records.cells, records.last_outputs)
        # marimo's UI elements as widgets: known only here.
        self._elements = UiElements(widgets, log)
        # Input prompts being asked (a task is kept until it is done).
        self._prompts: set[asyncio.Future[None]] = set()

    def runtime_started(self, runtime: RuntimeClient) -> None:
        self._completer.warm_when_idle(runtime, self._records.correlator.activity)

    def runtime_lost(self) -> None:
        """After a runtime death: what described the lost runtime goes."""
        router = self._records.router
        self._completer.runtime_replaced()
        router.reset()
        self._records.last_outputs.clear()
        self._widgets.runtime_lost(router.latest_parent)
        self._elements.reset()

    def dispatch(self, notes: list[Notification | Other]) -> None:
        records = self._records
        changed = False
        for note in notes:
            if isinstance(note, CompletionResult):
                # Belongs to no run: the correlator would give it to the head run.
                self._completer.arrived(note)
                continue
            if isinstance(note, ModelLifecycle):
                self._widgets.on_model(note, records.router.latest_parent)
                continue
            if isinstance(note, DocumentTransaction):
                changed |= self._apply_transaction(note.transaction)
                continue
            if isinstance(note, CellOp):
                note = self._blame.correct(note)
                records.last_outputs.feed(note)
                for item in note.console_items():
                    if item.channel == "stdin":
                        self._ask_later(note.cell_id, item)
                if note.output is not None:
                    # marimo's UI elements become widgets (bridge/widgets).
                    live = self._elements.translate(note.cell_id, note.output)
                    if live is not None:
                        note = msgspec.structs.replace(note, output=live)
            records.correlator.feed(note)
        if changed:
            records.twin.save(records.cells.jupyter_ids)

    def _apply_transaction(self, transaction: dict[str, Any]) -> bool:
        """A document change the runtime made (code mode); True if applied."""
        records = self._records
        document = records.twin.document
        if document is None:
            return False
        version = document.version
        for change in document.apply_runtime(transaction):
            if change.kind == "create":
                records.cells.adopt(change.cell_id, change.code)
            elif change.kind == "code":
                records.cells.set_code(change.cell_id, change.code)
            elif change.kind == "delete":
                records.forget(change.cell_id, in_document=False)
        return document.version != version

    def _ask_later(self, cell: str, item: CellOutput) -> None:
        # After this batch of notifications: what the cell printed before
        # asking is routed first.
        task = asyncio.ensure_future(self._on_input_prompt(cell, item))
        self._prompts.add(task)
        task.add_done_callback(self._prompts.discard)

    async def _on_input_prompt(self, cell: str, item: CellOutput) -> None:
        """A cell waits in input(): ask the frontend, or give it EOF."""
        runtime = self._host.current
        if runtime is None:
            return
        asker = self._stdin.asker
        if asker is None:
            runtime.answer_input(EOF_REPLY)
            return
        parent, ident = asker
        router = self._records.router
        router.flush()  # what the cell printed before asking comes first
        answer = await self._stdin.ask(
            str(item.data or ""), item.mimetype == "text/password", parent, ident
        )
        if answer is not None and self._host.current is runtime:
            runtime.answer_input(answer)
            router.split_console(cell)
