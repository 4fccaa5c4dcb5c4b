"""Each cell's latest output and console, as code mode reads them.

marimo's session keeps this view for its scratchpad; the bridge keeps the
same, fed from the runtime's cell-ops, so ``cell.output`` works in code mode.
"""

from __future__ import annotations

from typing import Any

from bridge.runtime.messages import CellOp, CellOutput

# A cell printing without end must not grow this without bound: at most this
# many items, and this much text (the tail is kept). Counting items alone is
# not enough: marimo batches a flood into items of megabytes each.
MAX_CONSOLE_ITEMS = 200
MAX_CONSOLE_CHARS = 1_000_000


class LastOutputs:
    def __init__(self) -> None:
        self._output: dict[str, CellOutput] = {}
        self._console: dict[str, list[CellOutput]] = {}
        self._console_chars: dict[str, int] = {}

    def feed(self, op: CellOp) -> None:
        if op.cell_id == "__scratch__":
            return
        if op.output is not None:
            self._output[op.cell_id] = op.output
        if op.console is not None:
            if op.console == []:
                self._console.pop(op.cell_id, None)
                self._console_chars.pop(op.cell_id, None)
            else:
                self._append(op.cell_id, op.console_items())

    def output(self, cell_id: str) -> CellOutput | None:
        """The cell's latest output (its value, or its marimo-error)."""
        return self._output.get(cell_id)

    def _append(self, cell_id: str, new: list[CellOutput]) -> None:
        items = self._console.setdefault(cell_id, [])
        chars = self._console_chars.get(cell_id, 0)
        for item in new:
            items.append(item)
            chars += _size(item)
        while len(items) > MAX_CONSOLE_ITEMS:
            chars -= _size(items.pop(0))
        while chars > MAX_CONSOLE_CHARS:
            head, excess = items[0], chars - MAX_CONSOLE_CHARS
            if excess >= _size(head):
                chars -= _size(items.pop(0))
            else:
                # Only part of the oldest text goes: keep its tail.
                items[0] = CellOutput(head.channel, head.mimetype, head.data[excess:])
                chars -= excess
        self._console_chars[cell_id] = chars

    def forget(self, cell_id: str) -> None:
        self._output.pop(cell_id, None)
        self._console.pop(cell_id, None)
        self._console_chars.pop(cell_id, None)

    def clear(self) -> None:
        self._output.clear()
        self._console.clear()
        self._console_chars.clear()

    def snapshot(self) -> Any:
        from bridge.notebook.document import cell_outputs

        return cell_outputs(dict(self._output), {k: list(v) for k, v in self._console.items()})


def _size(item: CellOutput) -> int:
    return len(item.data) if isinstance(item.data, str) else 0
