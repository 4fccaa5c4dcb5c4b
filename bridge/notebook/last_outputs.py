"""Each cell's latest output and console, as code mode reads them.

marimo's session keeps this view for its scratchpad; the bridge keeps the
same, fed from the runtime's cell-ops, so ``cell.output`` works in code mode.
"""

from __future__ import annotations

from typing import Any

from bridge.runtime.messages import CellOp, CellOutput

# A cell printing without end must not grow this without bound.
MAX_CONSOLE_ITEMS = 200


class LastOutputs:
    def __init__(self) -> None:
        self._output: dict[str, CellOutput] = {}
        self._console: dict[str, list[CellOutput]] = {}

    def feed(self, op: CellOp) -> None:
        if op.cell_id == "__scratch__":
            return
        if op.output is not None:
            self._output[op.cell_id] = op.output
        if op.console is not None:
            if op.console == []:
                self._console.pop(op.cell_id, None)
            else:
                items = self._console.setdefault(op.cell_id, [])
                items.extend(op.console_items())
                del items[:-MAX_CONSOLE_ITEMS]

    def forget(self, cell_id: str) -> None:
        self._output.pop(cell_id, None)
        self._console.pop(cell_id, None)

    def clear(self) -> None:
        self._output.clear()
        self._console.clear()

    def snapshot(self) -> Any:
        from bridge.notebook.document import cell_outputs

        return cell_outputs(dict(self._output), {k: list(v) for k, v in self._console.items()})
