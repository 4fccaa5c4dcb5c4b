"""The profiling magics: ``%prun``/``%%prun`` (cProfile, as IPython runs
them), ``%lprun`` (line_profiler), ``%memit`` and ``%mprun``
(memory_profiler), as plain Python.

``%prun`` takes IPython's options (``-s key`` repeatable, default "time" as
IPython sorts; ``-l limit`` repeatable; ``-q``; ``-r`` returns the
``pstats.Stats``; ``-T file``, ``-D file``) and prints the statistics where
IPython pages them. The others need their package, as with ipykernel's
extensions: without it the magic is an error naming the package (asked of
the runtime's interpreter, which is this one), not a ModuleNotFoundError
in the middle of a run.
"""

from __future__ import annotations

import importlib
import importlib.util
import shlex

from bridge.ipython import profiled
from bridge.ipython.replacement import (
    INDENT,
    CellCode,
    Piece,
    Replacement,
    Statement,
    Unsupported,
    block,
    is_expression,
    lambda_of,
    one_line,
    spread,
)

# The twin's f-string of what the packages' magics print when the
# statement is interrupted or exits.
CAUGHT = profiled.CAUGHT.format("{type(_exit).__name__}")

PACKAGE = {"lprun": "line_profiler", "memit": "memory_profiler", "mprun": "memory_profiler"}


def _options(args: str, with_value: str, flags: str) -> tuple[dict[str, list[str]], str]:
    """IPython's ``parse_options``: ``-x value`` and ``-f`` before the statement."""
    found: dict[str, list[str]] = {}
    rest = args.strip()
    while rest.startswith("-"):
        head, _, tail = rest.partition(" ")
        option = head[1:2]
        if len(head) != 2 or option not in with_value + flags:
            break
        if option in with_value:
            value, _, tail = tail.strip().partition(" ")
            if not value:
                raise Unsupported(f"-{option} needs a value")
            found.setdefault(option, []).append(_unquote(value))
        else:
            found.setdefault(option, [])
        rest = tail.strip()
    return found, rest


def _unquote(word: str) -> str:
    try:
        return " ".join(shlex.split(word))
    except ValueError:
        return word


def needs(magic: str) -> str:
    package = PACKAGE[magic]
    importlib.invalidate_caches()  # a %pip install in this session counts
    if importlib.util.find_spec(package) is None:
        raise Unsupported(
            f"%{magic} needs the {package} package, which is not installed: "
            f"run %pip install {package}"
        )
    return package


def prun_report(options: dict[str, list[str]]) -> list[Piece]:
    """After the profile ran: the statistics as IPython prints them."""
    sort = ", ".join(map(repr, options.get("s") or ["time"]))
    limits = ", ".join(repr(_limit(v)) for v in options.get("l", []))
    lines: list[Piece] = [f"_stats = _pstats.Stats(_profile).sort_stats({sort})"]
    if "q" not in options:
        # Assigned: a bare call would be the cell's value (print_stats returns the Stats).
        lines.append(f"_printed = _stats.print_stats({limits})")
    for path in options.get("T", []):
        write = f"_pstats.Stats(_profile, stream=_file).sort_stats({sort}).print_stats({limits})"
        lines += [
            block(f"with open({path!r}, 'w') as _file:", [write],
                  inline=write.replace("_file", f"open({path!r}, 'w')")),
            f"print({f'*** Profile printout saved to text file {path!r}.'!r})",
        ]
    for path in options.get("D", []):
        lines += [f"_stats.dump_stats({path!r})",
                  f"print({f'*** Profile stats marshalled to file {path!r}.'!r})"]
    return lines


