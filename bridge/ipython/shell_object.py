"""``get_ipython()`` inside the runtime: the part of IPython's shell that
notebooks call on it.

There is no IPython shell in marimo's runtime. A cell that calls
``get_ipython().run_line_magic('matplotlib', 'inline')`` as a statement of
its own is rewritten before it runs (rewrite.py); this object serves the
calls the rewriting cannot see: ``ip = get_ipython()`` then
``ip.run_line_magic(...)`` or ``ip.magic(...)``, a call inside an ``if``,
``ip.system(...)``, ``ip.getoutput(...)``, ``ip.run_cell(...)``, and
``ip.display_formatter`` (IPython's ``DisplayFormatter``, the one
display() formats with, so a printer registered with ``for_type`` shows).

A magic run this way runs the Python this kernel rewrites it to, in the
calling cell's namespace. What it defines there is hidden from marimo's
graph, as anything a cell sets through ``globals()`` is. Anything else on
IPython's shell (``events``, ``kernel``, ``config``...) is an
AttributeError that says what this object has. It is reached from a
cell's code only (runtime_names.py): a library asking for ``get_ipython``
still learns that it does not run in IPython. The marimo twin has no
``get_ipython``.
"""

from __future__ import annotations

import ast
import builtins
import sys
from typing import Any

SERVES = ("run_line_magic, run_cell_magic, magic, system, getoutput, run_cell, "
          "user_ns, display_formatter")


class Shell:
    """What ``get_ipython()`` returns in the kernel's runtime."""

    def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
        return _run(f"%{magic_name} {line}".rstrip(), _caller(_stack_depth))

    def run_cell_magic(self, magic_name: str, line: str, cell: str) -> Any:
        return _run(f"%%{magic_name} {line}".rstrip() + "\n" + cell, _caller(1))

    def magic(self, arg_s: str) -> Any:
        """IPython's older spelling: ``magic('time x = 1')``."""
        name, _, line = arg_s.lstrip("%").partition(" ")
        return _run(f"%{name} {line}".rstrip(), _caller(1))

    def system(self, cmd: str) -> None:
        _run(f"!{cmd}", _caller(1))

    def getoutput(self, cmd: str) -> Any:
        return _run(f"_getoutput = !{cmd}\n_getoutput", _caller(1))

    def run_cell(self, raw_cell: str, store_history: bool = False, silent: bool = False,
                 **kwargs: Any) -> Any:
        return _run(raw_cell, _caller(1))

    @property
    def user_ns(self) -> dict[str, Any]:
        return _caller(1)

    @property
    def display_formatter(self) -> Any:
        from bridge.ipython import display

        return display.formatter()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"get_ipython().{name}: this kernel runs marimo's runtime, not an IPython "
            f"shell; get_ipython() here has {SERVES}"
        )

    def __repr__(self) -> str:
        return "<marimo kernel's get_ipython(): " + SERVES + ">"


def _caller(depth: int) -> dict[str, Any]:
    """The globals of the cell that called (``depth`` frames above the method)."""
    return sys._getframe(depth + 1).f_globals


def _run(code: str, namespace: dict[str, Any]) -> Any:
    """``code``, IPython syntax rewritten as a cell's is, run in ``namespace``;
    the value of its last expression, as IPython's magics return theirs."""
    from bridge.ipython.rewrite import rewrite

    rewritten = rewrite(code)
    if rewritten.error is not None:
        from bridge.ipython.replacement import Unsupported

        raise Unsupported(rewritten.error)
    tree = ast.parse(rewritten.code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, "<get_ipython()>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<get_ipython()>", "eval"), namespace)


def install() -> None:
    """The builtin ``__get_ipython__``, which a cell's ``get_ipython`` is read
    as (runtime_names.py); not ``get_ipython`` itself, which libraries take
    for IPython's."""
    shell = Shell()
    builtins.__get_ipython__ = lambda: shell  # type: ignore[attr-defined]
