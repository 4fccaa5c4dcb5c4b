"""``%run script.py [args]``: a script run as IPython runs it, its names
the notebook's.

IPython runs the file as ``__main__`` (``sys.argv`` its name and
arguments) in a namespace of its own, then puts what it defined in the
user's namespace; ``-i`` runs it in the user's namespace. Here the script
runs through ``runpy.run_path`` and the names it defines at its top level
(read from the file now, so marimo knows them: other cells read them
reactively) are taken from what it left (None for one it did not bind this
time). ``_private`` names stay the script's, as a marimo cell's do.

The file is read when the cell is rewritten, from the kernel's directory:
run again after editing the script, the cell defines what it defines then.
"""

from __future__ import annotations

import os
import shlex

from bridge.ipython.replacement import Piece, Replacement, Unsupported
from bridge.notebook.defs import defined_names


def run(args: str) -> Replacement:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise Unsupported(f"%run {args}: {exc}") from exc
    interactive = "-i" in words[:1]
    if interactive:
        words = words[1:]
    if not words or words[0].startswith("-"):
        raise Unsupported(
            f"%run {args}: this kernel runs a script file (%run [-i] script.py [args]); "
            "IPython's other options (-m, -t, -d, -p, -e, -n) are not supported"
        )
    path, argv = words[0], words
    if not path.endswith(".py") and os.path.isfile(path + ".py"):
        path += ".py"  # IPython adds the extension too
    names = sorted(n for n in _defined(path) if not n.startswith("_"))
    setup: list[Piece] = [
        "import runpy as _runpy",
        "import sys as _sys",
        f"_argv, _sys.argv = _sys.argv, {[path, *argv[1:]]!r}",
        f"_ran = _runpy.run_path({path!r}, "
        + ("init_globals=dict(globals()), " if interactive else "")
        + "run_name='__main__')",
        "_sys.argv = _argv",
    ]
    if names:
        setup.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = "
                     f"{', '.join(f'_ran.get({n!r})' for n in names)}")
    return Replacement(setup=setup)


def _defined(path: str) -> frozenset[str]:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as file:
            return defined_names(file.read())
    except (OSError, UnicodeDecodeError):
        return frozenset()  # the run says what is wrong with the file
