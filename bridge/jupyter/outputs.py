"""Outputs where they belong: marimo cell updates as Jupyter IOPub messages.

A frontend puts new outputs under the cell whose request is the parent; the
only way to change another cell's output is ``update_display_data`` on a
display that cell showed earlier. The scheme (README, "Where outputs go"):

* Cells run with a ``cellId`` (JupyterLab, VS Code) show two displays, made
  in their own request: the console (stdout, stderr) and the value (or the
  error). Whenever the cell runs again, from any request, both are updated
  in place, so the cell always shows its latest run only.
* Cells without a ``cellId`` (nbclient, papermill, console) get the standard
  messages: ``stream``, ``execute_result`` (with a display id) and, for a
  failed request, ``error``. When a later request re-runs such a cell, its
  value is updated in place; its console text appears under the running
  request after a header naming the cell.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.notebook.cells import CellRegistry
from bridge.runs.request import RequestRun
from bridge.runtime.messages import CellOp, CellOutput, Notification, Other
from bridge.translate import errors as error_text
from bridge.translate.mime import to_bundle
from bridge.translate.traceback import RED, RESET, traceback_lines

Send = Callable[[str, dict[str, Any], dict[str, Any]], None]

SCRATCH = "__scratch__"
# The kernel's directive that runs every stale cell (lazy mode).
RUN_STALE = "%%run_stale"
TRACEBACK_MIME = "application/vnd.marimo+traceback"
# Display updates of a busy cell are sent at most this often (seconds).
THROTTLE = 0.1
# Console text a cell keeps for its display; older text is cut.
CONSOLE_LIMIT = 1_000_000


@dataclass
class CellView:
    """What one marimo cell shows now."""

    console: list[str] = field(default_factory=list)
    console_size: int = 0
    value: tuple[dict[str, Any], dict[str, Any]] | None = None
    errors: list[dict[str, Any]] | None = None
    traceback: list[str] | None = None
    console_display: str | None = None
    value_display: str | None = None
    # What the displays show now: an update that changes nothing is not sent.
    console_sent: dict[str, Any] | None = None
    value_sent: dict[str, Any] | None = None
    # An error output from the cell's own request sits in the cell and can't
    # be updated: later runs say that it is from an earlier run.
    error_output_shown: bool = False
    dirty: bool = False
    # The request whose execute_result shows the value (id-less cells).
    value_request: str | None = None
    # Lazy mode: why the cell's output is out of date, while it is.
    stale: str | None = None


@dataclass
class RequestContext:
    """The Jupyter request the runtime's work is published under."""

    parent: dict[str, Any]
    silent: bool
    execution_count: int
    anchored: bool  # the request carried a cellId
    headers_sent: set[str] = field(default_factory=set)


