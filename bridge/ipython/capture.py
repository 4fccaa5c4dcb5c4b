"""``%%capture``'s rich outputs, inside the runtime.

IPython's ``%%capture`` keeps what the body displays, and the figures its
inline backend shows at the end of the body, in ``cap.outputs``; they are
not shown, and ``cap()`` or ``cap.show()`` shows them later. Here the body
runs in a ``with`` block (bridge/ipython/cell_magics.py) whose last
context is ``__capture_outputs__()``, a builtin of the runtime: while it is
entered, display() keeps each output instead of sending it, and at its
end each figure the body left open is kept and closed, as
matplotlib-inline would have shown it. The list holds what IPython's
``CapturedIO`` holds, the keyword arguments of a ``RichOutput`` (the mime
bundle ipykernel would have sent); ``cap.show()`` publishes them through
``publish_display_data``, which display.py routes to display().

A marimo without this kernel has no such builtin: the twin's code falls
back to a context that keeps nothing (bridge/ipython/cell_magics.py).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bridge.runtime import figures

# The output lists of the captures entered, innermost last.
_stack: list[list[Any]] = []


def keeps(op: dict[str, Any]) -> bool:
    """A display op the innermost capture keeps (display() then sends
    nothing); updates of earlier outputs go out as usual."""
    if not _stack or op.get("op") not in ("display", "clear"):
        return False
    if op["op"] == "clear":
        _stack[-1].clear()  # IPython's capturing publisher clears its list
        return True
    kept = _rich_output(str(op.get("source")), op.get("data") or {}, op.get("metadata") or {})
    if kept is not None:
        _stack[-1].append(kept)
    return True


@contextmanager
def capture() -> Iterator[list[Any]]:
    outputs: list[Any] = []
    _stack.append(outputs)
    try:
        yield outputs
        for mimetype, data in figures.take_open_figures():
            kept = _rich_output("marimo", {mimetype: data}, {})
            if kept is not None:
                outputs.append(kept)
    finally:
        _stack.pop()


def _rich_output(source: str, data: dict[str, Any], metadata: dict[str, Any]) -> Any:
    """A display op's bundle as IPython's capture keeps it (a marimo
    rendering translated as the bridge translates it)."""
    if source == "marimo":
        from bridge.translate.mime import to_bundle

        bundle = next((to_bundle(m, d) for m, d in data.items()), None)
        if bundle is None:
            return None
        data, metadata = bundle
    return {"data": data, "metadata": metadata}


def install() -> None:
    builtins.__capture_outputs__ = capture  # type: ignore[attr-defined]
