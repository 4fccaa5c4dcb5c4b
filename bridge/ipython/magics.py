"""What each supported magic becomes: plain Python a marimo notebook can hold.

The code runs in marimo's runtime and is saved in the twin, so it uses the
standard library and marimo only (the twin runs with ``python nb.py`` and
opens in ``marimo edit`` without this package). Helper names start with
``_``: marimo keeps those local to the cell, so two cells with ``!ls`` do not
both define ``subprocess``.

The choices follow marimo's own ipynb importer where it has one
(``marimo/_convert/ipynb/to_ir.py``, ``transform_magic_commands``: ``%cd`` is
``os.chdir``, ``%env`` sets ``os.environ``, ``%%html`` is ``mo.Html``,
``%%sql`` is ``mo.sql``). That importer comments out what it cannot convert
and defines module names at cell level; a live kernel must run every magic
and never define a name twice, so its functions are not called here.

A line magic's replacement stays on its line (statements joined with ``;``)
so the line numbers in a traceback are the ones the user sees.
"""

from __future__ import annotations

import ast
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field


class Unsupported(Exception):
    """A magic this kernel does not run; the message says what it runs."""


@dataclass(frozen=True)
class Replacement:
    """A magic as Python: ``setup`` statements, then ``value`` (an expression
    the magic evaluates to, or None), then ``after`` statements.

    ``twin`` is what the saved notebook holds instead, when that differs
    (``%pip install`` is a PEP 723 dependency there, not an install per run).
    """

    setup: list[str] = field(default_factory=list)
    value: str | None = None
    after: list[str] = field(default_factory=list)
    twin: str | None = None
    auto_reload: str | None = None  # marimo's runtime.auto_reload to set
    pinfo: tuple[str, int] | None = None  # (object name, detail level)


# IPython's unit choice (``IPython.core.magics.execution._format_time``):
# the first unit in which the time is at least 1, nanoseconds at most.
FORMAT_TIME = (
    '(lambda t: next(f"{t * k:.3g} {u}" for k, u in '
    '((1, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns")) if t * k >= 1 or u == "ns"))'
)
SUBPROCESS = "import subprocess as _subprocess"
# The marker a %pip install leaves in the twin; the twin's writer reads the
# packages back from it into the script's PEP 723 dependencies.
PIP_MARKER = "# %pip install "
_PIP_NOTE = "  (the notebook's script dependencies, PEP 723)"


# -- shell commands ----------------------------------------------------------
def shell_string(command: str) -> str:
    """Python source for ``command`` with IPython's ``{expr}`` expansion.

    Each ``{expr}`` that is a Python expression becomes part of an f-string,
    so marimo sees the names it reads; a command with any other brace (awk's
    ``{print $1}``) stays literal, as IPython leaves it when expansion fails.
    """
    parts: list[tuple[bool, str]] = []
    rest = command
    while "{" in rest:
        head, _, tail = rest.partition("{")
        expr, closed, after = tail.partition("}")
        if not closed or not _is_expression(expr) or "{" in expr:
            return repr(command)
        parts += [(False, head), (True, expr.strip())]
        rest = after
    if "}" in rest:
        return repr(command)
    parts.append((False, rest))
    if not any(is_expr for is_expr, _ in parts):
        return repr(command)
    if all(not is_expr or not any(c in text for c in "'\"\\") for is_expr, text in parts):
        body = "".join(
            f"{{{t}}}" if e else t.replace("{", "{{").replace("}", "}}") for e, t in parts
        )
        quoted = repr(body)
        if quoted.startswith("'") and all("'" not in t for e, t in parts if e):
            return "f" + quoted
        if quoted.startswith('"') and all('"' not in t for e, t in parts if e):
            return "f" + quoted
    return " + ".join(f"str({t})" if e else repr(t) for e, t in parts if t)


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return bool(text.strip())


def _exit_status(run: str) -> list[str]:
    """Run ``run`` (a subprocess call) and say its exit status when non-zero."""
    return [
        SUBPROCESS,
        f"_exit = {run}.returncode",
        'print(f"exit status {_exit}") if _exit else None',
    ]


def system(command: str) -> Replacement:
    """``!cmd``: output streamed as the command writes it."""
    pip = _pip_args(command)
    if pip is not None:
        return pip_magic(pip)
    return Replacement(setup=_exit_status(f"_subprocess.run({shell_string(command)}, shell=True)"))


def getoutput(command: str) -> Replacement:
    """``x = !cmd``: the output's lines, stderr included, as IPython's SList."""
    run = (
        f"_subprocess.run({shell_string(command)}, shell=True, stdout=_subprocess.PIPE, "
        "stderr=_subprocess.STDOUT, text=True).stdout.splitlines()"
    )
    return Replacement(setup=[SUBPROCESS], value=run)


