"""A magic as plain Python: the shape every handler gives, and its failure.

A handler gives statements. Each is written twice: in the twin as a person
writes it (one statement a line, a long call spread over lines, a loop as a
loop), and in the runtime on one line, joined with ``;``, so a line magic
keeps its line (rewrite.py says why). A plain ``str`` is a statement both
write alike; a ``Statement`` carries the two forms.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field

from bridge.ipython.asks import Ask

# The twin's lines stay within this (ruff's and black's default width).
WIDTH = 88
INDENT = "    "
_COMPOUND = tuple(
    getattr(ast, name)
    for name in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar",
                 "FunctionDef", "AsyncFunctionDef", "ClassDef", "Match")
    if hasattr(ast, name)  # TryStar: Python 3.11
)


class Unsupported(Exception):
    """A magic this kernel does not run; the message says what it runs."""


@dataclass(frozen=True)
class Statement:
    """One statement: ``text`` as the twin holds it (over several lines if
    that reads better), ``line`` the same on one line for the runtime.

    ``joins``: ``line`` may share its line with others (``a; b``). False for
    a compound statement Python puts on a line of its own (``def f(): x``).
    """

    text: str
    line: str
    joins: bool = True


Piece = str | Statement


@dataclass(frozen=True)
class Replacement:
    """A magic as Python: ``setup`` statements, then ``value`` (an expression
    the magic evaluates to, or None), then ``after`` statements.

    ``twin`` is what the saved notebook holds instead, when that differs
    (``%pip install`` is a PEP 723 dependency there, not an install per run).
    """

    setup: list[Piece] = field(default_factory=list)
    value: Piece | None = None
    after: list[Piece] = field(default_factory=list)
    twin: str | None = None
    auto_reload: str | None = None  # marimo's runtime.auto_reload to set
    ask: Ask | None = None  # asked of the frontend: help, a page, a load

    @property
    def says_itself(self) -> bool:
        """A lone ``pass  # %magic ...``: it names its magic already."""
        return (
            self.value is None and not self.after and len(self.setup) == 1
            and isinstance(self.setup[0], str) and self.setup[0].startswith("pass  #")
        )


@dataclass(frozen=True)
class CellCode:
    """A cell magic's cell: ``code`` for the runtime (the body's lines where
    the user typed them), ``twin`` for the notebook."""

    code: list[str]
    twin: list[str]


def is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return bool(text.strip())


def is_compound(statement: str) -> bool:
    """``for ...: x``, ``def f(): x``: a statement no other may follow on its line."""
    try:
        body = ast.parse(statement).body
    except SyntaxError:
        return False
    return any(isinstance(node, _COMPOUND) for node in body)


def text_of(piece: Piece) -> str:
    return piece.text if isinstance(piece, Statement) else piece


def line_of(piece: Piece) -> str:
    return piece.line if isinstance(piece, Statement) else piece


def spread(pieces: Sequence[Piece], indent: str = "") -> list[str]:
    """The twin's lines: one statement a line, each in its written form."""
    return [indent + line if line else line for p in pieces for line in text_of(p).split("\n")]


def one_line(pieces: Sequence[Piece], indent: str = "") -> list[str]:
    """The runtime's lines: the statements joined with ``;``, a compound one
    on a line of its own (so one line unless there is one)."""
    lines: list[str] = []
    current: list[str] = []
    for piece in pieces:
        joins = piece.joins if isinstance(piece, Statement) else not is_compound(piece)
        if joins:
            current.append(line_of(piece))
            continue
        if current:
            lines.append("; ".join(current))
            current = []
        lines += line_of(piece).split("\n")
    if current:
        lines.append("; ".join(current))
    return [indent + line if line else line for line in lines]


def call(head: str, args: Sequence[str], tail: str = "") -> Statement:
    """``head(args)tail``, its arguments packed on lines of their own in the
    twin when the call is too long for one."""
    line = f"{head}({', '.join(args)}){tail}"
    if len(line) <= WIDTH - len(INDENT) or not args:
        return Statement(line, line)
    rows: list[str] = []
    row = ""
    for arg in args:
        if row and len(INDENT + row + " " + arg + ",") > WIDTH:
            rows.append(row)
            row = ""
        row = f"{row} {arg}," if row else f"{arg},"
    rows.append(row)
    text = "\n".join([f"{head}(", *(INDENT + r for r in rows), f"){tail}"])
    return Statement(text, line)


def block(head: str, body: Sequence[str], inline: str | None = None) -> Statement:
    """A compound statement (``head`` ends with ``:``) over lines in the twin.
    In the runtime, ``inline`` (an expression or simple statement doing the
    same) shares the line; without one, the statement takes a line of its own."""
    text = "\n".join([head, *(INDENT + line for line in body)])
    if inline is not None:
        return Statement(text, inline)
    if len(body) == 1 and not is_compound(body[0]):
        return Statement(text, f"{head} {body[0]}", joins=False)
    return Statement(text, text, joins=False)  # no one-line form: the lines it needs


def lambda_of(expression: str) -> str:
    """``lambda: expression``, parenthesized where Python would read it
    otherwise (``lambda: a, b`` is a tuple holding a lambda)."""
    bare = f"lambda: {expression.strip()}"
    try:
        node = ast.parse(f"f({bare})", mode="eval").body
        inner = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return f"lambda: ({expression.strip()})"
    assert isinstance(node, ast.Call)
    if (len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Lambda)
            and ast.dump(node.args[0].body) == ast.dump(inner)):
        return bare
    return f"lambda: ({expression.strip()})"


def without_comment(code: str) -> str:
    """A line magic's statement without its trailing ``# comment``.

    IPython compiles the statement alone, where a comment ends nothing; in
    the kernel the magic's statements share the line the user typed
    (``one_line``), where it would end the line.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    for token in tokens:
        if token.type == tokenize.COMMENT:
            return code[: token.start[1]].rstrip()
    return code


def text_literal(text: str, padded: bool = False) -> str:
    """A string literal for a cell's text, as a person writes one: triple
    quotes, the text on lines of its own. ``padded``: a newline before and
    after the text may be added (markdown and SQL do not see them), which
    lets a raw string keep LaTeX's backslashes as typed."""
    candidates: list[tuple[str, str]] = []
    if padded:
        wanted = f"\n{text}\n"
        candidates += [(f'"""{wanted}"""', wanted), (f'r"""{wanted}"""', wanted),
                       (f"r'''{wanted}'''", wanted)]
    escaped = text.replace("\\", "\\\\")
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    candidates += [('"""\\\n' + escaped.replace('"""', '\\"""') + '"""', text)]
    for candidate, meant in candidates:
        if _means(candidate, meant):
            return candidate
    return repr(text)


def _means(literal: str, text: str) -> bool:
    # Python reads a carriage return in source as a newline, and a lone
    # control character is better seen escaped.
    if any(ch < " " and ch not in "\n\t" for ch in text):
        return False
    try:
        return bool(ast.literal_eval(literal) == text)
    except (SyntaxError, ValueError):
        return False
