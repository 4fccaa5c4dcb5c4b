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

Each gives statements (replacement.py): the twin writes them one a line,
the runtime on the magic's own line (rewrite.py says why).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from bridge.ipython import history_magic, kernel_magics, profiling, psearch, replacement, run
from bridge.ipython.asks import Help, Load, Page, quick_reference
from bridge.ipython.replacement import Replacement, Statement, Unsupported, is_expression
from bridge.ipython.shell import getoutput, pip_magic, system
from bridge.runtime.figures import MARIMO_BACKEND

# IPython's unit choice (``IPython.core.magics.execution._format_time``):
# the first unit in which the time is at least 1, nanoseconds at most.
FORMAT_TIME = replacement.block(
    "def _format_time(seconds):",
    ['for unit, scale in (("s", 1), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9)):',
     '    if seconds * scale >= 1 or unit == "ns":',
     '        return f"{seconds * scale:.3g} {unit}"'],
    inline='_format_time = lambda seconds: next(f"{seconds * scale:.3g} {unit}" '
    'for unit, scale in (("s", 1), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9)) '
    'if seconds * scale >= 1 or unit == "ns")',
)
TIME_START: list[replacement.Piece] = [
    "import time as _time", FORMAT_TIME, "_time_start = _time.perf_counter()"
]
TIME_REPORT = 'print("Wall time:", _format_time(_time.perf_counter() - _time_start))'


# Line magics whose argument is Python (options aside): a trailing comment
# there is the user's, not the statement's.
STATEMENT_ARGS = frozenset({"time", "timeit", "prun", "lprun", "memit", "mprun"})


# -- line magics ---------------------------------------------------------------
def _time(args: str) -> Replacement:
    if is_expression(args):
        return Replacement(setup=TIME_START, value=args.strip(), after=[TIME_REPORT])
    return Replacement(setup=[*TIME_START, args.strip()], after=[TIME_REPORT])


def timeit_report(function: str, number: int | None, repeat: int) -> list[replacement.Piece]:
    """Time ``function`` as IPython's %timeit does, and report as it does."""
    loops = str(number) if number else "_timer.autorange()[0]"
    runs = f"{repeat} run{'s' if repeat != 1 else ''}"
    first = 'f"{_format_time(_mean)} ± {_format_time(_std)} per loop"'
    second = (f'f" (mean ± std. dev. of {runs}, '
              "{_loops:,} loop{'s' if _loops != 1 else ''} each)\"")
    return [
        "import statistics as _statistics",
        "import timeit as _timeit",
        FORMAT_TIME,
        f"_timer = _timeit.Timer({function})",
        f"_loops = {loops}",
        f"_per_loop = [t / _loops for t in _timer.repeat({repeat}, _loops)]",
        "_mean, _std = _statistics.mean(_per_loop), _statistics.pstdev(_per_loop)",
        replacement.Statement(
            f'print(\n    {first}\n    {second}\n)', f"print({first[:-1]}{second[2:]})"
        ),
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
    if is_expression(statement):
        return Replacement(setup=timeit_report(replacement.lambda_of(statement), number, repeat))
    # A statement: a function of its own, as IPython's timeit compiles it
    # (what it assigns stays local to the timing).
    timed = replacement.block("def _timed():", [statement])
    return Replacement(setup=[timed, *timeit_report("_timed", number, repeat)])


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


# IPython's traceback modes, in the order a bare %xmode cycles through them.
XMODES = ("Plain", "Context", "Verbose", "Minimal", "Docs")


def _xmode(args: str) -> Replacement:
    """``%xmode``: says the mode as IPython does; the kernel's tracebacks
    keep their form (marimo's, as ipykernel's Context mode shows them)."""
    wanted = args.strip() or "Verbose"  # a bare %xmode goes on from Context
    mode = next((m for m in XMODES if m.lower() == wanted.lower()), None)
    if mode is None:
        raise Unsupported(f"%xmode {wanted}: the modes are {', '.join(XMODES)}")
    said = f"Exception reporting mode: {mode} (tracebacks here keep the kernel's form)"
    return Replacement(setup=[f"print({said!r})"])


def _gui(args: str) -> Replacement:
    """``%gui qt``: accepted, and said: no GUI event loop runs here."""
    typed = f"%gui {args.strip()}".rstrip()
    said = f"{typed}: marimo's runtime runs no GUI event loop; figures are shown inline"
    return Replacement(setup=[f"print({said!r})"])


def _matplotlib(args: str) -> Replacement:
    """``%matplotlib inline`` (or no GUI named) brings figures back inline
    after ``matplotlib.use('svg')``, as with ipykernel; a GUI backend is
    accepted, and figures stay inline."""
    gui = args.strip()
    if gui not in ("", "inline"):
        return _accepted("matplotlib", "figures are shown inline, as with ipykernel")(args)
    return Replacement(setup=[
        "import sys as _sys",
        Statement(
            "if 'matplotlib' in _sys.modules:\n"
            f"    _sys.modules['matplotlib'].use({MARIMO_BACKEND!r})",
            f"_sys.modules['matplotlib'].use({MARIMO_BACKEND!r}) if 'matplotlib' in _sys.modules "
            "else None",
        ),
    ])


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


def _config(args: str) -> Replacement:
    """``%config InlineBackend.figure_formats = ['svg']`` (or ``figure_format``):
    the format figures are drawn in, matplotlib's ``savefig.format``, which
    marimo's renderer reads. Other settings have nothing to set here."""
    import ast

    target, _, value = args.partition("=")
    if target.strip() not in ("InlineBackend.figure_formats", "InlineBackend.figure_format"):
        return _accepted("config", "nothing to configure here")(args)
    try:
        formats = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError) as exc:
        raise Unsupported(f"%config {args.strip()}: not a literal value") from exc
    formats = [formats] if isinstance(formats, str) else list(formats)
    # PNG is drawn at twice the resolution already: 'retina' and 'png' alike.
    chosen = "svg" if formats and str(formats[0]).lower() == "svg" else "png"
    return Replacement(
        setup=["import matplotlib as _matplotlib",
               f"_matplotlib.rcParams['savefig.format'] = {chosen!r}"]
    )


