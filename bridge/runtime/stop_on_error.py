"""A run of several requested cells stops at the first that does not run well.

The bridge runs the cells of several waiting Jupyter requests as one marimo
run (bridge/jupyter/batching.py): one ``ExecuteCellsCommand`` with more than
one cell, in the order of the requests. marimo runs every cell it can, but
Jupyter's ``stop_on_error`` aborts every request after a failing one, and
their cells must not have run. So, in such a run only, once a batch cell
fails or is cancelled (marimo cancels a cell whose ancestor raised, before
or during the run), every batch cell listed after it is cancelled too,
before it starts: they get marimo's "an ancestor raised" error, and the
bridge runs or deletes them as their requests come.

Cancelling too much is safe (a cell the batch did not run is run by its own
request, as without a batch); cancelling too little is not. So a cell
stopped by ``mo.stop()`` stops the batch as well.

The bridge sends a multi-cell ``ExecuteCellsCommand`` for nothing else, so
the number of cells is the whole signal.

Three private marimo pieces: the handler of ``ExecuteCellsCommand`` (wrapped
to know which run is such a batch), ``CancelledCells.add`` (where every
cancellation goes: marimo's own, and this module's) and the list of
post-execution hooks (one added, to know which cells ran). ``supported()``
says whether they are where this expects; the bridge batches only then.
tests/unit/test_stop_on_error.py fails loudly when an upgrade moves them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.runtime import execute_command


@dataclass
class _Batch:
    order: list[str]
    finished: set[str] = field(default_factory=set)


# The batch being run; the runtime handles one command at a time.
_current: _Batch | None = None


def supported() -> bool:
    try:
        from marimo._runtime.runner import hooks_post_execution
        from marimo._runtime.runner.hook_context import CancelledCells
    except ImportError:
        return False
    return (
        execute_command.present()
        and isinstance(getattr(hooks_post_execution, "POST_EXECUTION_HOOKS", None), list)
        and callable(getattr(CancelledCells, "add", None))
    )


def install() -> bool:
    """Before marimo's kernel is made (it copies the hook list then)."""
    if not supported():
        return False
    from marimo._runtime.runner import hooks_post_execution
    from marimo._runtime.runner.hook_context import CancelledCells

    if getattr(CancelledCells.add, "_bridge", False):
        return True

    def begin(command: Any) -> Any:
        global _current
        cell_ids = [str(c) for c in command.cell_ids]
        _current = _Batch(cell_ids) if len(cell_ids) > 1 else None
        return command

    def end() -> None:
        global _current
        _current = None

    add: Callable[..., None] = CancelledCells.add

    def add_and_the_rest(self: Any, raising_cell: Any, descendants: Any) -> None:
        add(self, raising_cell, set(descendants) | _the_rest(raising_cell, descendants))

    add_and_the_rest._bridge = True  # type: ignore[attr-defined]
    execute_command.wrap("stop_on_error", begin, end)
    CancelledCells.add = add_and_the_rest  # type: ignore[method-assign]
    hooks_post_execution.POST_EXECUTION_HOOKS.append(note_finished)
    return True


def _the_rest(raising_cell: Any, descendants: Any) -> set[Any]:
    """The batch cells after the first of these that have not run: a batch
    cell that raised, or batch cells marimo cancels."""
    batch = _current
    if batch is None:
        return set()
    stopped = [
        batch.order.index(str(c)) for c in (raising_cell, *descendants) if str(c) in batch.order
    ]
    if not stopped:
        return set()
    after = batch.order[min(stopped) + 1 :]
    return {type(raising_cell)(c) for c in after if c not in batch.finished}


def note_finished(cell: Any, ctx: Any, run_result: Any) -> None:
    """Post-execution hook: which batch cells have run (a failing one is
    cancelled by marimo itself, through ``CancelledCells.add``)."""
    batch = _current
    if batch is not None:
        batch.finished.add(str(cell.cell_id))
