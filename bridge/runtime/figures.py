"""matplotlib figures as Jupyter shows them, inside the runtime.

ipykernel's inline backend (matplotlib-inline) shows, at the end of every
cell, each figure still open, and closes it: ``plt.ylabel('y');`` shows its
figure, and so does a figure drawn in a loop, a ``with`` block or a function.
marimo shows a figure only as the cell's value or through ``plt.show()``,
then closes every figure after the cell (``_reset_matplotlib_context``). So
a notebook written for ipykernel loses most of its figures.

This adds a post-execution hook just before marimo's closing one: each
figure still open is shown as the cell's output, as ``plt.show()`` shows it
(a media output of the cell, then closed), except the figures the cell's
value already shows (an Axes, a Figure, ``plt.plot``'s lines, a seaborn
grid) and those ``display()`` showed: each figure once. It runs after every
run of a cell (its own request, a dependent's re-run, a widget's change),
while matplotlib's backend is marimo's (as the inline backend shows nothing
once a notebook picks ``agg``).
Nothing is kept: what it shows is closed, as marimo closes the rest.

``%config InlineBackend.figure_formats`` picks PNG or SVG (matplotlib's
``savefig.format``, which marimo's renderer reads; PNG is rendered at twice
the resolution, as 'retina').

One more matplotlib matter belongs here: ``from mpl_toolkits import
mplot3d`` as a notebook's first matplotlib import lost the '3d' projection.
Importing mplot3d imports matplotlib; marimo registers its matplotlib
formatter as soon as matplotlib is imported, and that imports
``matplotlib.projections``, which imports mplot3d while mplot3d is still
half made ("Unable to import Axes3D", then "'3d' is not a valid value for
projection"). Plain Python imports projections later. The fix registers
Axes3D once mplot3d is whole: at the first request for '3d'.

Private marimo pieces: the post-execution hook list and the closing hook's
name (``marimo._runtime.runner.hooks_post_execution``), the renderer
(``marimo._output.mpl._render_figure_mimebundle``), the console broadcast
(``CellNotificationUtils.broadcast_console_output``), the global context's
``mpl_installed`` and the formatter's ``register``
(``marimo._output.formatters.matplotlib_formatters``).
tests/unit/test_runtime_hooks.py fails loudly when an upgrade moves them.
"""

from __future__ import annotations

import itertools
import sys
import traceback
import warnings
from collections.abc import Iterable
from typing import Any

# The backend marimo sets when matplotlib is imported in the runtime.
MARIMO_BACKEND = "module://marimo._output.mpl"
# Figures display() showed in the cell running now (by id): not shown again.
_displayed: set[int] = set()


def supported() -> bool:
    try:
        from marimo._messaging.notification_utils import CellNotificationUtils
        from marimo._output.formatters.matplotlib_formatters import MatplotlibFormatter
        from marimo._runtime.runner import hooks_post_execution
    except ImportError:
        return False
    names = [getattr(h, "__name__", "") for h in hooks_post_execution.POST_EXECUTION_HOOKS]
    return (
        "_reset_matplotlib_context" in names
        and callable(getattr(CellNotificationUtils, "broadcast_console_output", None))
        and callable(getattr(MatplotlibFormatter, "register", None))
    )


def install() -> bool:
    """Before marimo's kernel is made (it copies the hook list then)."""
    if not supported():
        return False
    from marimo._output.formatters.matplotlib_formatters import MatplotlibFormatter
    from marimo._runtime.runner import hooks_post_execution

    hooks = hooks_post_execution.POST_EXECUTION_HOOKS
    closing = [getattr(h, "__name__", "") for h in hooks].index("_reset_matplotlib_context")
    hooks.insert(closing, show_open_figures)

    register = MatplotlibFormatter.register

    def register_then_mend_3d(self: Any) -> None:
        with warnings.catch_warnings():
            if _half_made("mpl_toolkits.mplot3d"):
                # Not the "several matplotlibs" it suspects: the cycle above.
                warnings.filterwarnings("ignore", message="Unable to import Axes3D")
            register(self)
        _mend_3d_projection()

    MatplotlibFormatter.register = register_then_mend_3d  # type: ignore[method-assign]
    return True


def displayed(obj: Any) -> None:
    """display() showed ``obj``: its figure is not shown again at the end."""
    figure = _figure_of(obj)
    if figure is not None:
        _displayed.add(id(figure))


def show_open_figures(cell: Any, ctx: Any, run_result: Any) -> None:
    """Post-execution hook: show each figure the cell left open."""
    del ctx
    displayed_now = set(_displayed)
    _displayed.clear()
    shown = _figures_in(run_result.output)
    taken = take_open_figures(shown | displayed_now)
    if not taken:
        return
    from marimo._messaging.cell_output import CellChannel
    from marimo._messaging.notification_utils import CellNotificationUtils

    for mimetype, data in taken:
        CellNotificationUtils.broadcast_console_output(
            channel=CellChannel.MEDIA,
            mimetype=mimetype,  # type: ignore[arg-type]
            data=data,
            cell_id=cell.cell_id,
            status=None,
        )


