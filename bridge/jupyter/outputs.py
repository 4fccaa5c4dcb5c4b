"""Outputs where they belong: marimo cell updates as Jupyter IOPub messages.

A frontend puts new outputs under the cell whose request is the parent; the
only way to change another cell's output is ``update_display_data`` on a
display that cell showed earlier. The scheme (docs/outputs.md):

* Cells run with a ``cellId`` (JupyterLab, VS Code) show two displays, made
  in their own request: the console (stdout, stderr) and the value (the
  figures it showed, its output, or its error; see views.py). Whenever the
  cell runs again, from any request, both are updated in place, so the cell
  always shows its latest run only.
* Cells without a ``cellId`` (nbclient, papermill, console) get the standard
  messages: ``stream``, ``execute_result`` (with a display id) and, for a
  failed request, ``error``. When a later request re-runs such a cell, its
  value is updated in place; its console text appears under the running
  request after a header naming the cell.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bridge.jupyter.request_messages import RequestContext, RequestMessages, Send
from bridge.jupyter.views import EMPTY, TRACEBACK_MIME, CellView, combined, mb
from bridge.notebook.cells import CellRegistry
from bridge.runs.request import RequestRun
from bridge.runtime.messages import CellOp, Notification, Other
from bridge.translate.displays import DISPLAY_MIME, DisplayOp, read_op
from bridge.translate.mime import to_bundle
from bridge.translate.traceback import traceback_lines

SCRATCH = "__scratch__"
# The kernel's directive that runs every stale cell (lazy mode).
RUN_STALE = "%%run_stale"
# The kernel's directive that runs a cell without making it part of the notebook.
SCRATCH_MAGIC = "%%scratch"
# Display updates of a busy cell are sent at most this often (seconds).
THROTTLE = 0.1
# A console display this large is re-sent at most this often (seconds): each
# update carries the whole text, and a printing loop would otherwise send
# megabytes ten times a second to every frontend.
LARGE_CONSOLE = 100_000
LARGE_THROTTLE = 1.0


class OutputRouter:
    def __init__(self, send: Send, cells: CellRegistry) -> None:
        self._send = send
        self._cells = cells
        self._messages = RequestMessages(send, self._arm)
        self._views: dict[str, CellView] = {}
        self._contexts: dict[str, RequestContext] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._dirty: dict[str, RequestRun] = {}
        self._requests: dict[str, RequestRun] = {}
        # The parent of the request begun last: what the runtime sends that
        # belongs to no request (widget models) goes out under it.
        self.latest_parent: dict[str, Any] = {}

    def reset(self) -> None:
        self._views.clear()

    def forget(self, marimo_id: str) -> None:
        self._views.pop(marimo_id, None)

    def keep(self, note: CellOp) -> None:
        """Record a cell's update in its view without showing it: a cell run
        ahead for a request still waiting (Run All batching), whose request
        shows the view when its turn comes (``replay``)."""
        if self._cells.get(note.cell_id) is not None:
            self._apply(self._views.setdefault(note.cell_id, CellView()), note)

    def begin(self, request: RequestRun, context: RequestContext) -> None:
        self.latest_parent = context.parent
        self._contexts[request.msg_id] = context
        self._requests[request.msg_id] = request
        for cell in request.roots:
            view = self._views.setdefault(cell, CellView())
            view.error_output_shown = False
            cell_obj = self._cells.get(cell)
            if cell_obj is not None and cell_obj.jupyter_id is not None and not context.silent:
                # Fresh display ids each own run: the frontend cleared the
                # cell's outputs when it sent the request.
                empty = {"text/plain": ""}
                view.console_display = self._messages.display(context, empty, {})
                view.value_display = self._messages.display(context, empty, {})
                view.console_sent = view.value_sent = empty
                view.more_displays, view.more_sent = [], []
            else:
                view.console_display = None
                view.value_display = None

    def split_console(self, cell: str) -> None:
        """After input(): what the cell prints next goes below the answer.

        The frontend shows the prompt and the answer after the cell's
        outputs so far; the console display sits above them. In the cell's
        own request a fresh console display, made now, comes after both.
        """
        view = self._views.get(cell)
        if view is None or view.console_display is None:
            return
        for msg_id, request in self._requests.items():
            context = self._contexts.get(msg_id)
            if cell in request.roots and context is not None and not context.silent:
                self.flush()
                view.console.clear()
                view.console_size = view.console_cut = 0
                empty = {"text/plain": ""}
                view.console_display = self._messages.display(context, empty, {})
                view.console_sent = empty
                return

    def replay(self, cell: str, request: RequestRun) -> None:
        """Show a cell's latest run in the displays its new request made."""
        view = self._views.get(cell)
        if view is not None and view.console_display is not None:
            view.dirty = True
            self._schedule(cell, request)

    def end(self, request: RequestRun) -> RequestContext:
        context = self._contexts[request.msg_id]
        for cell in context.stale_cells:
            view = self._views.get(cell)
            if view is not None and view.stale and not context.silent:
                line = f"── {self.label(cell)} is {view.stale[2:]}"
                self._messages.stream(context, "stdout", line)
        self.flush()
        for cell in list(context.results):
            self._send_result(context, cell)
        del self._contexts[request.msg_id]
        self._requests.pop(request.msg_id, None)
        if context.dropped:
            self._send(
                "stream",
                {
                    "name": "stderr",
                    "text": f"… output truncated: {mb(context.dropped)} more not shown\n",
                },
                context.parent,
            )
        return context

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
            # A widget's dependents: their value goes out as soon as it is
            # known (what the cell prints after it follows in another update).
            if context.eager and (note.output is not None or note.status == "idle"):
                self.flush()
        else:
            self._publish_standard(request, context, note, cell, cell in request.roots)
            if note.status == "idle":
                self._send_result(context, cell)

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
        if view.console_display is None and cell not in context.stale_cells:
            context.stale_cells.append(cell)

    # -- cells with displays (cellId) ------------------------------------
    def _apply(self, view: CellView, note: CellOp) -> None:
        if note.console == []:
            view.clear_console()
        for item in note.console_items():
            view.append_console(item, self.label)
        if note.output is not None:
            view.set_output(note.output)
        view.dirty = True

    def _schedule(self, cell: str, request: RequestRun) -> None:
        self._dirty[cell] = request
        self._arm()

    def _arm(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(THROTTLE, self._on_timer)

    def _on_timer(self) -> None:
        self._flush_handle = None
        self._flush(final=False)

    def flush(self) -> None:
        """Send everything pending: stream text and display updates (before
        any reply or input prompt; the timer sends it otherwise)."""
        self._flush(final=True)

    def _flush(self, final: bool) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        for waiting in self._contexts.values():
            self._messages.flush_stream(waiting)
        dirty, self._dirty = self._dirty, {}
        now = time.monotonic()
        for cell, request in dirty.items():
            view = self._views.get(cell)
            context = self._contexts.get(request.msg_id)
            if view is None or context is None or not view.dirty:
                continue
            view.dirty = False
            own = cell in request.roots
            console = view.console_bundle(own)
            if console != view.console_sent:
                if (
                    not final
                    and len(console["text/plain"]) > LARGE_CONSOLE
                    and now - view.console_sent_at < LARGE_THROTTLE
                ):
                    # Sent by a later timer (or the reply's final flush).
                    view.dirty = True
                    self._dirty[cell] = request
                else:
                    view.console_sent = console
                    view.console_sent_at = now
                    self._messages.update(context, view.console_display, console)
            self._flush_values(context, view, own)
        if self._dirty:
            self._arm()

    def _flush_values(self, context: RequestContext, view: CellView, own: bool) -> None:
        """The cell's value display, and one more per extra thing it showed.

        In the cell's own request a display added now lands below the cell's
        others, in order. A run from another request can only update the
        displays the cell has: what goes beyond them shares the last one.
        """
        bundles = view.value_bundles(own, self.label)
        slots = 1 + len(view.more_displays)
        while own and len(bundles) > slots and not context.silent:
            view.more_displays.append(self._messages.display(context, bundles[slots], {}))
            view.more_sent.append(bundles[slots])
            slots += 1
        if len(bundles) > slots:
            bundles = [*bundles[: slots - 1], combined(bundles[slots - 1 :])]
        bundles += [EMPTY] * (slots - len(bundles))
        if bundles[0] != view.value_sent:
            view.value_sent = bundles[0]
            self._messages.update(context, view.value_display, bundles[0])
        for i, bundle in enumerate(bundles[1:]):
            if bundle != view.more_sent[i]:
                view.more_sent[i] = bundle
                self._messages.update(context, view.more_displays[i], bundle)

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
            elif item.mimetype == DISPLAY_MIME:
                self._display_op(context, cell, is_root, read_op(item.data))
            elif item.channel in ("stdout", "stderr") and item.data:
                self._header(context, cell, is_root)
                self._messages.stream(context, item.channel, str(item.data), console=True)
            elif item.channel == "media":
                bundle = to_bundle(item.mimetype, item.data)
                if bundle is not None:
                    self._header(context, cell, is_root)
                    self._messages.display(context, *bundle)
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
        if is_root and cell in context.results:
            # The value changed again in the same run (mo.output.append).
            context.results[cell].update(data=bundle[0], metadata=bundle[1])
        elif is_root and view.value_request == request.msg_id:
            self._messages.update(context, view.value_display, bundle[0], bundle[1])
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
            context.results[cell] = content
        elif view.value_display is not None:
            self._messages.update(context, view.value_display, bundle[0], bundle[1])
            if not context.shows_updates and bundle[0].get("text/plain"):
                self._header(context, cell, is_root)
                self._messages.stream(context, "stdout", f"{bundle[0]['text/plain']}\n")
        else:
            self._header(context, cell, is_root)
            view.value_display = self._messages.display(context, *bundle)

    def _display_op(
        self, context: RequestContext, cell: str, is_root: bool, op: DisplayOp | None
    ) -> None:
        """display(), handle.update(), clear_output() and a representation's
        error, as ipykernel sends them."""
        if op is None or context.silent:
            return
        if op.op == "clear":
            # Only the cell's own request may clear: under another request
            # it would clear the cell that request runs.
            if is_root:
                self._messages.flush_stream(context)
                self._send("clear_output", {"wait": op.wait}, context.parent)
        elif op.op == "update":
            self._messages.update(context, op.display_id, op.data, op.metadata)
        elif op.op == "error":
            self._header(context, cell, is_root)
            self._messages.flush_stream(context)
            self._send("error", op.error or {}, context.parent)
        else:
            self._header(context, cell, is_root)
            self._messages.display(context, op.data, op.metadata, op.display_id)

    def _send_result(self, context: RequestContext, cell: str) -> None:
        content = context.results.pop(cell, None)
        if content is not None:
            self._messages.flush_stream(context)
            self._send("execute_result", content, context.parent)

    def _header(self, context: RequestContext, cell: str, is_root: bool) -> None:
        if is_root or cell in context.headers_sent or context.silent:
            return
        context.headers_sent.add(cell)
        self._messages.stream(context, "stdout", f"── {self.label(cell)} re-ran ──\n")
