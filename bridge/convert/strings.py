"""Names read inside string literals, renamed with the names convert renames.

Some strings are Python expressions a call evaluates: ``pd.eval('df1 +
df2')``, the ``@name`` references of ``df.query('a < @limit')`` and
``df.eval(...)`` (their bare names are columns), and the strings given to
a helper of the notebook's own that calls ``eval`` on them (the *Python
Data Science Handbook*'s ``display('df1', 'pd.concat([df1, df2])')``).
marimo's transforms do not look inside strings, so each cell gets a
reference to the names its strings read, appended where the renaming sees
it (``with_names``); after the renaming, the strings are renamed as that
reference was, and the reference dropped (``renamed``).
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize

STRINGS = "__bridge_strings__"


def evaluators(sources: list[str]) -> frozenset[str]:
    """The functions and classes the notebook defines that call ``eval``:
    the strings given to them are expressions they evaluate."""
    found: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and any(
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "eval"
                for call in ast.walk(node)
            ):
                found.add(node.name)
    return frozenset(found)


def _string_calls(
    tree: ast.AST, evaluating: frozenset[str]
) -> list[tuple[ast.Constant, str, bool]]:
    """Literal expression strings: (the node, its text, whether its bare
    names are Python names: pd.eval's and an evaluator's are, a
    DataFrame's query/eval's are columns)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first, func = node.args[0], node.func
        if isinstance(func, ast.Name) and func.id in evaluating:
            found += [
                (arg, arg.value, True) for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
            continue
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        if isinstance(func, ast.Attribute) and func.attr in ("query", "eval"):
            top_level = isinstance(func.value, ast.Name) and func.value.id in ("pd", "pandas")
            found.append((first, first.value, top_level and func.attr == "eval"))
    return found


def _expression_names(text: str, bare: bool) -> list[tuple[int, int, str]]:
    """(start, end, name) of the Python names an expression string reads:
    ``@name`` always, bare names too when ``bare``; never a quoted column
    name, an attribute or a keyword."""
    found: list[tuple[int, int, str]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return found
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    previous = None
    for token in tokens:
        if token.type == tokenize.NAME and not keyword.iskeyword(token.string):
            at = previous is not None and previous.string == "@"
            dotted = previous is not None and previous.string == "."
            if (at or bare) and not dotted and token.string not in ("True", "False", "None"):
                start = offsets[token.start[0] - 1] + token.start[1]
                found.append((start, start + len(token.string), token.string))
        previous = token
    return found


def with_names(source: str, evaluating: frozenset[str]) -> tuple[str, list[str]]:
    """The cell with the names its expression strings read appended as a
    reference the renaming sees (and renames), and those names."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, []
    read: list[str] = []
    for _, value, bare in _string_calls(tree, evaluating):
        for _, _, name in _expression_names(value, bare):
            if name not in read:
                read.append(name)
    if not read:
        return source, []
    return f"{source}\nif {STRINGS}:\n    ({', '.join(read)},)", read


def renamed(text: str, read: list[str], evaluating: frozenset[str]) -> str:
    """Rename inside the expression strings as the renaming renamed the
    appended reference, then drop it."""
    if not read:
        return text
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    block = next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == STRINGS
        ),
        None,
    )
    if block is None:
        return text
    held = block.body[0].value if isinstance(block.body[0], ast.Expr) else None
    elts = held.elts if isinstance(held, ast.Tuple) else []
    names = {old: ast.unparse(new) for old, new in zip(read, elts, strict=False)}
    mapping = {old: new for old, new in names.items() if new != old}
    lines = text.split("\n")
    edits = []
    if mapping:
        for node, value, bare in _string_calls(tree, evaluating):
            new = value
            for start, end, name in reversed(_expression_names(value, bare)):
                new = new[:start] + mapping.get(name, name) + new[end:]
            if new != value and node.lineno == node.end_lineno and node.end_col_offset:
                edits.append((node.lineno, node.col_offset, node.end_col_offset, repr(new)))
    for line, start, end, literal in sorted(edits, reverse=True):
        row = lines[line - 1].encode()
        lines[line - 1] = (row[:start] + literal.encode() + row[end:]).decode()
    end_line = block.end_lineno or block.lineno
    del lines[block.lineno - 1 : end_line]
    return "\n".join(lines)
