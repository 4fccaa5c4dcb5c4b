"""The runtime's ``display()``/``clear_output()`` ops, read for Jupyter.

bridge/ipython/display.py sends them from inside the runtime as console
outputs of mimetype ``DISPLAY_MIME``; this is the bridge's reading of one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bridge.translate.mime import to_bundle

DISPLAY_MIME = "application/vnd.marimo-bridge.display+json"


@dataclass(frozen=True)
class DisplayOp:
    op: str  # "display", "update", "clear" or "error"
    data: dict[str, Any]
    metadata: dict[str, Any]
    display_id: str | None = None
    wait: bool = False
    # "error": a representation that raised, as Jupyter's error fields.
    error: dict[str, Any] | None = None
    # "error": it was the cell's value's, which fails the cell.
    fails_cell: bool = False

    def error_text(self) -> str:
        """The error as a console shows it."""
        return "\n".join((self.error or {}).get("traceback") or []) + "\n"


def read_op(raw: Any) -> DisplayOp | None:
    """One op; None for anything malformed or with nothing to show."""
    try:
        op = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(op, dict) or op.get("op") not in ("display", "update", "clear", "error"):
        return None
    if op["op"] == "clear":
        return DisplayOp("clear", {}, {}, wait=bool(op.get("wait")))
    if op["op"] == "error":
        lines = op.get("traceback")
        error = {
            "ename": str(op.get("ename") or "Exception"),
            "evalue": str(op.get("evalue") or ""),
            "traceback": [str(line) for line in lines] if isinstance(lines, list) else [],
        }
        return DisplayOp("error", {}, {}, error=error, fails_cell=bool(op.get("value")))
    data, metadata = op.get("data"), op.get("metadata")
    if not isinstance(data, dict) or not data:
        return None
    metadata = metadata if isinstance(metadata, dict) else {}
    if op.get("source") == "marimo":
        # marimo's own rendering: translated as a cell's value is.
        mimetype, value = next(iter(data.items()))
        bundle = to_bundle(str(mimetype), value)
        if bundle is None:
            return None
        data, metadata = bundle
    display_id = op.get("display_id")
    return DisplayOp(
        str(op["op"]), data, metadata, str(display_id) if display_id is not None else None
    )


# display.py writes an op's "op" first (json.dumps keeps a dict's order).
_ERROR_OP = '{"op": "error"'


def value_error(raw: Any) -> dict[str, Any] | None:
    """The error fields of an "error" op that fails its cell (a value that
    failed to format); None for any other op, which is not parsed here: a
    figure's op carries its image, and every console item passes by."""
    if not (isinstance(raw, str) and raw.startswith(_ERROR_OP)):
        return None
    op = read_op(raw)
    return op.error if op is not None and op.fails_cell else None
