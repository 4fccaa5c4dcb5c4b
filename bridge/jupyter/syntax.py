"""Pure reading of Python source for the shell: is it complete, what is named.

Behaviour follows IPython (``TransformerManager.check_complete`` and
``token_at_cursor``) without importing it for plain Python: its import
costs more than the kernel's own start. Only code with IPython syntax
(``%time x = 1``, ``!ls``) imports it, to be judged as the Python it runs as.
"""

from __future__ import annotations

import codeop
import io
import keyword
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import Any

from bridge.ipython.rewrite import rewrite

_INDENT = re.compile(r"^[ \t]+")
# The one directive the bridge knows (kernel.SCRATCH_MAGIC); not Python.
SCRATCH_DIRECTIVE = "%%scratch"


def _indent_of(line: str) -> int:
    m = _INDENT.match(line)
    return len(m.group(0).replace("\t", " " * 4)) if m else 0


def _tokens(code: str) -> list[tokenize.TokenInfo]:
    """Tokens up to the first error: incomplete code still has a usable head."""
    out: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            out.append(tok)
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def _opens_block(code: str) -> bool:
    """Whether the last significant token is a ``:`` (comments do not count)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER}
    skip |= {tokenize.INDENT, tokenize.DEDENT}
    significant = [t for t in _tokens(code) if t.type not in skip]
    return bool(significant) and significant[-1].string == ":"


def _ends_in_block(code: str) -> bool:
    """Whether the code's last statement is inside an indented block.

    Such code compiles, yet a console must wait for an empty line before
    running it: the user may still be adding to the block.
    """
    toks = _tokens(code if code.endswith("\n") else code + "\n")
    tail = [t.type for t in toks if t.type not in (tokenize.NL, tokenize.COMMENT)]
    return len(tail) >= 2 and tail[-1] == tokenize.ENDMARKER and tail[-2] == tokenize.DEDENT


def is_complete(code: str) -> dict[str, Any]:
    """The ``is_complete_reply`` content for ``code``."""
    lines = code.splitlines()
    if code.startswith(SCRATCH_DIRECTIVE):
        # The directive line is ours, not Python: judge the body.
        code = code.split("\n", 1)[1] if "\n" in code else ""
        lines = code.splitlines()
    if not code.strip():
        return {"status": "complete"}
    if code.lstrip("\n").startswith("%%"):
        # IPython's rule for a cell magic: its body ends at an empty line.
        done = code.endswith("\n\n") or (code.endswith("\n") and not lines[-1].strip())
        return {"status": "complete"} if done else {"status": "incomplete", "indent": ""}
    rewritten = rewrite(code)
    if rewritten.changed:
        # Judged as the Python it runs as (``!ls`` and ``%time x = 1`` are complete).
        return is_complete(rewritten.code)
    stripped = code.rstrip(" \t")
    ends_with_newline = stripped.endswith("\n")
    last = next(line for line in reversed(lines) if line.strip())

    def incomplete(spaces: int) -> dict[str, Any]:
        return {"status": "incomplete", "indent": " " * spaces}

    if last.rstrip().endswith("\\"):
        return incomplete(_indent_of(last))
    try:
        with warnings.catch_warnings():
            # A warning (an invalid escape, say) is not a verdict on the code.
            warnings.simplefilter("ignore")
            compiled = codeop.compile_command(code, "<input>", "exec")
    except (SyntaxError, OverflowError, ValueError, TypeError, MemoryError):
        return {"status": "invalid"}
    if compiled is None:
        if _opens_block(code):
            return incomplete(_indent_of(last) + 4)
        return incomplete(_indent_of(last))
    if not ends_with_newline and _ends_in_block(code):
        return incomplete(_indent_of(last))
    return {"status": "complete"}


@dataclass(frozen=True)
class Target:
    """The dotted name an inspection is about, and where it ends in the code."""

    name: str
    end: int  # offset just past the name: the code up to here completes it


def _offsets(code: str) -> list[int]:
    """Offset of the start of each line (1-based lines, as tokenize counts)."""
    starts = [0, 0]
    # tokenize reads lines with readline, which splits on "\n" only.
    for line in code.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    return starts


def name_at_cursor(code: str, cursor_pos: int) -> Target | None:
    """The name under the cursor, else the function whose call it is in.

    As IPython's ``token_at_cursor``: ``f(x, |`` inspects ``f``, ``a.b|``
    inspects ``a.b``, and the left side of ``name=`` is never the target.
    """
    starts = _offsets(code)
    toks = _tokens(code)

    def offset(pos: tuple[int, int]) -> int:
        row, col = pos
        return (starts[row] if row < len(starts) else len(code)) + col

    names: list[Target] = []
    calls: list[Target] = []
    closed: Target | None = None
    outer: Target | None = None  # the last name seen outside any call
    on_name = False
    over_cursor = False
    for i, tok in enumerate(toks):
        if offset(tok.start) > cursor_pos:
            break
        closed = None
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        on_name = tok.type == tokenize.NAME and not keyword.iskeyword(tok.string)
        if on_name:
            end = offset(tok.end)
            if names and prev is not None and prev.type == tokenize.OP and prev.string == ".":
                names[-1] = Target(f"{names[-1].name}.{tok.string}", end)
            else:
                names.append(Target(tok.string, end))
            if nxt is not None and nxt.type == tokenize.OP and nxt.string == "=":
                names.pop()
                on_name = False
            if not calls:
                outer = names[-1] if names else None
        elif tok.type == tokenize.OP:
            if tok.string == "(" and names:
                calls.append(names[-1])
            elif tok.string == ")" and calls:
                closed = calls.pop()
        if offset(tok.end) > cursor_pos:
            over_cursor = offset(tok.start) <= cursor_pos
            break
    if on_name and over_cursor:
        return names[-1]
    for candidate in (closed, calls[-1] if calls else None, outer, names[-1] if names else None):
        if candidate is not None:
            return candidate
    return None
