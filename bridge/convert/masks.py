"""IPython syntax hidden from a Python-only transform, and put back after it.

marimo's renaming transforms parse Python: a cell holding ``%time y = f(x)``
or ``!echo {x}`` does not parse, and its names would be left out. Each
IPython line becomes a block that is Python and holds the names the line
reads or defines (its *holes*), under a marker the transform leaves alone:

    %time y = f(x)        if __bridge_mask_0__:
                              y = f(x)
    !echo {x} $y          if __bridge_mask_1__:
                              (x, y)
    z = !ls {d}           if __bridge_mask_2__:
                              z = (d,)

``unmask`` finds each block in what the transform returned and writes the
IPython line again with the holes as the transform left them. A cell magic
whose body is not Python (``%%bash``, ``%%html``) is one opaque block.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from bridge.ipython.replacement import is_expression

MARKER = "__bridge_mask_{}__"
_MARKER_RE = re.compile(r"^__bridge_mask_(\d+)__$")
# Line magics whose argument, after options, is a Python statement; the
# options that take a value, and those whose value is a name (lprun's -f).
STATEMENT_MAGICS = {
    "time": set(),
    "timeit": {"-n", "-r", "-p"},
    "prun": {"-s", "-l", "-T", "-D"},
    "lprun": {"-m", "-D", "-T"},
    "mprun": {"-T"},
    "memit": {"-r", "-t", "-i"},
}
NAME_OPTIONS = {"-f"}
# Of those, the ones that run their statement in a scope of its own: what it
# assigns is not the notebook's (masked inside a function).
LOCAL_MAGICS = {"timeit", "memit"}
SHELL_MAGICS = {"sx", "system"}
# Cell magics whose body is Python (their first line is kept as is).
PYTHON_CELL_MAGICS = {"time", "timeit", "prun", "capture", "memit", "lprun", "mprun"}
_ASSIGNED = re.compile(r"^(?P<target>[\w.\[\], ]+?)\s*=\s*(?P<rest>[!%].*)$")
_HELP = re.compile(r"^(?P<pre>\?{0,2})(?P<name>[\w.]+)(?P<post>\?{0,2})$")
_INTERPOLATION = re.compile(r"\{(?P<expr>[^{}]+)\}|\$(?P<name>[A-Za-z_][\w.]*)")


@dataclass
class Mask:
    """One IPython line (or opaque cell magic) and its Python holes."""

    original: str
    # (start, end) in ``original`` of each expression hole, in order.
    exprs: list[tuple[int, int]] = field(default_factory=list)
    # (start, end) of the statement hole, or of the assignment target.
    statement: tuple[int, int] | None = None
    assign: bool = False
    local: bool = False  # the statement runs in a scope of its own

    def python(self) -> list[str]:
        """The masked block's body."""
        values = [self.original[a:b] for a, b in self.exprs]
        tuple_text = f"({', '.join(values)},)" if values else "None"
        if self.assign and self.statement is not None:
            a, b = self.statement
            return [f"{self.original[a:b]} = {tuple_text}"]
        body = [tuple_text] if values else []
        if self.statement is not None:
            a, b = self.statement
            if self.local:
                body += ["def __bridge_local__():", "    " + self.original[a:b]]
            else:
                body.append(self.original[a:b])
        return body or ["pass"]

    def rebuild(self, body: list[ast.stmt]) -> str:
        """The IPython line again, its holes as the transform left them."""
        try:
            texts = self._holes(body)
        except (ValueError, IndexError, AttributeError, AssertionError) as exc:
            raise Unmaskable(self.original) from exc
        if any("\n" in text for text in texts):
            raise Unmaskable(self.original)  # a statement the transform spread over lines
        spans = list(self.exprs) + ([self.statement] if self.statement is not None else [])
        out = self.original
        for (a, b), text in sorted(zip(spans, texts, strict=True), reverse=True):
            out = out[:a] + text + out[b:]
        return out

    def _holes(self, body: list[ast.stmt]) -> list[str]:
        if self.assign:
            [node] = body
            assert isinstance(node, ast.Assign)
            elts = node.value.elts if isinstance(node.value, ast.Tuple) else []
            if len(elts) != len(self.exprs):
                raise ValueError
            return [ast.unparse(e) for e in elts] + [ast.unparse(node.targets[0])]
        texts: list[str] = []
        rest = list(body)
        if self.exprs:
            first = rest.pop(0)
            assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Tuple)
            if len(first.value.elts) != len(self.exprs):
                raise ValueError
            texts = [ast.unparse(e) for e in first.value.elts]
        if self.statement is not None:
            if self.local:
                [function] = rest
                assert isinstance(function, ast.FunctionDef)
                rest = function.body
            texts.append("; ".join(ast.unparse(node) for node in rest))
        return texts


class Unmaskable(Exception):
    """The transform's output cannot be read back into IPython lines."""


