"""Names of IPython's a cell reads that live in the kernel's runtime: the
history (``_``, ``__``, ``_5``, ``_i``, ``_i5``, ``_ii``, ``_iii``, ``_oh``,
``_ih``) and ``get_ipython``.

marimo keeps a name that starts with one ``_`` private to its cell: ``_ + 1``
reads the cell's own ``_``, and fails when the cell has none. The runtime
keeps the history's values in the builtin ``__history__``
(bridge/runtime/output_history.py), so the runtime's code reads
``__history__['_']`` where the user wrote ``_``, on the same line.

``get_ipython`` is read as the builtin ``__get_ipython__``
(bridge/ipython/shell_object.py), not made a builtin under its own name:
libraries ask for ``get_ipython`` to learn whether they run in IPython
(sympy's ``init_printing``), and would then reach for the parts of
IPython's shell this kernel does not have.

The twin keeps what the user wrote: marimo has neither, and the names fail
there as they did. A name the cell binds itself (``for _ in ...``, ``_i =
0``) is the cell's own and is left alone. ``___``, ``In`` and ``Out`` need
nothing: marimo reads names no cell defines from the builtins, where the
runtime keeps them.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

# ``_``, ``__``, ``_5``, ``_i``, ``_ii``, ``_iii``, ``_i5``, ``_oh``, ``_ih``.
HISTORY = re.compile(r"_|__|_\d+|_i{1,3}|_i\d+|_oh|_ih")
SHELL = "get_ipython"
_MAYBE = re.compile(r"(?<![\w.])(?:_|__|_\d+|_i{1,3}|_i\d+|_oh|_ih|get_ipython)(?!\w)")


def _runtime_name(name: str) -> str:
    return "__get_ipython__" if name == SHELL else f"__history__[{name!r}]"


def _bound(tree: ast.AST) -> set[str]:
    """Every name the cell binds, at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found.update(node.names)
    return found


@lru_cache(maxsize=256)  # a cell is rewritten several times per request
def in_place(code: str) -> str:
    """``code`` with each of these names it reads (and does not bind) read
    where the runtime keeps it; unchanged if there is none."""
    if not _MAYBE.search(code):
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    # Python 3.11 gives no reliable columns inside an f-string: such a
    # read is left as written.
    in_fstrings = {id(n) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr)
                   for n in ast.walk(f)}
    reads = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        and (node.id == SHELL or HISTORY.fullmatch(node.id)) and id(node) not in in_fstrings
    ]
    bound = _bound(tree) if reads else set()
    reads = [node for node in reads if node.id not in bound]
    if not reads:
        return code
    lines = code.split("\n")
    for node in sorted(reads, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        # ast's columns count UTF-8 bytes; a name is on one line.
        line = lines[node.lineno - 1].encode()
        assert node.end_col_offset is not None
        lines[node.lineno - 1] = (
            line[: node.col_offset] + _runtime_name(node.id).encode()
            + line[node.end_col_offset :]
        ).decode()
    return "\n".join(lines)