def take_open_figures(skip: set[int] | None = None) -> list[tuple[str, Any]]:
    """Each open figure (but those in ``skip``, by id, and those display()
    showed) drawn as marimo draws one, ``(mimetype, data)``, and closed.
    Also what ``%%capture`` keeps at the end of its body (capture.py)."""
    from marimo._runtime.context import get_global_context

    # Nothing to do, and nothing imported, before a cell imports matplotlib.
    if not get_global_context().mpl_installed:
        return []
    import matplotlib

    if matplotlib.get_backend() != MARIMO_BACKEND:
        return []  # the user chose another backend (agg: figures saved, not shown)
    from marimo._output.mpl import _render_figure_mimebundle
    from matplotlib import pyplot as plt
    from matplotlib._pylab_helpers import Gcf

    skipped = (skip or set()) | _displayed
    taken: list[tuple[str, Any]] = []
    for manager in Gcf.get_all_fig_managers():
        figure = manager.canvas.figure
        if id(figure) in skipped:
            continue
        try:
            mimetype, data = _render_figure_mimebundle(manager.canvas)
        except Exception:
            # A figure that cannot be drawn (bad mathtext) is the cell's
            # stderr, as matplotlib-inline prints it; marimo's hooks do not
            # catch, and the rest of the run would not start.
            traceback.print_exc()
            continue
        finally:
            plt.close(figure)
        taken.append((mimetype, data))
    return taken


def _figure_of(obj: Any) -> Any:
    """The matplotlib Figure an object shows (an Artist's, a grid's), or None."""
    if "matplotlib" not in sys.modules:
        return None  # not imported by any cell: never imported here
    try:
        from matplotlib.artist import Artist
        from matplotlib.figure import Figure, SubFigure
    except ImportError:
        return None
    if isinstance(obj, Artist):
        owner: Any = obj.figure
        while isinstance(owner, SubFigure):
            owner = owner.figure
        return owner
    for attribute in ("figure", "fig"):  # seaborn's grids, BarContainer-likes
        figure = getattr(obj, attribute, None)
        if isinstance(figure, Figure):
            return figure
    patches = getattr(obj, "patches", None)  # BarContainer
    if isinstance(patches, list) and patches and isinstance(patches[0], Artist):
        return patches[0].figure
    return None


def shows_figure(value: Any) -> bool:
    """Whether a cell's value shows a matplotlib figure."""
    return bool(_figures_in(value))


def _figures_in(value: Any) -> set[int]:
    """The figure a cell's value shows as marimo renders it
    (``marimo/_output/formatters/structures.py``): an Artist or a grid; a
    list or tuple of Artists, or a dict of them (``boxplot``), all of one
    figure. ``plt.hist``'s tuple (two arrays and a BarContainer) is shown
    as text: its figure is not shown by it."""
    if "matplotlib" not in sys.modules:
        return set()  # not imported by any cell: never imported here
    if isinstance(value, dict):
        return _one_figure(itertools.chain.from_iterable(
            v if isinstance(v, (list, tuple)) else (v,) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return _one_figure(value)
    figure = _figure_of(value)
    return {id(figure)} if figure is not None else set()


def _one_figure(items: Iterable[Any]) -> set[int]:
    """The one figure all ``items`` are Artists of; none at the first that is
    not (a long list of numbers costs one look)."""
    from matplotlib.artist import Artist

    found = None
    for item in items:
        figure = _figure_of(item) if isinstance(item, Artist) else None
        if figure is None or (found is not None and figure is not found):
            return set()
        found = figure
    return {id(found)} if found is not None else set()


def _half_made(name: str) -> bool:
    spec = getattr(sys.modules.get(name), "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _mend_3d_projection() -> None:
    """Ask mplot3d for Axes3D again at the first use of '3d', when the
    import cycle above left it out."""
    import matplotlib.projections as projections

    if "3d" in projections.get_projection_names():
        return
    original = projections.get_projection_class
    if getattr(original, "_bridge", False):
        return

    def get_projection_class(projection: Any = None) -> Any:
        if projection == "3d" and "3d" not in projections.get_projection_names():
            try:
                from mpl_toolkits.mplot3d import Axes3D
            except Exception:  # the real "several matplotlibs" case: theirs to say
                pass
            else:
                projections.register_projection(Axes3D)
        return original(projection)

    get_projection_class._bridge = True  # type: ignore[attr-defined]
    projections.get_projection_class = get_projection_class