class OutputRouter:
    def __init__(self, send: Send, cells: CellRegistry) -> None:
        self._send = send
        self._cells = cells
        self._views: dict[str, CellView] = {}
        self._contexts: dict[str, RequestContext] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._dirty: dict[str, RequestRun] = {}

    def reset(self) -> None:
        self._views.clear()

    def forget(self, marimo_id: str) -> None:
        self._views.pop(marimo_id, None)

    def begin(self, request: RequestRun, context: RequestContext) -> None:
        self._contexts[request.msg_id] = context
        for cell in request.roots:
            view = self._views.setdefault(cell, CellView())
            view.error_output_shown = False
            cell_obj = self._cells.get(cell)
            if cell_obj is not None and cell_obj.jupyter_id is not None and not context.silent:
                # Fresh display ids each own run: the frontend cleared the
                # cell's outputs when it sent the request.
                empty = {"text/plain": ""}
                view.console_display = self._display(context, empty, {})
                view.value_display = self._display(context, empty, {})
                view.console_sent = view.value_sent = empty
            else:
                view.console_display = None
                view.value_display = None

    def replay(self, cell: str, request: RequestRun) -> None:
        """Show a cell's latest run in the displays its new request made."""
        view = self._views.get(cell)
        if view is not None and view.console_display is not None:
            view.dirty = True
            self._schedule(cell, request)

    def end(self, request: RequestRun) -> RequestContext:
        self.flush()
        return self._contexts.pop(request.msg_id)

    def label(self, marimo_id: str) -> str:
        return self._cells.label(marimo_id)

    # -- notifications ---------------------------------------------------
    def publish(self, request: RequestRun, note: Notification | Other) -> None:
        if not isinstance(note, CellOp):
            return
        context = self._contexts.get(request.msg_id)
        if context is None:
            return
        cell = note.cell_id
        if cell == SCRATCH:
            self._publish_standard(request, context, note, cell, is_root=True)
            return
        cell_obj = self._cells.get(cell)
        if cell_obj is None:
            return  # a cell deleted meanwhile
        view = self._views.setdefault(cell, CellView())
        if note.stale_inputs is not None:
            self._mark_stale(request, context, view, cell, note.stale_inputs)
        if view.console_display is not None:
            self._apply(view, note)
            self._schedule(cell, request)
        else:
            self._publish_standard(request, context, note, cell, cell in request.roots)

    def _mark_stale(
        self, request: RequestRun, context: RequestContext, view: CellView, cell: str, stale: bool
    ) -> None:
        """Lazy mode: say in the cell's place that it is out of date, and why."""
        if not stale:
            view.stale = None
            view.dirty = True
            return
        changed = ", ".join(sorted(self.label(r) for r in request.roots)) or "another cell"
        view.stale = (
            f"⚠ stale: its inputs changed when {changed} ran; run this cell, "
            f"or {RUN_STALE} to run every stale cell\n"
        )
        view.dirty = True
        if view.console_display is None and not context.silent:
            self._stream(context, "stdout", f"── {self.label(cell)} is {view.stale[2:]}")

    # -- cells with displays (cellId) ------------------------------------
    def _apply(self, view: CellView, note: CellOp) -> None:
        if note.console == []:
            view.console.clear()
            view.console_size = 0
        for item in note.console_items():
            self._append_console(view, item)
        output = note.output
        if output is not None:
            if output.channel == "marimo-error":
                view.errors = output.errors()
                view.value = None
            else:
                view.errors = None
                view.traceback = None
                view.value = to_bundle(output.mimetype, output.data)
        view.dirty = True

    def _append_console(self, view: CellView, item: CellOutput) -> None:
        if item.mimetype == TRACEBACK_MIME:
            view.traceback = traceback_lines(str(item.data), self.label)
            return
        if item.channel not in ("stdout", "stderr"):
            return
        text = str(item.data or "")
        view.console.append(text)
        view.console_size += len(text)
        while view.console_size > CONSOLE_LIMIT and len(view.console) > 1:
            view.console_size -= len(view.console.pop(0))

    def _schedule(self, cell: str, request: RequestRun) -> None:
        self._dirty[cell] = request
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(THROTTLE, self.flush)

    def flush(self) -> None:
        """Send the pending display updates (before any reply, and on a timer)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        dirty, self._dirty = self._dirty, {}
        for cell, request in dirty.items():
            view = self._views.get(cell)
            context = self._contexts.get(request.msg_id)
            if view is None or context is None or not view.dirty:
                continue
            view.dirty = False
            own = cell in request.roots
            console = self._console_bundle(view, own)
            if console != view.console_sent:
                view.console_sent = console
                self._update(context, view.console_display, console)
            value = self._value_bundle(view, own)
            if value != view.value_sent:
                view.value_sent = value
                self._update(context, view.value_display, value)

    def _console_bundle(self, view: CellView, own: bool) -> dict[str, Any]:
        text = "".join(view.console)
        if view.stale:
            text = view.stale + text
        if view.error_output_shown and not own:
            text = "(re-ran since: the error output below is from an earlier run)\n" + text
        return {"text/plain": text}

    def _value_bundle(self, view: CellView, own: bool) -> dict[str, Any]:
        if view.errors:
            if own:
                # The request's own error output shows it; don't show it twice.
                return {"text/plain": ""}
            return {"text/plain": "\n".join(self.error_lines(view))}
        if view.value is not None:
            return view.value[0]
        return {"text/plain": ""}

    def error_lines(self, view: CellView) -> list[str]:
        described = [error_text.describe(e, self.label) for e in view.errors or ()]
        if view.traceback and any(e.get("type") == "exception" for e in view.errors or ()):
            return view.traceback
        return [f"{RED}{d.ename}{RESET}: {d.evalue}" for d in described]

    def view(self, marimo_id: str) -> CellView | None:
        return self._views.get(marimo_id)

    # -- cells without displays: the standard messages ---------------------
    def _publish_standard(
        self,
        request: RequestRun,
        context: RequestContext,
        note: CellOp,
        cell: str,
        is_root: bool,
    ) -> None:
        view = self._views.setdefault(cell, CellView())
        for item in note.console_items():
            if item.mimetype == TRACEBACK_MIME:
                view.traceback = traceback_lines(str(item.data), self.label)
            elif item.channel in ("stdout", "stderr") and item.data:
                self._header(context, cell, is_root)
                self._stream(context, item.channel, str(item.data))
            elif item.channel == "media":
                bundle = to_bundle(item.mimetype, item.data)
                if bundle is not None:
                    self._header(context, cell, is_root)
                    self._display(context, *bundle)
        output = note.output
        if output is None:
            return
        if output.channel == "marimo-error":
            view.errors = output.errors()
            return
        view.errors = None
        bundle = to_bundle(output.mimetype, output.data)
        if bundle is None or context.silent:
            return
        if is_root and view.value_request == request.msg_id:
            # The value changed again in the same run (mo.output.append).
            self._update(context, view.value_display, bundle[0], bundle[1])
        elif is_root:
            display_id = uuid.uuid4().hex
            content: dict[str, Any] = {
                "data": bundle[0],
                "metadata": bundle[1],
                "execution_count": context.execution_count,
            }
            content["transient"] = {"display_id": display_id}
            view.value_display = display_id
            view.value_request = request.msg_id
            self._send("execute_result", content, context.parent)
        elif view.value_display is not None:
            self._update(context, view.value_display, bundle[0], bundle[1])
        else:
            self._header(context, cell, is_root)
            view.value_display = self._display(context, *bundle)

    def _header(self, context: RequestContext, cell: str, is_root: bool) -> None:
        if is_root or cell in context.headers_sent or context.silent:
            return
        context.headers_sent.add(cell)
        self._stream(context, "stdout", f"── {self.label(cell)} re-ran ──\n")

    # -- message helpers --------------------------------------------------
    def _stream(self, context: RequestContext, name: str, text: str) -> None:
        if not context.silent:
            self._send("stream", {"name": name, "text": text}, context.parent)

    def _display(
        self, context: RequestContext, data: dict[str, Any], metadata: dict[str, Any]
    ) -> str:
        display_id = uuid.uuid4().hex
        if not context.silent:
            self._send(
                "display_data",
                {"data": data, "metadata": metadata, "transient": {"display_id": display_id}},
                context.parent,
            )
        return display_id

    def _update(
        self,
        context: RequestContext,
        display_id: str | None,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if display_id is None:
            return
        self._send(
            "update_display_data",
            {"data": data, "metadata": metadata or {}, "transient": {"display_id": display_id}},
            context.parent,
        )
