"""``from __future__ import ...`` as IPython runs it.

IPython compiles a cell one top-level statement at a time and keeps the
compiler flags each one sets, so ``from __future__ import division`` runs
after other statements, and in a ``%%capture`` body. Python compiles a
marimo cell whole, and there a future statement must come first: the cell
fails with "from __future__ imports must occur at the beginning of the
file". Older notebooks have the line after ``%matplotlib inline`` or an
import, and a ``%%capture`` or ``%%time`` body wraps or follows the line
this kernel puts in place of the ``%%`` line. And the import binds the
feature's name: two cells with ``from __future__ import print_function``
define one name twice, which marimo refuses.

Every feature but ``annotations`` is mandatory in Python 3: importing it
changes nothing. So an import of mandatory features becomes ``pass`` on
its line (the import kept in a comment), in the runtime's code and the
twin alike. An import of a feature that is not mandatory (``annotations``)
is left for Python to judge.
"""

from __future__ import annotations
import __future__ as features

import ast
import sys
from functools import lru_cache


def mandatory(name: str) -> bool:
    feature = getattr(features, name, None)
    if not isinstance(feature, features._Feature):
        return False
    release = feature.getMandatoryRelease()
    return release is not None and tuple(release[:2]) <= sys.version_info[:2]


@lru_cache(maxsize=256)  # a cell is rewritten several times per request
def in_place(code: str) -> str:
    """``code`` with each import of mandatory features only made ``pass``,
    every line where it was."""
    if "__future__" not in code:
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    found = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "__future__" and node.level == 0
        and all(mandatory(alias.name) for alias in node.names)
    ]
    if not found:
        return code
    lines = code.split("\n")
    for node in sorted(found, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        assert node.end_lineno is not None and node.end_col_offset is not None
        first, last = node.lineno - 1, node.end_lineno - 1
        # ast's columns count UTF-8 bytes.
        head = lines[first].encode()[: node.col_offset].decode()
        tail = lines[last].encode()[node.end_col_offset :].decode()
        typed = " ".join(ast.unparse(node).split())
        text = "pass" if tail.strip() else f"pass  # {typed}: always on in Python 3"
        # An import over several lines keeps its line count: the lines after
        # the first are left blank.
        lines[first : last + 1] = [head + text + tail, *[""] * (last - first)]
    return "\n".join(lines)
