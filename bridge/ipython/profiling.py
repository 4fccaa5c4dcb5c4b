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

from bridge.ipython.replacement import Replacement, Unsupported

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


def prun_report(options: dict[str, list[str]]) -> list[str]:
    """After the profile ran: the statistics as IPython prints them."""
    keys = options.get("s") or ["time"]
    limits = [_limit(v) for v in options.get("l", [])]
    lines = [
        "_profile.disable()",
        "_stats = _pstats.Stats(_profile)",
        f"_stats.sort_stats(*{keys!r})",
    ]
    if "q" not in options:
        # Assigned: a bare call would be the cell's value (print_stats returns the Stats).
        lines.append(f"_printed = _stats.print_stats(*{limits!r})")
    for path in options.get("T", []):
        lines.append(
            f"_text = _io.StringIO(); _pstats.Stats(_profile, stream=_text)"
            f".sort_stats(*{keys!r}).print_stats(*{limits!r}); "
            f"open({path!r}, 'w').write(_text.getvalue()); "
            f"print({f'*** Profile printout saved to text file {path!r}.'!r})"
        )
    for path in options.get("D", []):
        lines.append(
            f"_stats.dump_stats({path!r}); "
            f"print({f'*** Profile stats marshalled to file {path!r}.'!r})"
        )
    return lines


def _limit(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


PRUN_SETUP = [
    "import cProfile as _cProfile, io as _io, pstats as _pstats",
    "_profile = _cProfile.Profile()",
    "_profile.enable()",
]


def prun(args: str) -> Replacement:
    options, statement = _options(args, "sTDl", "rq")
    if not statement:
        raise Unsupported("%prun needs a statement to profile")
    return Replacement(
        setup=[*PRUN_SETUP, statement, *prun_report(options)],
        value="_stats" if "r" in options else None,
    )


def cell_prun(args: str, body: str) -> list[str]:
    """``%%prun``: the body profiled, its names defined for other cells."""
    options, setup_statement = _options(args, "sTDl", "rq")
    head = "; ".join(PRUN_SETUP) + f"  # %%prun {args}".rstrip()
    indented = [("    " + line) if line.strip() else line for line in body.split("\n")]
    if setup_statement:
        indented.insert(0, "    " + setup_statement)
    if not any(line.strip() for line in indented):
        indented = ["    pass"]
    return [head, "try:", *indented, "finally:", "    " + "; ".join(prun_report(options))]


def _sources_on_disk(functions: list[str]) -> str:
    """Both profilers print a function's lines only from a file on disk;
    marimo compiles each cell under a file name that only Python's line
    cache knows: written out once, from that cache, when missing."""
    return (
        "import linecache as _linecache, os as _os; "
        "[_os.path.exists(_p) or _os.makedirs(_os.path.dirname(_p), exist_ok=True) "
        "or open(_p, 'w').write(''.join(_linecache.getlines(_p))) "
        "for _p in {getattr(_f, '__wrapped__', _f).__code__.co_filename "
        f"for _f in ({', '.join(functions)},)}}]"
    )


def _line_by_line(magic: str, show: str, args: str) -> Replacement:
    """``%lprun``/``%mprun -f FUNCTION... statement``: the package's
    LineProfiler on the functions while the statement runs, then ``show``."""
    package = needs(magic)
    options, statement = _options(args, "fmDT" if magic == "lprun" else "fT", "rsuc")
    functions = options.get("f", [])
    if not functions or not statement:
        raise Unsupported(f"%{magic} needs -f FUNCTION (one or more) and a statement to run")
    return Replacement(
        setup=[
            f"import {package} as _profiler_package",
            "_profiler = _profiler_package.LineProfiler()",
            *(f"_profiler.add_function({f})" for f in functions),
            "_profiler.enable_by_count()",
            statement,
        ],
        after=["_profiler.disable_by_count()", _sources_on_disk(functions), show],
    )


def lprun(args: str) -> Replacement:
    return _line_by_line("lprun", "_profiler.print_stats()", args)


def mprun(args: str) -> Replacement:
    return _line_by_line("mprun", "_profiler_package.show_results(_profiler)", args)


def memit(args: str) -> Replacement:
    package = needs("memit")
    options, statement = _options(args, "rt", "ic")
    if not statement:
        raise Unsupported("%memit needs a statement to measure")
    repeat = int(options.get("r", ["1"])[0])
    return Replacement(
        setup=[
            f"import {package} as _memory_profiler",
            f"def _memit_statement(): {statement}",
            "_baseline = _memory_profiler.memory_usage()[0]",
            "_peaks = [_memory_profiler.memory_usage((_memit_statement, (), {}), "
            f"interval=0.01, max_usage=True) for _ in range({repeat})]",
            "_peak = max(_peaks)",
            'print(f"peak memory: {_peak:.2f} MiB, increment: {_peak - _baseline:.2f} MiB")',
        ]
    )
