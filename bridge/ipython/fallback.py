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
IPython's formatter formats it instead, printing the formatter's error to
the cell's stderr as IPython does without a shell, and the best
representation that worked is the output.
"""

from __future__ import annotations

from typing import Any

# What marimo can show of IPython's bundle, best first; images go to
# marimo as data URLs, as its own figures do.
MIMETYPES = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown",
             "text/plain")
_DATA_URL = ("image/png", "image/jpeg")


def install() -> None:
    from marimo._output import formatting

    original = formatting.try_format
    if getattr(original, "_bridge", False):
        return

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
        fallback = _ipython_bundle(obj)
        if fallback is None:
            return formatted
        mimetype, data = fallback
        return formatting.FormattedOutput(mimetype=mimetype, data=data)  # type: ignore[arg-type]

    try_format._bridge = True  # type: ignore[attr-defined]
    formatting.try_format = try_format


def _ipython_bundle(obj: Any) -> tuple[str, str] | None:
    """The best representation IPython's formatter gets (it prints the
    failing ones' tracebacks to stderr itself)."""
    from bridge.ipython.display import _ipython_formatter

    try:
        data, _ = _ipython_formatter().format(obj)
    except Exception:
        return None
    for mimetype in MIMETYPES:
        value = data.get(mimetype)
        if isinstance(value, str) and value:
            if mimetype in _DATA_URL:
                return mimetype, f"data:{mimetype};base64,{value}"
            return mimetype, value
    return None