# Extensions whose magics this kernel has built in (profiling.py).
BUILT_IN_EXTENSIONS = {"line_profiler": "lprun", "memory_profiler": "memit"}


def _load_ext(magic: str) -> Callable[[str], Replacement]:
    """``%load_ext`` and ``%reload_ext``."""

    def run(args: str) -> Replacement:
        name = args.strip()
        if name == "autoreload":
            return Replacement(setup=[f"pass  # %{magic} autoreload: marimo has its own"])
        if name in BUILT_IN_EXTENSIONS:
            profiling.needs(BUILT_IN_EXTENSIONS[name])  # installed, as IPython's load would ask
            return Replacement(setup=[f"pass  # %{magic} {name}: its magics are built in"])
        raise Unsupported(f"%{magic} {name}: IPython extensions do not load in marimo")

    return run


def _pinfo(level: int) -> Callable[[str], Replacement]:
    def run(args: str) -> Replacement:
        name = args.strip()
        return Replacement(setup=[f"pass  # {name}{'?' * (level + 1)}"], ask=Help(name, level))

    return run


def _load(args: str) -> Replacement:
    """``%load``: the frontend replaces the cell's text (asks.py); no run."""
    return Replacement(setup=[f"pass  # %load {args}".rstrip()], ask=Load(args.strip()))


def _quickref(args: str) -> Replacement:
    """``%quickref`` and ``%magic`` (IPython pages its magics' docs): the card."""
    # Imported here: rewrite.py imports this module, and lists its magics.
    from bridge.ipython.rewrite import supported

    return Replacement(setup=["pass  # %quickref"], ask=Page(quick_reference(supported())))


def _lsmagic(args: str) -> Replacement:
    """``%lsmagic``: the magics this kernel runs, as the cell's value."""
    from bridge.ipython.rewrite import supported

    return Replacement(
        setup=["import marimo as _mo"],
        value=f"_mo.plain_text({'Available magics: ' + supported()!r})",
    )


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
    "matplotlib": _matplotlib,
    "config": _config,
    "load_ext": _load_ext("load_ext"),
    "reload_ext": _load_ext("reload_ext"),
    "xmode": _xmode,
    "gui": _gui,
    "history": history_magic.history,
    "hist": history_magic.history,
    "autoreload": _autoreload,
    "pinfo": _pinfo(0),
    "pinfo2": _pinfo(1),
    "load": _load,
    "quickref": _quickref,
    "magic": _quickref,
    "lsmagic": _lsmagic,
    "run": run.run,
    "sql": _sql,
    "prun": profiling.prun,
    "lprun": profiling.lprun,
    "memit": profiling.memit,
    "mprun": profiling.mprun,
    "psearch": psearch.magic,
    "connect_info": kernel_magics.connect_info_magic,
    "qtconsole": kernel_magics.qtconsole_magic,
}
