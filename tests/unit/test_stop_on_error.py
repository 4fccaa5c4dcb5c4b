"""The private marimo pieces Run All batching stands on.

bridge/runtime/stop_on_error.py wraps the handler of ``ExecuteCellsCommand``
and adds a post-execution hook that cancels the rest of a batch;
bridge/notebook/analysis.py asks marimo's compiler what a cell defines and
reads. If an upgrade moves or reshapes any of them, these fail by name (and
``supported()`` turns batching off instead of running cells Jupyter's
stop_on_error would have aborted).
"""

from __future__ import annotations

import inspect

from bridge.notebook.analysis import names
from bridge.runtime import stop_on_error


def test_the_runtime_hooks_are_where_the_bridge_expects() -> None:
    from marimo._runtime.kernel_request_handlers import KernelRequestHandlers
    from marimo._runtime.runner import hooks_post_execution
    from marimo._runtime.runner.cell_runner import Runner
    from marimo._runtime.runner.hook_context import CancelledCells

    assert stop_on_error.supported()
    # The handler is bound when marimo's kernel registers it: wrapping the
    # class attribute before that reaches it.
    register = inspect.getsource(KernelRequestHandlers.register)
    assert "router.register(ExecuteCellsCommand, self._handle_execute_multiple)" in register
    handle = inspect.getsource(KernelRequestHandlers._handle_execute_multiple)
    assert "self._kernel.run(request.execution_requests)" in handle
    assert isinstance(hooks_post_execution.POST_EXECUTION_HOOKS, list)
    # A post-execution hook's context carries the runner's cancelled cells,
    # and the runner checks them again before each cell it starts.
    assert list(inspect.signature(CancelledCells.add).parameters) == [
        "self", "raising_cell", "descendants"
    ]
    dispatch = inspect.getsource(Runner._dispatch_runnable)
    assert "if self.cancelled(cell_id):" in dispatch.split("for batch in")[1]
    # Every cancellation goes through CancelledCells.add: a failing cell's
    # (the scheduler's cancel) and a cell blocked by an ancestor that raised
    # (the runner's prescan).
    from marimo._runtime.runner.scheduler import SequentialScheduler

    assert "self._cancelled.add(cell_id, descendants)" in inspect.getsource(SequentialScheduler.cancel)
    assert "self.cancelled_cells.add(blocked_ancestor_id, pending)" in dispatch


def test_a_failing_cell_is_cancelled_by_marimo_itself() -> None:
    """The batch stops after a failure through marimo's own cancel of the
    failing cell (its every exception path calls it): no hook of ours
    decides what a failure is."""
    from marimo._runtime.runner.cell_runner import Runner

    finalize = inspect.getsource(Runner._finalize_run_result)
    assert finalize.count("self.cancel(cell_id)") >= 3


def test_marimo_analysis_of_a_cell() -> None:
    found = names("import os\nx = os.sep + y\n_private = 1\ndef f():\n    return z\n")
    assert found is not None
    assert found.defs == {"os", "x", "f"}
    assert found.refs == {"y", "z"}
    assert names("x = (") is None
    assert names("from os import *") is None
    assert not found.deletes
    deleting = names("del shared")
    assert deleting is not None and deleting.deletes
