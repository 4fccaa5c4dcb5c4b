"""``%run script.py [args]``: a script run as IPython runs it, its names
the notebook's.

IPython runs the file as ``__main__`` (``sys.argv`` its name and
arguments) in a namespace of its own, then puts what it defined in the
user's namespace; ``-i`` starts that namespace from the user's. A
``sys.exit(0)`` in the script ends it quietly. Here the same, in plain
Python, and the names the script defines at its top level (read from the
file when the cell is rewritten, so marimo knows them: other cells read
them reactively) are taken from what it left: None for one it did not
bind this time.

Not taken: ``_private`` names, which stay the script's as a marimo cell's
do, and the names the script binds by ``import`` or as a ``for`` loop's
variable. A notebook usually imports ``numpy as np`` itself, and marimo
allows one defining cell per name; a helper script's own imports and loop
counters would make each of those a second definition.

The file is found where the runtime is (``%cd`` moves it): ``directory``
is the kernel's hook for it, the kernel's own directory until a runtime
runs.
"""

from __future__ import annotations

import ast
import os
import shlex
from collections.abc import Callable

from bridge.ipython.replacement import Piece, Replacement, Statement, Unsupported
from bridge.notebook.defs import defined_names

# Where relative paths are read from: set by the kernel (runtime_host.cwd).
directory: Callable[[], str] = os.getcwd


def run(args: str) -> Replacement:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise Unsupported(f"%run {args}: {exc}") from exc
    interactive = words[:1] == ["-i"]
    if interactive:
        words = words[1:]
    if not words or words[0].startswith("-"):
        raise Unsupported(
            f"%run {args}: this kernel runs a script file (%run [-i] script.py [args]); "
            "IPython's other options (-m, -t, -d, -p, -e, -n) are not supported"
        )
    path = os.path.expanduser(words[0])  # the kernel's home is the runtime's
    found = os.path.join(directory(), path)
    if not path.endswith(".py") and not os.path.isfile(found) and os.path.isfile(found + ".py"):
        path, found = path + ".py", found + ".py"  # IPython adds the extension too
    names = _shared(found)
    start = "{**globals(), " if interactive else "{"
    setup: list[Piece] = [
        "import sys as _sys",
        "import tokenize as _tokenize",
        f"_ran = {start}'__name__': '__main__', '__file__': {path!r}}}",
        f"_argv, _sys.argv = _sys.argv, {[path, *words[1:]]!r}",
        _guarded(path),
    ]
    if names:
        setup.append(f"{', '.join(names)} = {', '.join(f'_ran.get({n!r})' for n in names)}")
    return Replacement(setup=setup)


def _guarded(path: str) -> Statement:
    """Run the file in ``_ran``; ``sys.exit(0)`` ends it quietly, as in
    IPython; ``sys.argv`` is the notebook's again afterwards."""
    text = "\n".join([
        "try:",
        f"    with _tokenize.open({path!r}) as _file:",
        f"        exec(compile(_file.read(), {path!r}, 'exec'), _ran)",
        "except SystemExit as _exit:",
        "    if _exit.code not in (0, None):",
        "        raise",
        "finally:",
        "    _sys.argv = _argv",
    ])
    return Statement(text, text, joins=False)


def _shared(path: str) -> list[str]:
    """The names of the script the notebook gets (see the module's docstring)."""
    try:
        with open(path, encoding="utf-8") as file:
            source = file.read()
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []  # the run says what is wrong with the file
    kept_apart: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept_apart |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            kept_apart |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return sorted(n for n in defined_names(source) - kept_apart if not n.startswith("_"))


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run at the module's level, blocks included, not the
    bodies of functions and classes."""
    found: list[ast.stmt] = []
    for node in body:
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                found += _top_level(block)
        for handler in getattr(node, "handlers", []) or []:
            found += _top_level(handler.body)
    return found