def _pip_args(command: str) -> str | None:
    """The arguments of a pip command line, or None if it is not one."""
    words = command.split(None, 3)
    for prefix in (["pip"], ["pip3"], ["python", "-m", "pip"], ["python3", "-m", "pip"],
                   ["{sys.executable}", "-m", "pip"]):
        if words[: len(prefix)] == prefix:
            return command.split(None, len(prefix))[len(prefix)] if len(words) > len(prefix) else ""
    return None


def pip_magic(args: str) -> Replacement:
    """``%pip``: pip of the runtime's own interpreter, output streamed.

    ``install`` also goes into the twin as a PEP 723 dependency, and the twin
    keeps a marker instead of installing on every run.
    """
    try:
        argv = shlex.split(args)
    except ValueError as exc:
        raise Unsupported(f"%pip {args}: {exc}") from exc
    run = f"_subprocess.run([_sys.executable, '-m', 'pip', *{argv!r}])"
    setup = ["import subprocess as _subprocess, sys as _sys", *_exit_status(run)[1:]]
    twin = None
    packages = requirements(argv)
    if argv[:1] == ["install"] and packages:
        twin = f"pass  {PIP_MARKER}{' '.join(argv[1:])}{_PIP_NOTE}"
    return Replacement(setup=setup, twin=twin)


def requirements(argv: list[str]) -> list[str]:
    """The packages ``pip <argv>`` installs (options and files left out)."""
    if argv[:1] != ["install"]:
        return []
    out: list[str] = []
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
            continue
        if word in ("-r", "--requirement", "-e", "--editable", "-c", "--constraint",
                    "-i", "--index-url", "--extra-index-url", "-t", "--target", "-f",
                    "--find-links"):
            skip = True
            continue
        if word.startswith("-") or word.startswith((".", "/")):
            continue
        out.append(word)
    return out


def pip_from_twin(code: str) -> list[str]:
    """The packages a twin cell's %pip markers name."""
    found: list[str] = []
    for line in code.splitlines():
        _, marker, rest = line.partition(PIP_MARKER)
        if marker:
            try:
                found += requirements(["install", *shlex.split(rest.removesuffix(_PIP_NOTE))])
            except ValueError:
                continue
    return found


# -- line magics ---------------------------------------------------------------
def _time(args: str) -> Replacement:
    start = ["import time as _time", "_t0 = _time.perf_counter()"]
    after = [f"_format_time = {FORMAT_TIME}",
             'print("Wall time:", _format_time(_time.perf_counter() - _t0))']
    if _is_expression(args):
        return Replacement(setup=start, value=f"({args.strip()})", after=after)
    return Replacement(setup=[*start, args.strip()], after=after)


def timeit_report(timer: str, number: int | None, repeat: int) -> list[str]:
    """Run ``timer`` (a timeit.Timer) as IPython's %timeit does and report."""
    loops = str(number) if number else f"{timer}.autorange()[0]"
    return [
        "import statistics as _statistics",
        f"_loops = {loops}",
        f"_per_loop = [t / _loops for t in {timer}.repeat({repeat}, _loops)]",
        f"_format_time = {FORMAT_TIME}",
        "print(f\"{_format_time(_statistics.mean(_per_loop))} ± "
        f"{{_format_time(_statistics.pstdev(_per_loop))}} per loop (mean ± std. dev. of "
        f"{repeat} runs, {{_loops:,}} loop{{'s' if _loops != 1 else ''}} each)\")",
    ]


def timeit_options(args: str) -> tuple[int | None, int, str]:
    """``-n N`` and ``-r R`` of %timeit, and the statement after them."""
    number, repeat = None, 7
    words = args.split()
    while len(words) >= 2 and words[0] in ("-n", "-r") and words[1].isdigit():
        if words[0] == "-n":
            number = int(words[1])
        else:
            repeat = int(words[1])
        words = words[2:]
    return number, repeat, " ".join(words)


def _timeit(args: str) -> Replacement:
    number, repeat, statement = timeit_options(args)
    if not statement:
        raise Unsupported("%timeit needs a statement to time")
    if _is_expression(statement):
        timer = f"_timeit.Timer(lambda: {statement})"
        setup = ["import timeit as _timeit", f"_timer = {timer}"]
    else:
        # A statement: a function of its own, as IPython's timeit compiles it
        # (what it assigns stays local to the timing).
        setup = [f"def _timeit_stmt(): {statement}",
                 "import timeit as _timeit", "_timer = _timeit.Timer(_timeit_stmt)"]
    return Replacement(setup=setup + timeit_report("_timer", number, repeat))


