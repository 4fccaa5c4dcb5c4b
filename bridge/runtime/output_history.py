"""IPython's input and output history, inside the runtime: ``_``, ``__``,
``___``, ``_5``, ``Out[5]``, ``In[5]``, ``_i``, ``_ii``, ``_iii``, ``_i5``.

IPython binds these in the user's namespace as cells run: ``In[n]`` is
the input of execution count ``n``, ``Out[n]`` its value when it had one
(``_n`` too), ``_`` ``__`` ``___`` the last three values, ``_i`` ``_ii``
``_iii`` the last three inputs before the running one. Notebooks about
IPython, and console users, read them. This is history, the hidden state
marimo does without: reading ``_`` makes no cell depend on another, and
the marimo twin does not have them (bridge/ipython/runtime_names.py).

Only a cell a Jupyter request runs has a count; a dependent re-run or a
widget's change adds nothing, as IPython's history holds what was
executed. The counts come from the bridge in the ``ExecuteCellsCommand``'s
``request.meta`` (``COUNTS_KEY``: marimo id -> [count, the input as typed],
as ``In`` holds it, not as rewritten for the runtime), which is taken off
again before marimo sees the command, so ``mo.app_meta().request`` stays
None in cells.

Where the values live: ``In``, ``Out`` and ``___`` are builtins (marimo
reads a name no cell defines from there, as Python does); the names marimo
keeps private to a cell (``_``, ``__``, ``_5``, ``_i``...) are read through
the builtin ``__history__``, which the bridge writes in their place.
Not ``builtins._``: gettext's ``install()`` owns that name.

IPython keeps at most 1000 outputs (its ``cache_size``); so does this. A
value that shows a matplotlib figure (``plt.plot``'s lines, an Axes) is not
kept: it would keep its figure, drawn and closed, in memory for as long.

Private marimo pieces: the handler of ``ExecuteCellsCommand`` (wrapped to
read the counts) and the pre- and post-execution hook lists.
``supported()`` says whether they are where this expects; the bridge sends
counts only then. tests/unit/test_runtime_hooks.py fails loudly when an
upgrade moves them.
"""

from __future__ import annotations

import builtins
from typing import Any

from bridge.runtime import execute_command, figures

COUNTS_KEY = "jupyter_history"
CACHE_SIZE = 1000


class Names(dict[str, Any]):
    """``__history__``: a name not bound yet is a NameError, as in IPython."""

    def __missing__(self, key: str) -> Any:
        raise NameError(f"name {key!r} is not defined")


names = Names()
Out: dict[int, Any] = {}
In: list[str] = [""]
# The count and typed input of the cells the command being handled runs,
# by marimo id.
_pending: dict[str, tuple[int, str]] = {}


def supported() -> bool:
    try:
        from marimo._runtime.runner import hooks_post_execution, hooks_pre_execution
    except ImportError:
        return False
    return (
        execute_command.present()
        and isinstance(getattr(hooks_pre_execution, "PRE_EXECUTION_HOOKS", None), list)
        and isinstance(getattr(hooks_post_execution, "POST_EXECUTION_HOOKS", None), list)
    )


def request_meta(counts: dict[str, tuple[int, str]]) -> Any:
    """The ``request`` of an ``ExecuteCellsCommand`` that carries ``counts``
    (bridge side)."""
    from marimo._internal.commands import HTTPRequest

    return HTTPRequest(
        url={}, base_url={}, headers={}, query_params={}, path_params={}, cookies={},
        meta={COUNTS_KEY: {cell: list(entry) for cell, entry in counts.items()}}, user=None,
    )


def install() -> bool:
    """Before marimo's kernel is made (it copies the hook lists then)."""
    if not supported():
        return False
    import msgspec
    from marimo._runtime.runner import hooks_post_execution, hooks_pre_execution

    if note_input in hooks_pre_execution.PRE_EXECUTION_HOOKS:
        return True

    def begin(command: Any) -> Any:
        meta = getattr(command.request, "meta", None)
        counts = meta.get(COUNTS_KEY) if isinstance(meta, dict) else None
        if not isinstance(counts, dict):
            return command
        _pending.update({str(k): (int(v[0]), str(v[1])) for k, v in counts.items()})
        return msgspec.structs.replace(command, request=None)

    execute_command.wrap("output_history", begin, _pending.clear)
    hooks_pre_execution.PRE_EXECUTION_HOOKS.append(note_input)
    hooks_post_execution.POST_EXECUTION_HOOKS.insert(0, note_output)
    builtins.In = In  # type: ignore[attr-defined]
    builtins.Out = Out  # type: ignore[attr-defined]
    builtins.__history__ = names  # type: ignore[attr-defined]
    names.update({"_": "", "__": "", "_i": "", "_ii": "", "_iii": "", "_oh": Out, "_ih": In})
    builtins.___ = ""  # type: ignore[attr-defined]
    return True


def note_input(cell: Any, ctx: Any) -> None:
    """Pre-execution hook: ``In[n]``, ``_i``, ``_ii``, ``_iii``, ``_in``."""
    entry = _pending.get(str(cell.cell_id))
    if entry is None:
        return
    count, code = entry
    while len(In) <= count:
        In.append("")
    In[count] = code
    names["_iii"], names["_ii"], names["_i"] = names["_ii"], names["_i"], names.get("_i00", "")
    names["_i00"] = code
    names[f"_i{count}"] = code


def note_output(cell: Any, ctx: Any, run_result: Any) -> None:
    """Post-execution hook (first, before marimo clears anything): the
    value, as IPython's displayhook keeps it."""
    entry = _pending.pop(str(cell.cell_id), None)
    if entry is None or run_result.exception is not None:
        return
    count, code = entry
    value = run_result.output
    if value is None or value is Out or _quiet(code) or figures.shows_figure(value):
        return
    Out[count] = value
    names[f"_{count}"] = value
    builtins.___ = names["__"]  # type: ignore[attr-defined]
    names["__"], names["_"] = names["_"], value
    while len(Out) > CACHE_SIZE:
        oldest = min(Out)
        del Out[oldest]
        names.pop(f"_{oldest}", None)


def _quiet(code: str) -> bool:
    """A cell ending in ``;``: IPython shows and keeps no value."""
    lines = [line.split("#", 1)[0].rstrip() for line in code.strip().split("\n")]
    return bool(lines) and lines[-1].endswith(";")
