"""What one marimo cell shows now, and the bundles its displays carry.

A cell run with a ``cellId`` keeps two displays (console and value) that
every later run updates in place; this is the state behind them: console
text (capped, with a note of what was cut), the value or the error, the
figures a cell showed with ``plt.show()``, and whether it is stale.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

from bridge.runtime.messages import CellOutput
from bridge.translate import errors as error_text
from bridge.translate.displays import DISPLAY_MIME, read_op
from bridge.translate.mime import to_bundle
from bridge.translate.traceback import RED, RESET, traceback_lines

TRACEBACK_MIME = "application/vnd.marimo+traceback"
# Console text a cell keeps for its display; older text is cut, and the
# console says how much.
CONSOLE_LIMIT = 1_000_000
# Figures (``plt.show()``) and ``display()`` outputs a cell keeps for its
# value displays, in bytes: past it the oldest are forgotten (a loop
# without clear_output). The frontend keeps showing them; only a later run
# from another request, which redraws every display, shows FORGOTTEN.
MEDIA_BYTES = 16_000_000
FORGOTTEN: dict[str, Any] = {"text/plain": "(an earlier output of this run, no longer kept)"}

Bundle = tuple[dict[str, Any], dict[str, Any]]
Label = Any  # Callable[[str], str]: a cell id -> "Cell In[3]"


@dataclass
class CellView:
    console: list[str] = field(default_factory=list)
    console_size: int = 0
    # Characters cut from the head of the console since it was last cleared.
    console_cut: int = 0
    # When the console display was last updated (time.monotonic()).
    console_sent_at: float = 0.0
    value: Bundle | None = None
    # What the run showed besides its value, in order: figures and display()
    # outputs, each with its display id (display(obj, display_id=...)).
    media: list[tuple[Bundle, str | None]] = field(default_factory=list)
    media_bytes: int = 0
    # media[:media_forgotten] are FORGOTTEN.
    media_forgotten: int = 0
    errors: list[dict[str, Any]] | None = None
    traceback: list[str] | None = None
    console_display: str | None = None
    value_display: str | None = None
    # What the displays show now: an update that changes nothing is not sent.
    console_sent: dict[str, Any] | None = None
    value_sent: dict[str, Any] | None = None
    # Displays the cell's own request added below its value display when its
    # run showed several things (display(), figures): one output each.
    more_displays: list[str] = field(default_factory=list)
    more_sent: list[dict[str, Any]] = field(default_factory=list)
    # An error output from the cell's own request sits in the cell and can't
    # be updated: later runs say that it is from an earlier run.
    error_output_shown: bool = False
    dirty: bool = False
    # The request whose execute_result shows the value (id-less cells).
    value_request: str | None = None
    # Lazy mode: why the cell's output is out of date, while it is.
    stale: str | None = None

    # -- changes -----------------------------------------------------------
    def clear_console(self) -> None:
        """A new run of the cell starts (marimo clears its console)."""
        self.console.clear()
        self.console_size = 0
        self.console_cut = 0
        self.media.clear()
        self.media_bytes = self.media_forgotten = 0

    def set_output(self, output: CellOutput) -> None:
        if output.channel == "marimo-error":
            self.errors = output.errors()
            self.value = None
        else:
            self.errors = None
            self.traceback = None
            self.value = to_bundle(output.mimetype, output.data)

    def append_console(self, item: CellOutput, label: Label) -> None:
        if item.mimetype == TRACEBACK_MIME:
            self.traceback = traceback_lines(str(item.data), label)
        elif item.mimetype == DISPLAY_MIME:
            self._display_op(item.data)
        elif item.channel == "media":
            bundle = to_bundle(item.mimetype, item.data)
            if bundle is not None:
                self._show(bundle, None)
        elif item.channel in ("stdout", "stderr"):
            self._append_text(str(item.data or ""))

    def _display_op(self, raw: Any) -> None:
        """display(), handle.update(), clear_output() and a representation's
        error (its traceback, as the console shows the cell's) of the cell's run."""
        op = read_op(raw)
        if op is None:
            return
        if op.op == "clear":
            # Both waits are one here: the displays are redrawn at the throttle.
            self.clear_console()
        elif op.op == "error":
            self._append_text(op.error_text())
        elif op.op == "update":
            for i, (old, display_id) in enumerate(self.media):
                if display_id == op.display_id and i >= self.media_forgotten:
                    self.media[i] = ((op.data, op.metadata), display_id)
                    self.media_bytes += _size(op.data) - _size(old[0])
            self._keep_within()
        else:
            self._show((op.data, op.metadata), op.display_id)

    def _show(self, bundle: Bundle, display_id: str | None) -> None:
        self.media.append((bundle, display_id))
        self.media_bytes += _size(bundle[0])
        self._keep_within()

    def _keep_within(self) -> None:
        """Forget the oldest media past MEDIA_BYTES, keeping their places:
        each has its own display, and what a display shows was sent."""
        while self.media_bytes > MEDIA_BYTES and self.media_forgotten < len(self.media) - 1:
            i = self.media_forgotten
            (data, _), display_id = self.media[i]
            self.media[i] = ((FORGOTTEN, {}), display_id)
            self.media_bytes -= _size(data)
            self.media_forgotten += 1
            # Its display shows it already: forgetting it sends nothing.
            if i == 0 and self.value_sent is data:
                self.value_sent = FORGOTTEN
            elif 0 < i <= len(self.more_sent) and self.more_sent[i - 1] is data:
                self.more_sent[i - 1] = FORGOTTEN

    def _append_text(self, text: str) -> None:
        self.console.append(text)
        self.console_size += len(text)
        while self.console_size > CONSOLE_LIMIT:
            excess = self.console_size - CONSOLE_LIMIT
            head = self.console[0]
            if excess >= len(head):
                self.console.pop(0)
                cut = len(head)
            else:  # one flood batch can be larger than the limit: keep its tail
                self.console[0] = head[excess:]
                cut = excess
            self.console_size -= cut
            self.console_cut += cut

    # -- what the displays show ----------------------------------------------
    def console_bundle(self, own: bool) -> dict[str, Any]:
        text = "".join(self.console)
        if self.console_cut:
            text = f"… {mb(self.console_cut)} of earlier output not shown\n" + text
        if self.stale:
            text = self.stale + text
        if self.error_output_shown and not own:
            text = "(re-ran since: the error output below is from an earlier run)\n" + text
        return {"text/plain": text}

    def value_bundles(self, own: bool, label: Label) -> list[dict[str, Any]]:
        """What the cell showed, one bundle per output, in order: its
        displays and figures, then its value (or error)."""
        value = EMPTY
        if self.errors:
            # Shown here, own run or not, so the next run replaces it.
            value = {"text/plain": "\n".join(self.error_lines(label))}
        elif self.value is not None:
            value = self.value[0]
        shown = [bundle[0] for bundle, _ in self.media]
        if value != EMPTY or not shown:
            shown.append(value)
        return shown

    def error_lines(self, label: Label) -> list[str]:
        errors = self.errors or []
        if self.traceback and any(error_text.has_traceback(e) for e in errors):
            return self.traceback
        described = [error_text.describe(e, label) for e in errors]
        return [f"{RED}{d.ename}{RESET}: {d.evalue}" for d in described]


EMPTY: dict[str, Any] = {"text/plain": ""}


def _size(data: dict[str, Any]) -> int:
    """About what a bundle holds (its text and encoded images)."""
    return sum(len(v) if isinstance(v, (str, bytes)) else 64 for v in data.values())


def combined(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    """One bundle showing several, in order (HTML): what a run from another
    request showed beyond the displays the cell already has."""
    if len(bundles) == 1:
        return bundles[0]
    parts, texts = [], []
    for data in bundles:
        if data == EMPTY:
            continue
        texts.append(str(data.get("text/plain", "")))
        if "text/html" in data:
            parts.append(str(data["text/html"]))
        elif "image/svg+xml" in data:
            parts.append(str(data["image/svg+xml"]))
        elif any(k.startswith("image/") for k in data):
            mime = next(k for k in data if k.startswith("image/"))
            raw = data[mime]
            encoded = raw if isinstance(raw, str) else base64.b64encode(raw).decode()
            parts.append(f'<img src="data:{mime};base64,{encoded}"/>')
        else:
            parts.append(f"<pre>{html.escape(texts[-1])}</pre>")
    return {"text/html": "\n".join(parts), "text/plain": "\n".join(t for t in texts if t)}


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
