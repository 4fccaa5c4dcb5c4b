"""A magic as plain Python: the shape every handler gives, and its failure."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


class Unsupported(Exception):
    """A magic this kernel does not run; the message says what it runs."""


@dataclass(frozen=True)
class Replacement:
    """A magic as Python: ``setup`` statements, then ``value`` (an expression
    the magic evaluates to, or None), then ``after`` statements.

    ``twin`` is what the saved notebook holds instead, when that differs
    (``%pip install`` is a PEP 723 dependency there, not an install per run).
    """

    setup: list[str] = field(default_factory=list)
    value: str | None = None
    after: list[str] = field(default_factory=list)
    twin: str | None = None
    auto_reload: str | None = None  # marimo's runtime.auto_reload to set
    pinfo: tuple[str, int] | None = None  # (object name, detail level)


def is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return bool(text.strip())