@dataclass
class Masked:
    original: str
    source: str  # Python
    masks: list[Mask]


def mask(cell: str) -> Masked:
    """The cell as Python, with its IPython lines masked (none: itself)."""
    try:
        ast.parse(cell)
    except SyntaxError:
        pass
    else:
        return Masked(cell, cell, [])
    masks: list[Mask] = []
    lines = cell.split("\n")
    first = lines[0].lstrip()
    out: list[str] = []
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if name not in PYTHON_CELL_MAGICS:
            return Masked(cell, _block(0, "", ["pass"]), [Mask(cell)])
        masks.append(Mask(lines[0]))
        out.append(_block(0, "", ["pass"]))
        lines = lines[1:]
    for line in lines:
        found = _line(line)
        if found is None:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        masks.append(found)
        out.append(_block(len(masks) - 1, indent, found.python()))
    return Masked(cell, "\n".join(out), masks)


def unmask(text: str, masked: Masked) -> str:
    """What a transform made of ``masked.source``, with the IPython back;
    Unmaskable when that cannot be done faithfully."""
    if text == masked.source:
        return masked.original
    if not masked.masks:
        return text
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise Unmaskable(masked.original) from exc
    found: list[tuple[int, int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name):
            match = _MARKER_RE.match(node.test.id)
            if match and int(match.group(1)) < len(masked.masks):
                mask_ = masked.masks[int(match.group(1))]
                end = node.end_lineno or node.lineno
                found.append((node.lineno, end, node.col_offset, mask_.rebuild(node.body)))
    if len(found) != len(masked.masks):
        # A masked line inside a string (a docstring line ending in "?"):
        # the mask was not IPython after all.
        raise Unmaskable(masked.original)
    lines = text.split("\n")
    for start, end, col, new in sorted(found, reverse=True):
        lines[start - 1 : end] = [" " * col + new]
    return "\n".join(lines)


def _block(index: int, indent: str, body: list[str]) -> str:
    inner = "\n".join(f"{indent}    {line}" for line in body)
    return f"{indent}if {MARKER.format(index)}:\n{inner}"


def _line(line: str) -> Mask | None:
    """The mask of one line of IPython syntax, or None for Python."""
    body = line.lstrip()
    if not body or body.startswith("#"):
        return None
    if body.startswith("!"):
        return _shell(body, 1)
    if body.startswith("%") and not body.startswith("%%"):
        return _magic(body)
    assigned = _ASSIGNED.match(body)
    if assigned and not re.search(r"[=!<>]$", assigned.group("target")):
        rest_at = assigned.start("rest")
        inner = _shell(body, rest_at + 1) if body[rest_at] == "!" else _magic(body, rest_at)
        if inner is not None:
            if inner.statement is not None:
                a, b = inner.statement
                if not is_expression(body[a:b]):
                    return Mask(body)  # nothing of it renamed: kept as written
                inner.exprs = sorted([*inner.exprs, (a, b)])
            inner.statement, inner.assign = (0, assigned.end("target")), True
            return inner
    helped = _HELP.match(body)
    if helped and (helped.group("pre") or helped.group("post")):
        return Mask(body, exprs=[helped.span("name")])
    return None


def _shell(body: str, start: int) -> Mask:
    exprs = []
    for match in _INTERPOLATION.finditer(body, start):
        group = "expr" if match.group("expr") is not None else "name"
        a, b = match.span(group)
        if is_expression(body[a:b]):
            exprs.append((a, b))
    return Mask(body, exprs=exprs)


def _magic(body: str, start: int = 0) -> Mask | None:
    """``%name args``: its Python, as far as the magic takes Python."""
    words = body[start + 1 :].split(maxsplit=1)
    if not words:
        return None
    name = words[0]
    args_at = start + 1 + len(name)
    if name in SHELL_MAGICS:
        return _shell(body, args_at)
    if name not in STATEMENT_MAGICS:
        return Mask(body)
    exprs: list[tuple[int, int]] = []
    at = args_at
    takes_value = STATEMENT_MAGICS[name] | NAME_OPTIONS
    while True:
        match = re.compile(r"\s*(-\w+)").match(body, at)
        if match is None:
            break
        at = match.end()
        if match.group(1) in takes_value:
            value = re.compile(r"\s*(\S+)").match(body, at)
            if value is None:
                break
            if match.group(1) in NAME_OPTIONS and value.group(1).replace(".", "").isidentifier():
                exprs.append(value.span(1))
            at = value.end()
    statement = body[at:].strip()
    if not statement:
        return Mask(body, exprs=exprs)
    begin = body.index(statement, at)
    try:
        ast.parse(statement)
    except SyntaxError:
        return Mask(body, exprs=exprs)
    return Mask(
        body, exprs=exprs, statement=(begin, begin + len(statement)), local=name in LOCAL_MAGICS
    )