def _limit(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


PRUN_IMPORTS = ["import cProfile as _cProfile", "import pstats as _pstats"]


def prun(args: str) -> Replacement:
    options, statement = _options(args, "sTDl", "rq")
    if not statement:
        raise Unsupported("%prun needs a statement to profile")
    return Replacement(
        setup=[*PRUN_IMPORTS, "_profile = _cProfile.Profile()", "_profile.enable()", statement,
               "_profile.disable()", *prun_report(options)],
        value="_stats" if "r" in options else None,
    )


def cell_prun(args: str, body: str) -> CellCode:
    """``%%prun``: the body profiled, its names defined for other cells.

    ``cProfile.Profile`` is a context manager that enables itself, and
    disables itself however the body ends. In the runtime, the ``with``
    line is the ``%%prun`` line, so the body's lines keep their numbers."""
    options, setup_statement = _options(args, "sTDl", "rq")
    comment = f"# %%prun {args}".rstrip()
    lines = body.split("\n")
    if setup_statement:
        lines.insert(0, setup_statement)
    indented = [(INDENT + line) if line.strip() else line for line in lines]
    if not any(line.strip() for line in indented):
        indented = [INDENT + "pass"]
    report = prun_report(options)
    code = [
        f"with __import__('cProfile').Profile() as _profile:  {comment}",
        *indented,
        *one_line([PRUN_IMPORTS[1], *report]),
    ]
    twin = [comment, *PRUN_IMPORTS, "with _cProfile.Profile() as _profile:", *indented,
            *spread(report)]
    return CellCode(code, twin)


def _sources_on_disk(functions: list[str]) -> list[Piece]:
    """The twin's copy of profiled.py's: both profilers print a function's
    lines only from a file on disk, and marimo compiles each cell under a
    file name that only Python's line cache knows."""
    return [
        "import linecache as _linecache",
        "import os as _os",
        block(
            f"for _function in ({', '.join(functions)}{',' if len(functions) == 1 else ''}):",
            ["_path = getattr(_function, '__wrapped__', _function).__code__.co_filename",
             "if not _os.path.exists(_path):  # a marimo cell: its code is in the line cache",
             "    _os.makedirs(_os.path.dirname(_path), exist_ok=True)",
             "    with open(_path, 'w') as _file:",
             "        _file.write(''.join(_linecache.getlines(_path)))"],
        ),
    ]


def _line_by_line(magic: str, show: str, args: str) -> Replacement:
    """``%lprun``/``%mprun -f FUNCTION... statement``: the package's
    LineProfiler on the functions while the statement runs, then ``show``;
    an interrupt or ``sys.exit()`` in the statement is caught and said, as
    the packages' magics do. In the runtime, bridge/ipython/profiled.py
    does it all in a ``with`` on the magic's line."""
    package = needs(magic)
    options, statement = _options(args, "fmDT" if magic == "lprun" else "fT", "rsuc")
    functions = options.get("f", [])
    if not functions or not statement:
        raise Unsupported(f"%{magic} needs -f FUNCTION (one or more) and a statement to run")
    twin = [
        *_sources_on_disk(functions),  # memory_profiler reads them as it adds a function
        f"import {package} as _{package}",
        f"_profiler = _{package}.LineProfiler()",
        *(f"_profiler.add_function({f})" for f in functions),
        "_profiler.enable_by_count()",
        block("try:", [statement]),
        block("except (KeyboardInterrupt, SystemExit) as _exit:",
              [f"_caught = f{CAUGHT!r}"]),
        block("else:", ["_caught = ''"]),
        "_profiler.disable_by_count()",
        show,
        block("if _caught:", ["print(_caught)"]),
    ]
    context = (f"__import__('bridge.ipython.profiled', fromlist=['_'])"
               f".line_by_line({package!r}, {', '.join(functions)})")
    runtime = block(f"with {context} as _profiler:", [statement])
    return Replacement(setup=[Statement("\n".join(spread(twin)), runtime.line, joins=False)])


def lprun(args: str) -> Replacement:
    return _line_by_line("lprun", "_profiler.print_stats()", args)


def mprun(args: str) -> Replacement:
    return _line_by_line("mprun", "_memory_profiler.show_results(_profiler)", args)


def memit(args: str) -> Replacement:
    package = needs("memit")
    options, statement = _options(args, "rt", "ic")
    if not statement:
        raise Unsupported("%memit needs a statement to measure")
    repeat = int(options.get("r", ["1"])[0])
    inline = f"_measured = {lambda_of(statement)}" if is_expression(statement) else None
    measured = block("def _measured():", [statement], inline=inline)
    usage = "_memory_profiler.memory_usage((_measured, (), {}), interval=0.01, max_usage=True)"
    return Replacement(
        setup=[
            measured,  # first: a def of a statement takes a line of its own in the runtime
            f"import {package} as _memory_profiler",
            "_baseline = _memory_profiler.memory_usage()[0]",
            Statement(f"_peak = max(\n    {usage}\n    for _ in range({repeat})\n)",
                      f"_peak = max({usage} for _ in range({repeat}))"),
            'print(f"peak memory: {_peak:.2f} MiB, increment: {_peak - _baseline:.2f} MiB")',
        ]
    )
