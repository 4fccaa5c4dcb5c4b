"""``%lprun``/``%mprun`` inside the runtime: the profiler around the statement.

The magic's line becomes ``with line_by_line(...) as _profiler: statement``,
one line, so the user's later lines keep their numbers and the statement's
names are defined for other cells. Like the packages' own magics, an
interrupt (marimo's is a KeyboardInterrupt) or a ``sys.exit()`` in the
statement ends the profiling, not the cell: the lines measured so far are
shown, then a line saying what was caught.

The twin holds the same as plain Python (bridge/ipython/profiling.py).
"""

from __future__ import annotations

import importlib
import linecache
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CAUGHT = "*** {} exception caught in code being profiled."


@contextmanager
def line_by_line(package: str, *functions: Callable[..., Any]) -> Iterator[Any]:
    module: Any = importlib.import_module(package)
    _sources_on_disk(functions)  # memory_profiler reads them as it adds a function
    profiler = module.LineProfiler()
    for function in functions:
        profiler.add_function(function)
    caught = ""
    profiler.enable_by_count()
    try:
        yield profiler
    except (KeyboardInterrupt, SystemExit) as exit_:
        caught = CAUGHT.format(type(exit_).__name__)
    finally:
        profiler.disable_by_count()
    if package == "line_profiler":
        profiler.print_stats()
    else:
        module.show_results(profiler)
    if caught:
        print(caught)


def _sources_on_disk(functions: tuple[Callable[..., Any], ...]) -> None:
    """Both profilers print a function's lines only from a file on disk;
    marimo compiles each cell under a file name that only Python's line
    cache knows: written out once, from that cache, when missing."""
    for function in functions:
        path = getattr(function, "__wrapped__", function).__code__.co_filename
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as file:
                file.write("".join(linecache.getlines(path)))
