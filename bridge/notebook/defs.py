"""The global names a cell defines, read statically from its code."""

from __future__ import annotations

import ast


def _targets(node: ast.AST, out: set[str]) -> None:
    if isinstance(node, ast.Name):
        out.add(node.id)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            _targets(elt, out)
    elif isinstance(node, ast.Starred):
        _targets(node.value, out)


def _walk(body: list[ast.stmt], out: set[str]) -> None:
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                _targets(target, out)
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            _targets(stmt.target, out)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            _targets(stmt.target, out)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    _targets(item.optional_vars, out)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                out.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name != "*":
                    out.add(alias.asname or alias.name)
        elif isinstance(stmt, ast.Try):
            for handler in stmt.handlers:
                if handler.name:
                    out.add(handler.name)
        # Walrus targets at module level are globals too.
        for node in (
            ast.walk(stmt)
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            else ()
        ):
            if isinstance(node, ast.NamedExpr):
                _targets(node.target, out)
        # Compound statements: their blocks run at module level.
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and not isinstance(
                stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ):
                _walk(block, out)
        if isinstance(stmt, ast.Try):
            for handler in stmt.handlers:
                _walk(handler.body, out)
        if isinstance(stmt, ast.Match):
            for case in stmt.cases:
                _walk(case.body, out)


def bound_by(statements: list[ast.stmt]) -> set[str]:
    """The names these parsed statements bind at module level."""
    out: set[str] = set()
    _walk(statements, out)
    return out


def defined_names(code: str) -> frozenset[str]:
    """Names ``code`` defines at module level; empty if it does not parse.

    Code nested too deeply for the compiler (``1+1+...`` 10^5 terms, or
    ``-`` 10^5 times) makes ``ast.parse`` raise RecursionError or
    MemoryError ("too complex"); such code runs nowhere, so it defines
    nothing, and the request goes on to marimo, which reports the error.
    """
    try:
        tree = ast.parse(code)
        out: set[str] = set()
        _walk(tree.body, out)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    # Private names (leading underscore) are cell-local in marimo.
    return frozenset(name for name in out if not name.startswith("_"))
