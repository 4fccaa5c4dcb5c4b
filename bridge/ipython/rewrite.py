"""A cell as typed in Jupyter, rewritten as the plain Python marimo runs.

IPython's own input transformer (``TransformerManager``) finds the syntax:
``%magic``, ``%%magic``, ``!cmd``, ``x = !cmd``, ``obj?``. It turns each into a
``get_ipython()`` call on the same line; this module reads those calls and
puts the magic's plain Python (magics.py) in their place, so what a magic
defines (``%time t = f()``, ``files = !ls``) is a definition marimo sees.

IPython is imported only for a cell that may hold such syntax: its import
costs about 0.1 s, and most cells are plain Python.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bridge.ipython import cell_magics, magics, shell
from bridge.ipython.replacement import Replacement, Unsupported

# A line that starts with % or !, an assignment from one, or a line ending
# in ? (obj?): only such cells go through IPython's transformer.
_MAYBE = re.compile(r"^[ \t]*[%!]|=[ \t]*[%!]|\?[ \t]*$", re.M)
# The kernel's own directives (kernel.py, outputs.py): not IPython's.
KERNEL_DIRECTIVES = ("%%scratch", "%%run_stale")
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match)


@dataclass(frozen=True)
class Rewritten:
    """``code`` runs in the runtime; ``twin`` is what the notebook keeps (the
    same, except that a ``%pip install`` is a dependency there)."""

    code: str
    twin: str
    auto_reload: str | None = None
    pinfo: tuple[tuple[str, int], ...] = ()
    error: str | None = None  # why the cell cannot run (an unknown magic)
    changed: bool = False
    # ``exit`` or ``quit``: IPython asks the frontend to exit (no run).
    ask_exit: bool = False
    # Nothing but ``obj?`` lines (and blanks, comments): a help request, no run.
    only_pinfo: bool = False


@dataclass
class _Parts:
    code: list[str] = field(default_factory=list)
    twin: list[str] = field(default_factory=list)
    auto_reload: str | None = None
    pinfo: list[tuple[str, int]] = field(default_factory=list)
    runs_code: bool = False  # a line other than ``obj?``, a blank or a comment


# IPython's ExitAutocall: the frontend is asked to exit (jupyter console does).
_EXITS = ("exit", "quit", "exit()", "quit()")


def rewrite(code: str) -> Rewritten:
    """``code`` with its IPython syntax as plain Python (unchanged if none)."""
    if code.strip() in _EXITS:
        return Rewritten(code, code, ask_exit=True)
    if not _MAYBE.search(code) or code.lstrip("\n").startswith(KERNEL_DIRECTIVES):
        return Rewritten(code, code)
    return _rewrite(code)


@lru_cache(maxsize=256)
def _rewrite(code: str) -> Rewritten:
    try:
        stripped = code.lstrip("\n")
        if stripped.startswith("%%"):
            lines = _cell_magic(stripped)
            text = "\n".join(lines)
            return Rewritten(text, text, changed=True)
        return _line_magics(code)
    except Unsupported as exc:
        return Rewritten(code, code, error=str(exc))


def _cell_magic(cell: str) -> list[str]:
    first, _, body = cell.partition("\n")
    name, _, args = first[2:].partition(" ")
    handler = cell_magics.CELL.get(name.strip())
    if handler is None:
        raise Unsupported(_unknown(f"%%{name.strip()}"))
    return handler(args.strip(), body)


def _unknown(magic: str) -> str:
    return (
        f"{magic} is not supported by the marimo kernel (marimo runs plain Python; "
        f"this kernel rewrites these IPython magics for it: {supported()})"
    )


def supported() -> str:
    """The magics this kernel runs, for the unknown-magic error."""
    line = ", ".join(f"%{name}" for name in magics.LINE if not name.startswith("pinfo"))
    cell = ", ".join(f"%%{name}" for name in cell_magics.CELL)
    return f"{line}; {cell}; !cmd, x = !cmd, obj? and obj??"


def _line_magics(code: str) -> Rewritten:
    transformed = _transform(code)
    if transformed is None:
        return Rewritten(code, code)
    before = code.split("\n")
    after = transformed.split("\n")
    if after and after[-1] == "" and (not before or before[-1] != ""):
        after.pop()  # IPython ends the cell with a newline
    if len(before) != len(after):
        # A magic continued over lines with "\": not worth rewriting in place.
        raise Unsupported("a magic or shell command continued over several lines")
    parts = _Parts()
    changed = False
    for old, new in zip(before, after, strict=True):
        replaced = None if old == new else _replace_line(new, parts)
        if replaced is None:
            parts.code.append(old)
            parts.twin.append(old)
            parts.runs_code |= bool(old.strip()) and not old.lstrip().startswith("#")
            continue
        changed = True
        parts.code.append(replaced[0])
        parts.twin.append(replaced[1])
    if not changed:
        return Rewritten(code, code)
    return Rewritten(
        "\n".join(parts.code),
        "\n".join(parts.twin),
        auto_reload=parts.auto_reload,
        pinfo=tuple(parts.pinfo),
        changed=True,
        only_pinfo=bool(parts.pinfo) and not parts.runs_code,
    )


def _transform(code: str) -> str | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        out = str(TransformerManager().transform_cell(code))
    except Exception:  # IPython's own errors on broken code: marimo reports it
        return None
    return out if out.rstrip("\n") != code.rstrip("\n") else None


def _replace_line(line: str, parts: _Parts) -> tuple[str, str] | None:
    """One transformed line as (runtime code, twin code); None if it is not
    a single magic (left for marimo to judge)."""
    indent = line[: len(line) - len(line.lstrip())]
    call_at = line.find("get_ipython().")
    if call_at < 0:
        return None
    prefix = line[len(indent) : call_at]
    try:
        node = ast.parse(line[call_at:].strip(), mode="eval").body
    except SyntaxError:
        return None
    found = _magic_call(node)
    if found is None:
        return None
    kind, name, args = found
    if kind == "run_line_magic":
        handler = magics.LINE.get(name)
        if handler is None:
            raise Unsupported(_unknown(f"%{name}"))
        replacement = handler(args)
    elif kind == "system":
        replacement = shell.system(args)
    else:  # getoutput
        replacement = shell.getoutput(args)
    if replacement.auto_reload is not None:
        parts.auto_reload = replacement.auto_reload
    if replacement.pinfo is not None:
        parts.pinfo.append(replacement.pinfo)
    else:
        parts.runs_code = True
    code = _compose(replacement, prefix.strip(), name, indent)
    twin = indent + replacement.twin if replacement.twin is not None else code
    return code, twin


def _magic_call(node: ast.expr) -> tuple[str, str, str] | None:
    """("run_line_magic", name, args), ("system", "", cmd) or ("getoutput", "", cmd)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
            and owner.func.id == "get_ipython"):
        return None
    try:
        args = [ast.literal_eval(a) for a in node.args]
    except ValueError:
        return None
    if node.func.attr == "run_line_magic" and len(args) == 2:
        return "run_line_magic", str(args[0]), str(args[1])
    if node.func.attr in ("system", "getoutput") and len(args) == 1:
        return node.func.attr, "", str(args[0])
    return None


def _compose(replacement: Replacement, prefix: str, name: str, indent: str) -> str:
    """The replacement's statements on one line where Python allows it."""
    pieces = list(replacement.setup)
    if prefix:
        if replacement.value is None:
            raise Unsupported(f"%{name} gives no value to assign ({prefix} ...)")
        pieces.append(f"{prefix} {replacement.value}")
        pieces += replacement.after
    elif replacement.value is not None and replacement.after:
        # The value stays the line's last expression (a cell's output).
        pieces += [f"_magic_value = {replacement.value}", *replacement.after, "_magic_value"]
    else:
        if replacement.value is not None:
            pieces.append(replacement.value)
        pieces += replacement.after
    lines: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if _compound(piece):
            if current:
                lines.append("; ".join(current))
                current = []
            lines.append(piece)
        else:
            current.append(piece)
    if current:
        lines.append("; ".join(current))
    return "\n".join(indent + line for line in lines)


def _compound(statement: str) -> bool:
    try:
        body: list[Any] = ast.parse(statement).body
    except SyntaxError:
        return False
    return any(isinstance(node, _COMPOUND) for node in body)
