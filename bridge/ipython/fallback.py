"""A rich representation that fails falls back as IPython's does.

IPython asks each of an object's representations in turn; one that raises
(``_repr_html_`` with a bug) is skipped, its traceback printed, and the
others are shown: at least ``text/plain`` from ``__repr__``. marimo's
formatter tries one representation and, when it raises, shows nothing
(its traceback goes to the cell's traceback, which a successful cell does
not show). In the runtime, this wraps marimo's ``try_format`` (private,
``marimo._output.formatting``; tests/unit/test_runtime_hooks.py fails
loudly when it moves): when marimo's formatting of an object failed
(with a traceback or, as for IPython's ``Image``, without one),
IPython's formatter formats it instead, and the best representation that
worked is the output.

A formatter that raises tells its error as ipykernel's shell does
(display.py's ``FormatterShell``): an error output, and when it was the
cell's value that failed to format (ipykernel's displayhook), the cell's
reply is an error.
"""

from __future__ import annotations

from typing import Any

from bridge.ipython import display

# What marimo can show of IPython's bundle, best first; images go to
# marimo as data URLs, as its own figures do.
MIMETYPES = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown",
             "text/plain")
_DATA_URL = ("image/png", "image/jpeg")


# marimo's own try_format, which display() asks for marimo's rendering.
_marimo_format: Any = None


def marimo_format(obj: Any) -> Any:
    from marimo._output import formatting

    return (_marimo_format or formatting.try_format)(obj)


def install() -> None:
    global _marimo_format
    from marimo._output import formatting

    original = formatting.try_format
    if getattr(original, "_bridge", False):
        return
    _marimo_format = original

    def try_format(obj: Any, include_opinionated: bool | None = None) -> Any:
        formatted = original(obj, include_opinionated)
        failure = formatted.exception
        # A failure may come without a traceback: marimo's own formatter of
        # IPython's Image fails so (it reads ``Image._MIMETYPES``, gone in
        # IPython 9) and shows nothing; IPython's formatter gives the image.
        if (formatted.traceback is None and failure is None) or obj is None:
            return formatted  # marimo formatted it
        if failure is not None and (
            not isinstance(failure, Exception) or isinstance(failure, ImportError)
        ):
            # An interrupt is not a representation's bug; a missing package
            # is what marimo tells the user to install.
            return formatted
        # What marimo formats here is a cell's output: its last expression,
        # or what mo.output.replace() and append() give (display() asks
        # marimo_format).
        with display.SHELL.value() as told:
            fallback = _ipython_bundle(obj)
        if fallback is None and told():
            # IPython's formatter told the error (an error output, the cell
            # failed); marimo's traceback would tell it again.
            return formatting.FormattedOutput(mimetype="text/plain", data="")
        if fallback is None:
            return formatted
        mimetype, data = fallback
        return formatting.FormattedOutput(mimetype=mimetype, data=data)  # type: ignore[arg-type]

    try_format._bridge = True  # type: ignore[attr-defined]
    formatting.try_format = try_format


def _ipython_bundle(obj: Any) -> tuple[str, str] | None:
    """The best representation IPython's formatter gets (it tells the
    failing ones' errors itself, through the shell above)."""
    try:
        data, _ = display.formatter().format(obj)
    except Exception:
        return None
    for mimetype in MIMETYPES:
        value = data.get(mimetype)
        if isinstance(value, str) and value:
            if mimetype in _DATA_URL:
                return mimetype, f"data:{mimetype};base64,{value}"
            return mimetype, value
    return None
