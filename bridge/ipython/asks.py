"""What a cell asks of the frontend rather than of the runtime.

IPython answers some syntax with a payload in the execute_reply instead of
an output: ``obj?`` and ``%quickref`` open the pager (``source: page``),
``%load`` replaces the cell's text with a file's (``set_next_input``,
``replace: True``). The rewrite (rewrite.py) records each such ask; the
kernel (bridge/jupyter/ipython_face.py) turns them into payloads.
"""

from __future__ import annotations

import getopt
import os
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Help:
    """``obj?`` (level 0) or ``obj??`` (level 1)."""

    name: str
    level: int


@dataclass(frozen=True)
class Load:
    """``%load [-r lines] [-s symbols] [-y] [-n] source``."""

    args: str


@dataclass(frozen=True)
class Page:
    """A page of text (``%quickref``)."""

    text: str


Ask = Help | Load | Page

# IPython asks before loading more than this (nbclient and papermill have
# no stdin, where IPython loads it anyway); the kernel does not ask.
_BIG = 200_000


class LoadError(Exception):
    """``%load`` found nothing to load; ``ename`` is IPython's word for it."""

    def __init__(self, ename: str, evalue: str) -> None:
        super().__init__(evalue)
        self.ename = ename
        self.evalue = evalue


def loaded(args: str, cwd: str) -> tuple[str, list[str]]:
    """``%load args`` as IPython's CodeMagics.load does it: the cell's new
    text (``# %load args`` first) and warnings (symbols not found).

    Relative paths are read from ``cwd`` (the runtime's directory, which
    ``%cd`` moves). Files and URLs only: the input history, macros and the
    notebook's objects are the runtime's, not the kernel's.
    """
    from IPython.core.magics.code import (
        extract_code_ranges,
        extract_symbols,
        strip_initial_indent,
    )

    try:
        opts, rest = getopt.getopt(shlex.split(args), "yns:r:")
    except (ValueError, getopt.GetoptError) as exc:
        raise LoadError("UsageError", f"%load {args}: {exc}") from exc
    if len(rest) != 1:
        raise LoadError(
            "UsageError",
            "%load needs one file or URL (this kernel loads files and URLs, "
            "not the input history or the notebook's objects)",
        )
    options = dict(opts)
    contents = _read(rest[0], cwd)
    warnings: list[str] = []
    if "-s" in options:
        try:
            blocks, not_found = extract_symbols(contents, options["-s"])
        except SyntaxError as exc:
            raise LoadError("UsageError", "Unable to parse the input as valid Python code") from exc
        warnings += [f"The symbol `{name}` was not found" for name in not_found]
        contents = "\n".join(blocks)
    if "-r" in options:
        lines = contents.split("\n")
        slices = extract_code_ranges(options["-r"].replace(",", " "))
        picked = [line for s in slices for line in lines[slice(*s)]]
        contents = "\n".join(strip_initial_indent(picked))
    if len(contents) > _BIG and "-y" not in options:
        warnings.append(f"loaded {len(contents)} characters (IPython would ask first; -y)")
    return f"# %load {args}\n{contents}", warnings


def _read(target: str, cwd: str) -> str:
    from IPython.utils import openpy

    if target.startswith(("http://", "https://")):
        from urllib.request import urlopen

        try:
            try:
                return str(openpy.read_py_url(target, skip_encoding_cookie=True))
            except UnicodeDecodeError:
                with urlopen(target, timeout=30) as response:
                    return str(response.read().decode("latin1"))
        except OSError as exc:
            raise LoadError("ValueError", f"'{target}' could not be read: {exc}") from exc
    path = os.path.join(cwd, os.path.expanduser(target))
    # IPython's get_py_filename: ``name`` or, failing that, ``name.py``.
    for candidate in (path, path + ".py"):
        if os.path.isfile(candidate):
            try:
                return str(openpy.read_py_file(candidate, skip_encoding_cookie=True))
            except UnicodeDecodeError:
                with open(candidate, encoding="latin1") as file:
                    return file.read()
        if os.path.isdir(candidate):
            raise LoadError("ValueError", f"'{target}' is a directory, not a regular file.")
    raise LoadError(
        "ValueError",
        f"'{target}' was not found as a file or URL (looked in {cwd}; this kernel's "
        "%load reads files and URLs, not the input history or the notebook's objects)",
    )


def quick_reference(magics: str) -> str:
    """``%quickref``: this kernel's card, in IPython's manner."""
    import textwrap

    indent = " " * 19  # under the text of the lines above
    magics = "\n".join(textwrap.wrap(magics, 77, initial_indent=indent,
                                     subsequent_indent=indent)).lstrip()
    return f"""\
marimo kernel -- Quick Reference Card
=====================================

Cells are marimo cells: running one re-runs every cell that reads what it
defines; a name is defined by one cell only; a cell that cannot run says why.

obj?, obj??      : Help, or more help, for an object (the pager).
!cmd             : Run a shell command; x = !cmd keeps its lines.
%magic           : The magics this kernel runs, rewritten as plain Python:
                   {magics}
%load file.py    : Replace the cell's text with a file's (-r lines, -s names).
%%scratch        : Run a cell in marimo's scratchpad: it defines nothing.
%%run_stale      : In lazy mode, run every stale cell.

The notebook is kept as a marimo .py file beside it (its "twin").
A notebook written for ipykernel that defines names twice comes over with
    python -m bridge convert OLD.ipynb -o NEW.ipynb
"""
