"""Whether an execute_request can be planned before ``do_execute``, and as what.

Two places plan a request ahead of ipykernel's own dispatch: the early start
(at ``set_parent``, early_start.py) and Run All batching (waiting requests
whose cells join an earlier request's run, batching.py). Both take only what
ipykernel would hand to ``do_execute`` as it is, and that this kernel would
run: a request ipykernel aborts, cannot read or cannot echo, one this kernel
refuses, and one answered without a run (an unknown magic, ``obj?``,
``exit``) are left to ``do_execute``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.ipython.rewrite import Rewritten, rewrite
from bridge.jupyter.validate import refused, unreadable


@dataclass(frozen=True)
class Admitted:
    msg_id: str
    code: str
    silent: bool
    store_history: bool
    allow_stdin: bool
    stop_on_error: bool
    cell_meta: dict[str, Any]
    cell_id: object
    rewritten: Rewritten


def admitted(session: Any, parent: dict[str, Any]) -> Admitted | None:
    header = parent.get("header")
    if not isinstance(header, dict) or header.get("msg_type") != "execute_request":
        return None
    if header.get("subshell_id") is not None:
        return None
    # ipykernel's busy status carries this header: one it cannot encode
    # (a lone surrogate) ends the request there, unanswered.
    try:
        session.pack(header)
    except Exception:
        return None
    content, cell_meta = parent.get("content"), parent.get("metadata")
    if unreadable(content, cell_meta) is not None:
        return None
    assert isinstance(content, dict) and isinstance(cell_meta, dict)
    code = content["code"]
    if refused(code, cell_meta, cell_meta.get("cellId")) is not None:
        return None
    try:
        rewritten = rewrite(code)
    except Exception:
        return None  # do_execute rewrites it again, and answers what is wrong
    if rewritten.error is not None or rewritten.only_asks or rewritten.ask_exit:
        return None
    return read(parent, rewritten)


def read(parent: dict[str, Any], rewritten: Rewritten) -> Admitted:
    """A readable execute_request (``unreadable`` passed), as ipykernel's
    execute_request reads its flags."""
    content, cell_meta = parent["content"], parent["metadata"]
    silent = content.get("silent", False)
    return Admitted(
        msg_id=str(parent["header"].get("msg_id")),
        code=content["code"],
        silent=silent,
        store_history=content.get("store_history", not silent),
        allow_stdin=content.get("allow_stdin", False),
        stop_on_error=content.get("stop_on_error", True),
        cell_meta=cell_meta,
        cell_id=cell_meta.get("cellId"),
        rewritten=rewritten,
    )
