"""What each supported cell magic (``%%name``) becomes: the whole cell as
plain Python (``CellCode``: the runtime's and the twin's).

A body that is Python (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``)
keeps its lines where the user typed them in the runtime's code: the
``%%`` line becomes one line of Python, the rest goes after the body. The
twin writes the same statements one a line. A body that is text (a shell
script, markdown, HTML, a file's contents) has no line of the user's
Python for a traceback to point at: the runtime runs the twin's code.
"""

from __future__ import annotations

import ast
import shlex
from collections.abc import Callable

from bridge.ipython.magics import TIME_REPORT, TIME_START, timeit_options, timeit_report
from bridge.ipython.profiling import cell_prun
from bridge.ipython.replacement import (
    INDENT,
    CellCode,
    Piece,
    Unsupported,
    one_line,
    spread,
    text_literal,
)
from bridge.ipython.scripts import NAMED, script_magic


def _same(comment: str, pieces: list[Piece]) -> CellCode:
    """A cell whose body is text: the runtime runs what the twin holds."""
    lines = [comment, *spread(pieces)]
    return CellCode(lines, lines)


def _indented(body: str) -> list[str]:
    lines = [(INDENT + line) if line.strip() else line for line in body.split("\n")]
    return lines if any(line.strip() for line in lines) else [INDENT + "pass"]


def _cell_time(args: str, body: str) -> CellCode:
    """``%%time``: the body as written (its names defined for other cells),
    its last expression still the cell's value."""
    comment = f"# %%time {args}".rstrip()
    lines = body.split("\n")
    ending = [TIME_REPORT]
    try:
        tree = ast.parse(body)
    except SyntaxError:
        tree = None
    last = tree.body[-1] if tree is not None and tree.body else None
    if isinstance(last, ast.Expr):
        # Kept as ``_magic_value = ...``, shown after the time; ast's columns
        # count UTF-8 bytes.
        head = lines[last.lineno - 1].encode()
        cut = last.col_offset
        lines[last.lineno - 1] = (head[:cut] + b"_magic_value = " + head[cut:]).decode()
        ending.append("_magic_value")
    code = [one_line(TIME_START)[0] + f"  {comment}", *lines, *ending]
    twin = [comment, *spread(TIME_START), *lines, *ending]
    return CellCode(code, twin)


def _cell_timeit(args: str, body: str) -> CellCode:
    number, repeat, setup_code = timeit_options(args)
    comment = f"# %%timeit {args}".rstrip()
    report = timeit_report("_timed", number, repeat)
    setup = [setup_code] if setup_code else []
    function = ["def _timed():", *_indented(body)]
    code = [f"{function[0]}  {comment}", *function[1:], *one_line([*setup, *report])]
    twin = [comment, *setup, *spread(report[:3]), *function, *spread(report[3:])]
    return CellCode(code, twin)


def _writefile(args: str, body: str) -> CellCode:
    words = shlex.split(args)
    append = "-a" in words or "--append" in words
    names = [w for w in words if not w.startswith("-")]
    if len(names) != 1:
        raise Unsupported("%%writefile needs one file name (and -a to append)")
    path = names[0]
    existing = f"Appending to {path}" if append else f"Overwriting {path}"
    text = body if body.endswith("\n") else body + "\n"
    return _same(f"# %%writefile {args}", [
        "import os as _os",
        f"_magic_text = {text_literal(text)}",
        f"print({existing!r} if _os.path.exists({path!r}) else {f'Writing {path}'!r})",
        f"with open({path!r}, {'a' if append else 'w'!r}, encoding='utf-8') as _file:\n"
        f"{INDENT}_file.write(_magic_text)",
    ])


def _marimo_value(name: str, function: str) -> Callable[[str, str], CellCode]:
    def run(args: str, body: str) -> CellCode:
        # markdown and SQL do not see a newline before and after; HTML is
        # kept as typed.
        literal = text_literal(body, padded=function != "Html")
        return _same(f"# %%{name} {args}".rstrip(),
                     ["import marimo as _mo", f"_mo.{function}({literal})"])

    return run


def _javascript(name: str) -> Callable[[str, str], CellCode]:
    """``%%javascript`` (``%%js``): an ``application/javascript`` output, as
    IPython displays it (IPython's ``Javascript``; a frontend that runs
    scripts runs it, marimo's does not)."""

    def run(args: str, body: str) -> CellCode:
        return _same(f"# %%{name} {args}".rstrip(), [
            "from IPython.display import Javascript as _Javascript, display as _display",
            f"_display(_Javascript({text_literal(body, padded=False)}))",
        ])

    return run