def _cd(args: str) -> Replacement:
    target = args.strip() or "~"
    if target.startswith("-"):
        raise Unsupported(f"%cd {target}: options and directory history are not supported")
    return Replacement(
        setup=["import os as _os", f"_os.chdir(_os.path.expanduser({_unquote(target)!r}))",
               "print(_os.getcwd())"]
    )


def _unquote(text: str) -> str:
    try:
        words = shlex.split(text)
    except ValueError:
        return text
    return words[0] if len(words) == 1 else text


def _pwd(args: str) -> Replacement:
    return Replacement(setup=["import os as _os"], value="_os.getcwd()")


def _env(args: str) -> Replacement:
    args = args.strip()
    if not args:
        return Replacement(setup=["import os as _os"], value="dict(_os.environ)")
    if "=" in args or " " in args:
        key, value = args.split("=", 1) if "=" in args else args.split(" ", 1)
        key, value = key.strip(), _unquote(value.strip())
        return Replacement(
            setup=["import os as _os", f"_os.environ[{key!r}] = {value!r}",
                   f"print({f'env: {key}={value}'!r})"]
        )
    return Replacement(setup=["import os as _os"], value=f"_os.environ[{args!r}]")


def _alias(command: str) -> Callable[[str], Replacement]:
    """IPython's default shell aliases (``%ls``, ``%mkdir``, ...)."""

    def run(args: str) -> Replacement:
        return system(f"{command} {args}".strip())

    return run


def _accepted(name: str, why: str) -> Callable[[str], Replacement]:
    def run(args: str) -> Replacement:
        return Replacement(setup=[f"pass  # {f'%{name} {args}'.strip()}: {why}"])

    return run


def _autoreload(args: str) -> Replacement:
    mode = args.strip() or "now"
    setting = {"0": "off", "off": "off", "1": "lazy", "2": "lazy", "3": "lazy",
               "all": "lazy", "explicit": "lazy", "complete": "lazy"}.get(mode)
    if setting is None:
        raise Unsupported(f"%autoreload {mode}: use 0 (off) or 1, 2, 3 (on)")
    return Replacement(
        setup=[f"pass  # %autoreload {mode}: marimo's module autoreloader "
               f"(runtime.auto_reload = {setting!r})"],
        auto_reload=setting,
    )


def _load_ext(args: str) -> Replacement:
    if args.strip() == "autoreload":
        return Replacement(setup=["pass  # %load_ext autoreload: marimo has its own"])
    raise Unsupported(f"%load_ext {args.strip()}: IPython extensions do not load in marimo")


def _pinfo(level: int) -> Callable[[str], Replacement]:
    def run(args: str) -> Replacement:
        name = args.strip()
        return Replacement(setup=[f"pass  # {name}{'?' * (level + 1)}"], pinfo=(name, level))

    return run


def _sql(args: str) -> Replacement:
    return Replacement(setup=["import marimo as _mo"], value=f"_mo.sql({args.strip()!r})")


LINE: dict[str, Callable[[str], Replacement]] = {
    "time": _time,
    "timeit": _timeit,
    "cd": _cd,
    "pwd": _pwd,
    "env": _env,
    "pip": pip_magic,
    "sx": getoutput,
    "system": getoutput,
    "ls": _alias("ls -F"),
    "ll": _alias("ls -F -l"),
    "mkdir": _alias("mkdir"),
    "cat": _alias("cat"),
    "cp": _alias("cp"),
    "mv": _alias("mv"),
    "rm": _alias("rm"),
    "rmdir": _alias("rmdir"),
    "matplotlib": _accepted("matplotlib", "marimo shows figures itself"),
    "config": _accepted("config", "nothing to configure, marimo shows figures itself"),
    "load_ext": _load_ext,
    "autoreload": _autoreload,
    "pinfo": _pinfo(0),
    "pinfo2": _pinfo(1),
    "sql": _sql,
}


# -- cell magics -------------------------------------------------------------
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
        call = f"_subprocess.run({_literal(body)}, shell=True, executable={shell!r})"
        return ["; ".join(_exit_status(call)) + f"  # %%{shell.rsplit('/', 1)[-1]} {args}".rstrip()]

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
}


def supported() -> str:
    """The magics this kernel runs, for the unknown-magic error."""
    line = ", ".join(f"%{name}" for name in LINE if not name.startswith("pinfo"))
    cell = ", ".join(f"%%{name}" for name in CELL)
    return f"{line}; {cell}; !cmd, x = !cmd, obj? and obj??"
