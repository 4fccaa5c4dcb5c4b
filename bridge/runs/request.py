"""One Jupyter request's share of the runtime's work, and what it came to.

A request may cause several marimo commands (deletions, then the run). It is
over when every one of them completed; its outcome is whether any cell that
ran in them failed. ``completed-run`` says "succeeded" even when cells raise,
so failures are collected from the ``marimo-error`` outputs themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bridge.runs.correlator import Run
from bridge.runtime.messages import CellOp, Interrupted, Notification, Other
from bridge.translate.displays import DISPLAY_MIME, value_error
from bridge.translate.errors import FORMATTER, is_stop

Publish = Callable[["RequestRun", "Notification | Other"], None]


class RequestRun:
    def __init__(
        self,
        msg_id: str,
        roots: set[str],
        publish: Publish,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.msg_id = msg_id
        self.roots = roots
        self.ran: list[str] = []  # cells that ran, in the order they started
        self.errors: dict[str, list[dict[str, Any]]] = {}
        # Cells whose value raised as it was formatted (a ``_repr_html_`` with
        # a bug): they ran, and failed, as in ipykernel's displayhook.
        self.format_errors: dict[str, dict[str, Any]] = {}
        # Cells marimo did not run because a cell they read is disabled.
        self.disabled: set[str] = set()
        self.interrupted = False
        self.lost: str | None = None
        self.done: asyncio.Future[None] = loop.create_future()
        self._in_run: set[str] = set()
        self._remaining = 0
        self._publish = publish

    def settle(self, cell: str, errors: list[dict[str, Any]] | None) -> None:
        """Done without a run: the cell already ran, for this request, in an
        earlier request's run (Run All); its outcome is that run's."""
        self.ran.append(cell)
        self._in_run.add(cell)
        if errors:
            self.errors[cell] = errors
        if not self.done.done():
            self.done.set_result(None)

    def adopt(self, cell: str, errors: list[dict[str, Any]] | None, started: bool) -> None:
        """Take over a cell whose run an earlier request's run started (Run
        All batching): what it did so far counts as this request's."""
        if started:
            self._in_run.add(cell)
            if cell not in self.ran:
                self.ran.append(cell)
        if errors:
            self.errors[cell] = errors

    @property
    def pending(self) -> int:
        """Commands sent for this request that have not completed."""
        return self._remaining

    def own_failure(self) -> bool:
        """Whether the executed cells themselves failed (not only dependents)."""
        if self.lost is not None or self.cut_short() or self.unexplained():
            return True
        return any(cell in self.roots or cell == "__scratch__" for cell, _ in self.failures())

    def new_run(self, run_id: str | None = None) -> Run:
        self._remaining += 1
        return Run(self, run_id)

    # -- RunSink ---------------------------------------------------------
    def on_notification(self, run: Run, note: Notification | Other) -> None:
        if isinstance(note, CellOp):
            self._observe(note)
        elif isinstance(note, Interrupted):
            self.interrupted = True
        self._publish(self, note)

    def on_completed(self, run: Run) -> None:
        self._remaining -= 1
        if self._remaining <= 0 and not self.done.done():
            self.done.set_result(None)

    def on_lost(self, run: Run, reason: str) -> None:
        self.lost = reason
        self.on_completed(run)

    # -- outcome ---------------------------------------------------------
    def _observe(self, note: CellOp) -> None:
        cell = note.cell_id
        if note.status == "disabled-transitively":
            self.disabled.add(cell)
        if note.status in ("queued", "running"):
            self._in_run.add(cell)
            if note.status == "running" and cell not in self.ran:
                self.ran.append(cell)
        if note.status == "running":
            self.format_errors.pop(cell, None)  # a new run of the cell
        for item in note.console_items():
            if item.mimetype == DISPLAY_MIME and cell not in self.format_errors:
                error = value_error(item.data)
                if error is not None:
                    self.format_errors[cell] = {"type": FORMATTER, **error}
        output = note.output
        if output is None:
            return
        if output.channel == "marimo-error":
            self.errors[cell] = output.errors()
        else:
            # A later output of the same cell in the same run (a mo.state
            # re-run) supersedes an earlier failure.
            self.errors.pop(cell, None)

    def failures(self) -> list[tuple[str, dict[str, Any]]]:
        """Failed cells of this request's run: the executed cells first.

        Graph errors (cycles, multiple definitions) are re-sent on every run
        for every cell they affect; they count only for cells that belong to
        this run: the executed ones and those that were queued or ran. A
        value that failed to format counts as its cell's failure.
        """
        found = [
            (cell, error)
            for cell, errors in self.errors.items()
            if cell in self.roots or cell in self._in_run or cell == "__scratch__"
            for error in errors
            if not is_stop(error)
        ]
        found += [(cell, error) for cell, error in self.format_errors.items()
                  if cell not in self.errors]
        found.sort(key=lambda item: item[0] not in self.roots)
        return found

    def cut_short(self) -> bool:
        """Whether an interrupt stopped this run before its cells were done.

        marimo marks a run interrupted at any SIGINT during it, also when
        the cell caught the KeyboardInterrupt and went on (``%mprun`` does,
        as a ``try``/``except KeyboardInterrupt`` does); then every cell of
        the run ran and none failed, and ipykernel replies ok.
        """
        if not self.interrupted:
            return False
        return any(cell not in self.ran for cell in self._in_run | self.roots)

    def unexplained(self) -> list[str]:
        """Executed cells that never started and were told no reason (no
        error item, not even a ``mo.stop()``): a run that skipped them
        silently must not read as their success."""
        return [c for c in self.roots if c not in self.ran and c not in self.errors]

    def dependents_ran(self) -> list[str]:
        return [cell for cell in self.ran if cell not in self.roots and cell != "__scratch__"]