# The kernel's runtime keeps a %%capture body's rich outputs and figures
# (bridge/ipython/capture.py); elsewhere a context that keeps nothing.
_CAPTURE_DISPLAYS = ("getattr({builtins}, '__capture_outputs__', "
                     "lambda: {contextlib}.nullcontext([]))")


def _capture(args: str, body: str) -> CellCode:
    """``%%capture name``: stdout and stderr kept in ``name.stdout`` and
    ``name.stderr``, what the body displays (its figures too) in
    ``name.outputs``; ``name()`` and ``name.show()`` show them again. What
    the body defines stays defined. ``--no-stdout``, ``--no-stderr`` and
    ``--no-display`` let those through.

    In the runtime, the ``with`` line is the ``%%capture`` line (its modules
    imported where it needs them), so the body's lines keep their numbers."""
    words = args.split()
    flags = [w for w in words if w.startswith("-")]
    names = [w for w in words if not w.startswith("-")]
    target = names[0] if names else "_captured"
    if not target.isidentifier():
        raise Unsupported(f"%%capture {args}: the name to capture into must be a Python name")
    comment = f"# %%capture {args}".rstrip()
    kept = [(stream, f"_{stream[3:]}") for stream in ("stdout", "stderr")
            if f"--no-{stream}" not in flags]
    displays = "--no-display" not in flags

    def contexts(contextlib: str, into: Callable[[str], str], displays_in: str) -> list[str]:
        found = [f"{contextlib}.redirect_{stream}({into(v)})" for stream, v in kept]
        return found + ([f"{displays_in} as _outputs"] if displays else [])

    values = ", ".join(
        f"{stream}={dict(kept)[stream]}.getvalue()" if stream in dict(kept) else f"{stream}=''"
        for stream in ("stdout", "stderr")
    )
    streams = ", ".join(dict(kept).get(stream, "None") for stream in ("stdout", "stderr"))
    outputs = "_outputs" if displays else "[]"
    # IPython's own CapturedIO where IPython is (the kernel's runtime always):
    # ``cap()``, ``cap.show()``, ``cap.stdout``, ``cap.outputs``; a marimo
    # without IPython keeps the text.
    result = [
        "try:",
        f"{INDENT}from IPython.utils.capture import CapturedIO as _CapturedIO",
        "except ImportError:",
        f"{INDENT}import types as _types",
        f"{INDENT}{target} = _types.SimpleNamespace(",
        f"{INDENT * 2}{values}, outputs={outputs},",
        f"{INDENT})",
        "else:",
        f"{INDENT}{target} = _CapturedIO({streams}, {outputs})",
    ]
    inline = contexts(
        "__import__('contextlib')", lambda v: f"{v} := __import__('io').StringIO()",
        _CAPTURE_DISPLAYS.format(builtins="__import__('builtins')",
                                 contextlib="__import__('contextlib')") + "()",
    )
    code = [
        (f"with {', '.join(inline)}:" if inline else "if True:") + f"  {comment}",
        *_indented(body),
        *result,  # after the body: no line of the user's moves
    ]
    made = [f"{', '.join(v for _, v in kept)} = {', '.join('_io.StringIO()' for _ in kept)}"]
    modules = [
        *(["import builtins as _builtins"] if displays else []),
        *(["import contextlib as _contextlib"] if kept or displays else []),
        *(["import io as _io"] if kept else []),
    ]
    spread_out = contexts("_contextlib", lambda v: v, "_capture_outputs()")
    keeper = _CAPTURE_DISPLAYS.format(builtins="_builtins", contextlib="_contextlib")
    twin = [
        comment,
        *modules,
        *(made if kept else []),
        *([f"_capture_outputs = {keeper}"] if displays else []),
        *(["with (", *(f"{INDENT}{c}," for c in spread_out), "):"] if spread_out else ["if True:"]),
        *_indented(body),
        *result,
    ]
    return CellCode(code, twin)


CELL: dict[str, Callable[[str, str], CellCode]] = {
    "time": _cell_time,
    "timeit": _cell_timeit,
    "writefile": _writefile,
    "file": _writefile,
    "script": script_magic(None),
    **{name: script_magic(name) for name in NAMED},
    "html": _marimo_value("html", "Html"),
    "svg": _marimo_value("svg", "Html"),
    "markdown": _marimo_value("markdown", "md"),
    "latex": _marimo_value("latex", "md"),
    "sql": _marimo_value("sql", "sql"),
    "javascript": _javascript("javascript"),
    "js": _javascript("js"),
    "capture": _capture,
    "prun": cell_prun,
}
