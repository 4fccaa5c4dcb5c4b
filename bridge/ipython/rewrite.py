"""A cell as typed in Jupyter, rewritten as the plain Python marimo runs.

IPython's own input transformer (``TransformerManager``) finds the syntax:
``%magic``, ``%%magic``, ``!cmd``, ``x = !cmd``, ``obj?``. It turns each into a
``get_ipython()`` call on the same line; this module reads those calls and
puts the magic's plain Python (magics.py) in their place, so what a magic
defines (``%time t = f()``, ``files = !ls``) is a definition marimo sees.

Each cell is written twice (``Rewritten``), the same statements laid out
for two readers:

* ``twin``, what the marimo notebook keeps (the document, the .py file a
  person opens in ``marimo edit`` or runs with ``python nb.py``): the
  magic's Python as a person writes it, one statement a line, after a
  comment naming the magic as typed (``# !ls``, ``# %%time``).
* ``code``, what the kernel's runtime runs: a line magic's statements on
  its own line, joined with ``;``, and a cell magic's ``%%`` line one line
  of Python before the body, so every line of the user's keeps its number.
  A traceback says ``Cell In[3], line 4`` of the cell as the user sees it
  in Jupyter (the cell ``!echo hi\n1/0`` fails on line 2), not of the
  longer twin cell. The few statements Python cannot join (a loop, a
  ``def``) have a one-line equivalent there (``any(print(l) for l in ...)``
  for the streaming loop); a ``%timeit`` or ``%memit`` of a statement
  rather than an expression, whose function needs a ``def`` line, takes one
  more line, as do compound statements a user's magic holds. A cell magic
  whose body is not Python (``%%bash``, ``%%html``, ``%%writefile``) has
  no line a traceback would point at: the runtime runs the twin's text.

The two forms run the same statements (tests/unit/test_ipython_readable.py
runs both and compares), so the notebook behaves alike in the kernel,
under ``python nb.py`` and in ``marimo edit``; the kernel runs a cell of
the twin as written when it loads one from the file. Each twin cell is
self-contained: its helpers (``_format_time``, the imports) are ``_``-private
names of the cell, not names in the notebook's setup cell, which the kernel
would have to run and keep in step with the cells for both forms to agree.

IPython is imported only for a cell that may hold such syntax: its import
costs about 0.1 s, and most cells are plain Python.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from bridge.ipython import cell_magics, future, magics, runtime_names, shell
from bridge.ipython.asks import Ask, Load
from bridge.ipython.replacement import (
    CellCode,
    Piece,
    Replacement,
    Statement,
    Unsupported,
    one_line,
    spread,
    without_comment,
)

# A line that starts with % or !, an assignment from one, a line ending in
# ? (obj?), a prompt pasted with the code (``>>> ``, ``In [3]: ``), or the
# calls IPython writes for them, as in a notebook exported to a script
# (``get_ipython().run_line_magic('matplotlib', 'inline')``): only such cells
# go through IPython's transformer.
_MAYBE = re.compile(
    r"^[ \t]*[%!?]|=[ \t]*[%!]|\?[ \t]*$|^[ \t]*(>>>|In \[\d+\]:)|get_ipython\(\)\.", re.M
)
_RUN = re.compile(r"^[ \t]*%run\b", re.M)
# The kernel's own directives (requests.py, outputs.py): not IPython's.
KERNEL_DIRECTIVES = ("%%scratch", "%%run_stale")


@dataclass(frozen=True)
class Rewritten:
    """``code`` runs in the runtime; ``twin`` is what the notebook keeps: the
    same statements, laid out for reading (and a ``%pip install`` is a
    dependency there, not an install)."""

    code: str
    twin: str
    auto_reload: str | None = None
    # What the cell asks of the frontend (``obj?``, ``%quickref``, ``%load``):
    # payloads of its reply (asks.py).
    asks: tuple[Ask, ...] = ()
    error: str | None = None  # why the cell cannot run (an unknown magic)
    changed: bool = False
    # ``exit`` or ``quit``: IPython asks the frontend to exit (no run).
    ask_exit: bool = False
    # Nothing but asks (and blanks, comments): answered without a run.
    only_asks: bool = False


@dataclass
class _Parts:
    code: list[str] = field(default_factory=list)
    twin: list[str] = field(default_factory=list)
    auto_reload: str | None = None
    asks: list[Ask] = field(default_factory=list)
    runs_code: bool = False  # a line other than an ask, a blank or a comment


# IPython's ExitAutocall: the frontend is asked to exit (jupyter console does).
_EXITS = ("exit", "quit", "exit()", "quit()")


def rewrite(code: str) -> Rewritten:
    """``code`` with its IPython syntax as plain Python (unchanged if none)."""
    rewritten = _syntax(code)
    code, twin = rewritten.code, rewritten.twin
    if "__future__" in code:
        # IPython runs a future import anywhere in a cell (future.py says how).
        code, twin = future.in_place(code), future.in_place(twin)
    # ``_``, ``_5``, ``_i``, ``get_ipython``: read where the runtime keeps
    # them; the twin keeps them as typed.
    code = runtime_names.in_place(code)
    if code == rewritten.code and twin == rewritten.twin:
        return rewritten
    return replace(rewritten, code=code, twin=twin, changed=True)


def _syntax(code: str) -> Rewritten:
    if code.strip() in _EXITS:
        return Rewritten(code, code, ask_exit=True)
    code = _automagic(code)
    if not _MAYBE.search(code) or code.lstrip("\n").startswith(KERNEL_DIRECTIVES):
        return Rewritten(code, code)
    if runs_script(code):
        return _rewrite.__wrapped__(code)  # %run reads its script: not cached
    return _rewrite(code)


def _automagic(code: str) -> str:
    """IPython's automagic: a one-line cell starting with a line magic's
    name is that magic (``ls data/*.csv``, ``cd sub``, ``pip install x``).

    IPython applies it to one-line cells when no variable shadows the name;
    here only when the line is not Python at all, so a cell that is Python
    (``ls - l`` with a variable ``ls``) is never taken for a magic.
    """
    line = code.strip()
    if "\n" in line or not line or line[0] in "%!":
        return code
    name, rest = [*line.split(None, 1), ""][:2]
    if name not in magics.LINE or name.startswith("pinfo") or rest.lstrip()[:1] in ("=", ","):
        return code  # IPython's AssignmentChecker: ``env = 3 +`` is Python
    try:
        ast.parse(line)
    except SyntaxError:
        return f"%{line}"
    return code


def runs_script(code: str) -> bool:
    """Whether the cell holds ``%run`` (run.py reads the script's names)."""
    return _RUN.search(code) is not None


@lru_cache(maxsize=256)
def _rewrite(code: str) -> Rewritten:
    try:
        stripped = _as_cell_magic(code.lstrip("\n"))
        if stripped.startswith("%%"):
            cell = _cell_magic(stripped)
            return Rewritten("\n".join(cell.code), "\n".join(cell.twin), changed=True)
        return _line_magics(code)
    except Unsupported as exc:
        return Rewritten(code, code, error=str(exc))


def _as_cell_magic(cell: str) -> str:
    """A cell that is IPython's own call for a cell magic (a notebook
    exported to a script: ``get_ipython().run_cell_magic('bash', '', 'ls\\n')``)
    as the ``%%`` cell it stands for; any other cell as it is."""
    if not cell.startswith("get_ipython().run_cell_magic("):
        return cell
    try:
        node = ast.parse(cell.strip(), mode="eval").body
        args = [ast.literal_eval(a) for a in node.args] if isinstance(node, ast.Call) else []
    except (SyntaxError, ValueError):
        return cell
    if len(args) != 3 or not all(isinstance(a, str) for a in args):
        return cell
    name, line, body = args
    return f"%%{name} {line}".rstrip() + "\n" + body.removesuffix("\n")


def _cell_magic(cell: str) -> CellCode:
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
    # IPython drops a cell's leading empty lines; they are kept here, so
    # that every line keeps its number.
    body = code.lstrip("\n")
    lead = [""] * (len(code) - len(body))
    transformed = _transform(body)
    if transformed is None:
        if "get_ipython()." not in body:
            return Rewritten(code, code)
        transformed = body  # IPython's calls, written out already
    before = lead + body.split("\n")
    after = lead + transformed.split("\n")
    if after and after[-1] == "" and (not before or before[-1] != ""):
        after.pop()  # IPython ends the cell with a newline
    if len(before) != len(after):
        # A magic continued over lines with "\": not worth rewriting in place.
        raise Unsupported("a magic or shell command continued over several lines")
    parts = _Parts()
    changed = False
    exported = {index + len(lead) for index in _exported_calls("\n".join(after[len(lead):]))}
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        replaced = (
            None if old == new and index not in exported else _replace_line(new, old, parts)
        )
        if replaced is None:
            # IPython's cleanup (a pasted prompt taken off) is kept; a magic
            # inside an expression is left as typed, for marimo to refuse.
            kept = new if "get_ipython()" not in new else old
            changed |= kept != old
            parts.code.append(kept)
            parts.twin.append(kept)
            parts.runs_code |= bool(kept.strip()) and not kept.lstrip().startswith("#")
            continue
        changed = True
        parts.code.append(replaced[0])
        parts.twin.append(replaced[1])
    if not changed:
        return Rewritten(code, code)
    if parts.runs_code and any(isinstance(ask, Load) for ask in parts.asks):
        raise Unsupported("%load replaces the cell's text: give it a cell of its own")
    return Rewritten(
        "\n".join(parts.code),
        "\n".join(parts.twin),
        auto_reload=parts.auto_reload,
        asks=tuple(parts.asks),
        changed=True,
        only_asks=bool(parts.asks) and not parts.runs_code,
    )


def _exported_calls(code: str) -> set[int]:
    """The lines (0-based) that are a whole statement calling IPython as an
    exported notebook does: ``get_ipython().system('ls')``, ``x =
    get_ipython().getoutput('ls')``. Not one in a comment, a string or
    after ``if x:``."""
    if "get_ipython()." not in code:
        return set()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    lines = code.split("\n")
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr):
            value = node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            value = node.value
        else:
            continue
        if (node.lineno == node.end_lineno and _magic_call(value) is not None
                and not lines[node.lineno - 1][: node.col_offset].strip()):
            found.add(node.lineno - 1)
    return found


def _transform(code: str) -> str | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        out = str(TransformerManager().transform_cell(code))
    except Exception:  # IPython's own errors on broken code: marimo reports it
        return None
    return out if out.rstrip("\n") != code.rstrip("\n") else None


def _replace_line(line: str, typed: str, parts: _Parts) -> tuple[str, str] | None:
    """One transformed line (``typed`` as the user typed it) as (runtime
    code, twin code); None if it is not a single magic (left for marimo to
    judge)."""
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
        if name in magics.STATEMENT_ARGS:
            args = without_comment(args)
        replacement = handler(args)
    elif kind == "system":
        replacement = shell.system(args)
    else:  # getoutput
        replacement = shell.getoutput(args)
    if replacement.auto_reload is not None:
        parts.auto_reload = replacement.auto_reload
    if replacement.ask is not None:
        parts.asks.append(replacement.ask)
    else:
        parts.runs_code = True
    pieces = _pieces(replacement, prefix.strip(), name)
    code = "\n".join(one_line(pieces, indent))
    if replacement.twin is not None:
        twin = indent + replacement.twin
    elif replacement.says_itself:
        twin = code
    else:
        twin = "\n".join([f"{indent}# {typed.strip()}", *spread(pieces, indent)])
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
    if node.func.attr == "show_usage" and not args:
        return "run_line_magic", "quickref", ""  # a lone ``?``: this kernel's card
    return None


def _pieces(replacement: Replacement, prefix: str, name: str) -> list[Piece]:
    """The replacement's statements, its value assigned (``x = %pwd``) or
    the last expression (the cell's output, as the magic's value is)."""
    pieces = list(replacement.setup)
    value = replacement.value
    if value is None:
        if prefix:
            raise Unsupported(f"%{name} gives no value to assign ({prefix} ...)")
        return pieces + replacement.after
    if prefix:
        return [*pieces, _assigned(prefix, value), *replacement.after]
    if replacement.after:
        # The value stays the line's last expression (a cell's output).
        return [*pieces, _assigned("_magic_value =", value), *replacement.after, "_magic_value"]
    return [*pieces, value]


def _assigned(prefix: str, value: Piece) -> Piece:
    if isinstance(value, Statement):
        return Statement(f"{prefix} {value.text}", f"{prefix} {value.line}")
    return f"{prefix} {value}"
