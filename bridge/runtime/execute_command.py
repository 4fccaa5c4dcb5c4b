"""marimo's handler of ``ExecuteCellsCommand``, wrapped by the runtime's
additions that must know which command a run belongs to: the batch of a
Run All (stop_on_error.py) and the execution counts of IPython's history
(output_history.py).

The handler is private (``KernelRequestHandlers._handle_execute_multiple``);
``present()`` says whether it is where this expects, and each addition
installs only then. tests/unit/test_stop_on_error.py and
tests/unit/test_runtime_hooks.py fail loudly when an upgrade moves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def present() -> bool:
    try:
        from marimo._runtime.kernel_request_handlers import KernelRequestHandlers
    except ImportError:
        return False
    return callable(getattr(KernelRequestHandlers, "_handle_execute_multiple", None))


def wrap(mark: str, before: Callable[[Any], Any], after: Callable[[], None]) -> None:
    """Around each command's handling: ``before(command)`` gives the command
    marimo handles (the same, or a copy), ``after()`` runs when it is done.
    Once per ``mark``, however often it is called."""
    from marimo._runtime.kernel_request_handlers import KernelRequestHandlers

    handle: Callable[..., Any] = KernelRequestHandlers._handle_execute_multiple
    if mark in getattr(handle, "_bridge_marks", ()):
        return

    async def handle_execute_multiple(self: Any, command: Any) -> None:
        command = before(command)
        try:
            await handle(self, command)
        finally:
            after()

    handle_execute_multiple._bridge_marks = {  # type: ignore[attr-defined]
        mark, *getattr(handle, "_bridge_marks", ())}
    KernelRequestHandlers._handle_execute_multiple = handle_execute_multiple  # type: ignore[method-assign,assignment]
