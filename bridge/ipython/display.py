"""``display()`` and ``clear_output()`` as ipykernel has them, inside the runtime.

Runs in marimo's runtime process (installed by ``bridge.runtime.child``).
marimo's own ``display`` appends to the cell's single output, which the
cell's last expression then replaces, and IPython's ``clear_output``
without a shell writes terminal escapes. Jupyter users expect each
``display(obj)`` to be an output of its own, with its own mime bundle, and
``clear_output`` to clear. So each call here sends one console message on
marimo's media channel (the channel ``plt.show()`` uses) that only the
bridge reads: ``DISPLAY_MIME``, a JSON op ("display", "update", "clear",
or "error": a representation that raised). The bridge turns it into
``display_data``, ``update_display_data``, ``clear_output`` or ``error``
(bridge/jupyter/outputs.py).

``display`` is also a builtin here, as in IPython. marimo's formatter
registration patches ``IPython.display.display`` when IPython is imported;
``install`` wraps that registration so these functions win. marimo has no
public way to send a console output or to format an object, so this module
imports four private modules (``_output.formatters.ipython_formatters``,
``_output.formatting``, ``_messaging.notification_utils``,
``_messaging.cell_output``); tests/unit/test_runtime_hooks.py fails loudly
when an upgrade moves them.
"""

from __future__ import annotations

import base64
import builtins
import json
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bridge.ipython import capture
from bridge.runtime import figures
from bridge.translate.displays import DISPLAY_MIME

_formatter: Any = None


class DisplayHandle:
    """What ``display(obj, display_id=True)`` returns, as IPython's."""

    def __init__(self, display_id: str) -> None:
        self.display_id = display_id

    def __repr__(self) -> str:
        return f"<DisplayHandle display_id={self.display_id}>"

    def display(self, obj: Any, **kwargs: Any) -> None:
        display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj: Any, **kwargs: Any) -> None:
        update_display(obj, display_id=self.display_id, **kwargs)


def display(
    *objs: Any,
    include: Any = None,
    exclude: Any = None,
    metadata: dict[str, Any] | None = None,
    transient: dict[str, Any] | None = None,
    display_id: Any = None,
    raw: bool = False,
    clear: bool = False,
    **kwargs: Any,
) -> DisplayHandle | None:
    """Show each object as an output of its own (IPython's signature)."""
    if display_id is True:
        display_id = uuid.uuid4().hex
    if transient and isinstance(transient.get("display_id"), str):
        display_id = transient["display_id"]
    if clear:
        clear_output(wait=True)
    for obj in objs:
        meta: dict[str, Any]
        if raw and isinstance(obj, dict):
            source, data, meta = "ipython", obj, {}
        else:
            source, data, meta = _bundle(obj, include, exclude)
        if metadata:
            meta = {**meta, **metadata}
        if data:
            figures.displayed(obj)
            _send({"op": "display", "source": source, "data": data, "metadata": meta,
                   "display_id": display_id})
    return DisplayHandle(str(display_id)) if display_id is not None else None


def update_display(obj: Any, *, display_id: str, **kwargs: Any) -> None:
    raw = kwargs.get("raw", False)
    source, data, meta = ("ipython", obj, {}) if raw and isinstance(obj, dict) else _bundle(obj)
    _send({"op": "update", "source": source, "data": data, "metadata": meta,
           "display_id": str(display_id)})


def publish_display_data(
    data: dict[str, Any], metadata: dict[str, Any] | None = None, *,
    transient: dict[str, Any] | None = None, **kwargs: Any,
) -> None:
    """IPython's ``publish_display_data`` (what a captured output's
    ``display()`` calls): the bundle shown as it is."""
    display(data, raw=True, metadata=metadata, transient=transient)


def clear_output(wait: bool = False) -> None:
    _send({"op": "clear", "wait": bool(wait)})


class FormatterShell:
    """What IPython's formatters ask of a shell: to show a formatter's error.

    IPython's ``catch_format_error`` calls ``get_ipython().showtraceback()``,
    and without a shell prints the error to stderr; ipykernel's shell shows
    it as an error output. ``_ipython_formatter`` gives the formatters this
    one by setting the ``get_ipython`` that ``IPython.core.formatters``
    imported: the formatters alone see it, so no library takes the runtime
    for IPython. tests/unit/test_runtime_hooks.py fails loudly when IPython
    moves it.
    """

    formatting_value = False  # while a cell's value (its output) is formatted
    told = 0  # errors shown so far

    def showtraceback(self, exc_info: Any = None, *args: Any, **kwargs: Any) -> None:
        error = (exc_info or sys.exc_info())[1]
        if isinstance(error, BaseException):
            self.told += 1
            formatter_error(error, value=self.formatting_value)

    @contextmanager
    def value(self) -> Iterator[Callable[[], bool]]:
        """While a cell's value is formatted (fallback.py): its errors fail
        the cell. Gives whether one was told."""
        told, self.formatting_value = self.told, True
        try:
            yield lambda: self.told > told
        finally:
            self.formatting_value = False


