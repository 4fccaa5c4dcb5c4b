"""``from M import *`` written out as the names the notebook uses.

marimo refuses ``import *``: a cell's names must be known without running
it. A notebook written for ipykernel often starts with ``from numpy import
*`` or ``from pylab import *``. Python's rule for what a star import binds
is the module's ``__all__``, or its public names without one; the module is
imported in a child interpreter (in the notebook's folder, so its own
modules are found) to read them, and the star becomes an import of those of
its names that the notebook reads. A name another cell defines too is
renamed afterwards by marimo's own transform, as any name defined twice.

A module that does not import here is left as it was (and reported).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bridge.convert.masks import mask
from bridge.ipython.replacement import WIDTH
from bridge.notebook.analysis import names

# A star import on a line of its own at the top level (a trailing comment kept).
_STAR = re.compile(r"^from\s+(?P<module>[A-Za-z_][\w.]*)\s+import\s+\*\s*(?P<comment>#.*)?$")

_EXPORTS = (
    "import importlib, json, sys\n"
    "module = importlib.import_module(sys.argv[1])\n"
    "names = getattr(module, '__all__', None)\n"
    "if names is None:\n"
    "    names = [n for n in dir(module) if not n.startswith('_')]\n"
    "print(json.dumps(sorted({str(n) for n in names})))\n"
)


@dataclass(frozen=True)
class Star:
    """One star import written out: its cell, module and the names it got
    (None: the module did not import, the line was kept)."""

    cell: int
    module: str
    names: tuple[str, ...] | None


def expand(sources: list[str], folder: Path | None) -> tuple[list[str], list[Star]]:
    """Each cell's source with its top-level star imports written out.

    Cells may hold IPython syntax: the names they read are taken from their
    masked form (masks.py), and a star import is a line of its own at the
    cell's top level, which masking leaves as it is."""
    masked = [mask(source).source for source in sources]
    trees = [_parsed(source) for source in masked]
    read = set().union(*(_free(source) for source in masked))
    out: list[str] = []
    stars: list[Star] = []
    for number, (source, tree) in enumerate(zip(sources, trees, strict=True), start=1):
        tops = {
            node.module for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level == 0
            and [a.name for a in node.names] == ["*"]
        }
        lines = source.split("\n")
        for index, line in enumerate(lines):
            match = _STAR.match(line)
            if match is None or match.group("module") not in tops:
                continue
            module = match.group("module")
            public = exports(module, folder)
            if public is None:
                stars.append(Star(number, module, None))
                continue
            used = tuple(name for name in public if name in read)
            comment = match.group("comment")
            lines[index] = _written_out(module, used) + (f"  {comment}" if comment else "")
            stars.append(Star(number, module, used))
        out.append("\n".join(lines))
    return out, stars


def _free(source: str) -> frozenset[str]:
    """The global names a cell reads (marimo's analysis: not a function's
    parameters, not what the cell itself binds before reading it), its star
    imports left out so that it compiles."""
    found = names("\n".join("pass" if _STAR.match(line) else line for line in source.split("\n")))
    if found is not None:
        return found.refs
    return frozenset(  # a cell marimo cannot compile: every name it loads
        node.id for node in ast.walk(_parsed(source))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    )


def _parsed(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _written_out(module: str, names: tuple[str, ...]) -> str:
    if not names:
        # Imported for what importing it does; its names are unused.
        alias = "_" + module.replace(".", "_")
        return f"import {module} as {alias}  # was: from {module} import * (no name of it is used)"
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= WIDTH:
        return line
    rows: list[str] = []
    row = ""
    for name in names:
        if row and len(f"    {row} {name},") > WIDTH:
            rows.append(row)
            row = ""
        row = f"{row} {name}," if row else f"{name},"
    rows.append(row)
    return "\n".join([f"from {module} import (", *(f"    {r}" for r in rows), ")"])


@lru_cache(maxsize=64)
def exports(module: str, folder: Path | None) -> list[str] | None:
    """What ``from module import *`` binds, read in a child interpreter
    (once per module and folder: a notebook, or a corpus, asks again)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}  # pylab must not open a window
    try:
        done = subprocess.run(
            [sys.executable, "-c", _EXPORTS, module], cwd=folder, env=env,
            capture_output=True, text=True, timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        names = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return [n for n in names if isinstance(n, str) and n.isidentifier()]
