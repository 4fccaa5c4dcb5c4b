"""The private marimo pieces bridge/ipython/display.py builds on.

marimo has no public way for a host to send a console output or to format
an object, so display() reaches into four private modules. If an upgrade
moves or reshapes one, these fail by name instead of display() failing in a
user's cell.
"""

from __future__ import annotations

import inspect


def test_marimo_patches_ipython_display_in_a_register_we_can_wrap() -> None:
    from marimo._output.formatters.ipython_formatters import IPythonFormatter

    source = inspect.getsource(IPythonFormatter.register)
    # The patch our wrapper must come after, and the attribute it sets.
    assert "IPython.display.display = display" in source


def test_try_format_gives_a_mimetype_and_data() -> None:
    from marimo._output.formatting import try_format

    formatted = try_format(42)
    assert isinstance(formatted.mimetype, str) and "42" in formatted.data
    assert hasattr(formatted, "traceback")


def test_console_outputs_go_out_on_the_media_channel() -> None:
    from marimo._messaging.cell_output import CellChannel
    from marimo._messaging.notification_utils import CellNotificationUtils

    assert CellChannel.MEDIA == "media"
    params = inspect.signature(CellNotificationUtils.broadcast_console_output).parameters
    assert {"channel", "mimetype", "data", "cell_id", "status"} <= set(params)


def test_ipython_formats_without_a_shell() -> None:
    from IPython.core.formatters import DisplayFormatter
    from IPython.display import Markdown

    data, _ = DisplayFormatter().format(Markdown("*m*"))
    assert data["text/markdown"] == "*m*"


def test_ipython_formatters_ask_their_module_get_ipython_to_show_an_error() -> None:
    """display.py's FormatterShell stands in for the shell that IPython's
    formatters tell a representation's error to."""
    from IPython.core import formatters

    assert callable(formatters.get_ipython)
    source = inspect.getsource(formatters.catch_format_error)
    assert "ip = get_ipython()" in source and "ip.showtraceback(exc_info)" in source


def test_figures_hook_goes_before_marimos_closing_hook() -> None:
    """bridge/runtime/figures.py: the hook list, marimo's closing hook, its
    renderer, and the formatter registration that makes the mplot3d cycle."""
    from marimo._output import mpl
    from marimo._output.formatters.matplotlib_formatters import MatplotlibFormatter
    from marimo._runtime.runner import hooks_post_execution

    from bridge.runtime import figures

    assert figures.supported()
    reset = inspect.getsource(hooks_post_execution._reset_matplotlib_context)
    assert "close_figures()" in reset, "marimo closes every figure after a cell"
    render = inspect.signature(mpl._render_figure_mimebundle).parameters
    assert list(render) == ["fig"]
    assert 'rcParams["savefig.format"] == "svg"' in inspect.getsource(mpl._render_figure_mimebundle)
    # The cycle: registering on matplotlib's import imports marimo's backend,
    # which imports matplotlib.projections. When marimo stops doing that,
    # the 3D mending in figures.py can go.
    register = inspect.getsource(MatplotlibFormatter.register)
    assert "from marimo._output import mpl" in register
    assert "from matplotlib.pyplot import" in inspect.getsource(mpl) or (
        "import matplotlib.pyplot" in inspect.getsource(mpl)
    )


def test_try_format_is_what_marimo_calls_for_a_cells_value() -> None:
    """bridge/ipython/fallback.py wraps the module attribute; marimo's
    post-execution hook must look it up there, and keep the traceback of a
    formatter that raised in what it returns."""
    from marimo._output import formatting
    from marimo._runtime.runner import hooks_post_execution

    params = list(inspect.signature(formatting.try_format).parameters)
    assert params[:2] == ["obj", "include_opinionated"]
    assert "formatting.try_format(run_result.output)" in inspect.getsource(hooks_post_execution)

    class Broken:
        def _repr_html_(self) -> str:
            raise ValueError("broken")

    assert formatting.try_format(Broken()).traceback is not None


def test_output_history_hooks_and_the_request_that_carries_counts() -> None:
    """bridge/runtime/output_history.py: the execute handler it wraps, the
    hook lists, the post-execution hook's run result, and the command's
    ``request`` (its ``meta`` carries the counts; marimo hands the request
    to cells as ``mo.app_meta().request``, so the wrapper takes it off)."""
    from marimo._internal.commands import ExecuteCellsCommand
    from marimo._runtime.kernel_request_handlers import KernelRequestHandlers
    from marimo._runtime.runner.cell_runner import RunResult

    from bridge.runtime import output_history

    assert output_history.supported()
    handler = inspect.getsource(KernelRequestHandlers._handle_execute_multiple)
    assert "http_request_context(request.request)" in handler
    assert {"output", "exception"} <= set(inspect.signature(RunResult).parameters)
    command = ExecuteCellsCommand(
        cell_ids=["a"], codes=["1"], request=output_history.request_meta({"a": (3, "1")})
    )
    assert command.request is not None
    assert command.request.meta[output_history.COUNTS_KEY] == {"a": [3, "1"]}
