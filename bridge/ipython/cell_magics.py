"""What each supported cell magic (``%%name``) becomes: the whole cell as
plain Python, the body's lines kept where a traceback can point at them."""

from __future__ import annotations

import ast
import shlex
from collections.abc import Callable

from bridge.ipython.magics import FORMAT_TIME, timeit_options, timeit_report
from bridge.ipython.profiling import cell_prun
from bridge.ipython.replacement import Unsupported
from bridge.ipython.shell import streamed


def _literal(text: str) -> str:
    """A readable string literal: triple-quoted when that is exact."""
    if "\\" not in text and "'''" not in text and not text.endswith("'") and "\r" not in text:
        return "'''" + text + "'''"
    return repr(text)


def _cell_time(args: str, body: str) -> list[str]:
    """``%%time``: the body as written (its names defined for other cells),
    its last expression still the cell's value."""
    start = f"import time as _time; _t0 = _time.perf_counter()  # %%time {args}".rstrip()
    report = (f"_format_time = {FORMAT_TIME}; "
              'print("Wall time:", _format_time(_time.perf_counter() - _t0))')
    lines = body.split("\n")
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return [start, *lines, report]
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and last.end_lineno is not None:
        # Wrapped as ``_time_value = (...)``; ast's columns count UTF-8 bytes.
        first, end = last.lineno - 1, last.end_lineno - 1
        assert last.end_col_offset is not None
        tail = lines[end].encode()
        lines[end] = (tail[: last.end_col_offset] + b")" + tail[last.end_col_offset :]).decode()
        head = lines[first].encode()
        cut = last.col_offset
        lines[first] = (head[:cut] + b"_time_value = (" + head[cut:]).decode()
        return [start, *lines, report, "_time_value"]
    return [start, *lines, report]


def _cell_timeit(args: str, body: str) -> list[str]:
    number, repeat, setup_code = timeit_options(args)
    indented = [("    " + line) if line.strip() else line for line in body.split("\n")]
    if not any(line.strip() for line in indented):
        indented = ["    pass"]
    head = f"def _timeit_cell():  # %%timeit {args}".rstrip()
    lines = [head, *indented]
    setup = [setup_code] if setup_code else []
    report = ["import timeit as _timeit", "_timer = _timeit.Timer(_timeit_cell)",
              *timeit_report("_timer", number, repeat)]
    return [*setup, *lines, "; ".join(report)]


def _writefile(args: str, body: str) -> list[str]:
    words = shlex.split(args)
    append = "-a" in words or "--append" in words
    names = [w for w in words if not w.startswith("-")]
    if len(names) != 1:
        raise Unsupported("%%writefile needs one file name (and -a to append)")
    path = names[0]
    said = (f"print(('Appending to ' if _os.path.exists({path!r}) else 'Writing ') + {path!r})"
            if append else
            f"print(('Overwriting ' if _os.path.exists({path!r}) else 'Writing ') + {path!r})")
    mode = "a" if append else "w"
    text = body if body.endswith("\n") else body + "\n"
    return [
        f"import os as _os; {said}  # %%writefile {args}",
        f"with open({path!r}, {mode!r}, encoding='utf-8') as _file:",
        f"    _file.write({_literal(text)})",
    ]


def _script(shell: str) -> Callable[[str, str], list[str]]:
    def run(args: str, body: str) -> list[str]:
        run = streamed(f"{_literal(body)}, shell=True, executable={shell!r}")
        return ["; ".join(run) + f"  # %%{shell.rsplit('/', 1)[-1]} {args}".rstrip()]

    return run


def _marimo_value(function: str) -> Callable[[str, str], list[str]]:
    def run(args: str, body: str) -> list[str]:
        return [f"import marimo as _mo; _mo.{function}({_literal(body)})"]

    return run


def _capture(args: str, body: str) -> list[str]:
    """``%%capture name``: stdout and stderr kept in ``name.stdout`` and
    ``name.stderr``; what the body defines stays defined."""
    words = args.split()
    flags = [w for w in words if w.startswith("-")]
    names = [w for w in words if not w.startswith("-")]
    target = names[0] if names else "_captured"
    if not target.isidentifier():
        raise Unsupported(f"%%capture {args}: the name to capture into must be a Python name")
    indented = [("    " + line) if line.strip() else line for line in body.split("\n")]
    if not any(line.strip() for line in indented):
        indented = ["    pass"]
    redirects = []
    if "--no-stdout" not in flags:
        redirects.append("_contextlib.redirect_stdout(_out)")
    if "--no-stderr" not in flags:
        redirects.append("_contextlib.redirect_stderr(_err)")
    head = (f"import contextlib as _contextlib, io as _io, types as _types; "
            f"_out, _err = _io.StringIO(), _io.StringIO()  # %%capture {args}".rstrip())
    with_line = f"with {', '.join(redirects)}:" if redirects else "if True:"
    tail = f"{target} = _types.SimpleNamespace(stdout=_out.getvalue(), stderr=_err.getvalue())"
    return [head, with_line, *indented, tail]


CELL: dict[str, Callable[[str, str], list[str]]] = {
    "time": _cell_time,
    "timeit": _cell_timeit,
    "writefile": _writefile,
    "file": _writefile,
    "bash": _script("/bin/bash"),
    "sh": _script("/bin/sh"),
    "html": _marimo_value("Html"),
    "markdown": _marimo_value("md"),
    "latex": _marimo_value("md"),
    "sql": _marimo_value("sql"),
    "capture": _capture,
    "prun": cell_prun,
}