SHELL = FormatterShell()


def formatter_error(error: BaseException, value: bool) -> None:
    """A representation that raised, shown as ipykernel's shell shows it: an
    error output. ``value``: it was the cell's value's (ipykernel's
    displayhook), which fails the cell; a display()'s does not."""
    _send({"op": "error", "ename": type(error).__name__, "evalue": str(error),
           "traceback": "".join(traceback.format_exception(error)).rstrip("\n").split("\n"),
           "value": value})


Bundle = tuple[str, dict[str, Any], dict[str, Any]]  # (source, data, metadata)


def _bundle(obj: Any, include: Any = None, exclude: Any = None) -> Bundle:
    """IPython's mime bundle (what ipykernel sends), or marimo's own rendering
    (``source`` "marimo", translated by the bridge as a cell's value is) for
    marimo objects, widgets and what IPython shows only as text (figures)."""
    if _marimo_first(obj):
        marimo = _marimo_bundle(obj)
        if marimo is not None:
            return marimo
    data, meta = _ipython_formatter().format(obj, include=include, exclude=exclude)
    if set(data) <= {"text/plain"}:
        marimo = _marimo_bundle(obj)
        if marimo is not None:
            return marimo
    return "ipython", data, meta


def _marimo_first(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    # marimo's objects render as marimo means them; a widget's view needs
    # the model marimo opens for it when it formats it.
    return module.startswith(("marimo", "ipywidgets", "anywidget")) or hasattr(obj, "_mime_")


def _marimo_bundle(obj: Any) -> Bundle | None:
    from bridge.ipython.fallback import marimo_format

    formatted = marimo_format(obj)
    if formatted.traceback is not None or not formatted.data:
        return None
    return "marimo", {formatted.mimetype: formatted.data}, {}


def formatter() -> Any:
    """IPython's DisplayFormatter that display() formats with (``get_ipython()
    .display_formatter``: a printer registered on it shows)."""
    return _ipython_formatter()


def _ipython_formatter() -> Any:
    global _formatter
    if _formatter is None:
        from IPython.core import formatters

        setattr(formatters, "get_ipython", lambda: SHELL)  # noqa: B010 (a stand-in, typed apart)
        _formatter = formatters.DisplayFormatter()
    return _formatter


def _send(op: dict[str, Any]) -> None:
    if capture.keeps(op):
        return  # a %%capture body's output, kept in its outputs
    from marimo._messaging.cell_output import CellChannel
    from marimo._messaging.notification_utils import CellNotificationUtils

    # What the cell printed so far goes first: marimo buffers console text.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    CellNotificationUtils.broadcast_console_output(
        channel=CellChannel.MEDIA,
        mimetype=DISPLAY_MIME,  # type: ignore[arg-type]
        data=json.dumps(op, default=_jsonable),
        cell_id=None,
        status=None,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _patch_ipython() -> None:
    import IPython.core.display_functions as functions
    import IPython.display as ipython_display

    for module in (ipython_display, functions):
        setattr(module, "display", display)  # noqa: B010 (IPython has no stubs to follow)
        setattr(module, "update_display", update_display)  # noqa: B010
        setattr(module, "clear_output", clear_output)  # noqa: B010
        setattr(module, "publish_display_data", publish_display_data)  # noqa: B010
        if hasattr(module, "DisplayHandle"):
            setattr(module, "DisplayHandle", DisplayHandle)  # noqa: B010


def install() -> None:
    """Make ``display`` a builtin and keep IPython's functions ours."""
    builtins.display = display  # type: ignore[attr-defined]
    capture.install()
    from marimo._output.formatters.ipython_formatters import IPythonFormatter

    original = IPythonFormatter.register

    def register(self: Any) -> Any:
        unpatch = original(self)
        _patch_ipython()
        return unpatch

    IPythonFormatter.register = register  # type: ignore[method-assign]
    if "IPython.display" in sys.modules:
        _patch_ipython()
