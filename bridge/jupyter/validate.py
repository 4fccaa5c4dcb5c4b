"""What makes a request malformed, named in words a user can act on.

Two layers, because ipykernel reads an execute_request before ``do_execute``
sees it and fails silently (a log line, no reply) on what it cannot read:

* ``unreadable``: what ipykernel's own handler cannot take (no ``code``,
  content or metadata that is not an object, flags that are not booleans,
  code that cannot even be encoded to send back as ``execute_input``). The
  kernel answers these itself, before ipykernel touches the request.
* ``refused``: what reaches ``do_execute`` but must not run (NUL bytes, a
  malformed ``cellId`` or ``deletedCells``). These fail like any cell.

Messages name the field and the kind of value, never echo the value: it may
be megabytes long or not encodable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# nbformat ids are at most 64 characters and VS Code's cell URIs hold a file
# path; anything past this is no frontend's id, and kept per cell for the
# kernel's life it would only cost memory.
MAX_CELL_ID = 8192

# A lone UTF-16 surrogate: JSON may carry one as an escape ("\ud800"), and
# json.loads keeps it, but it is no character, so it cannot be encoded
# (ipykernel's execute_input and the twin would fail on it).
_SURROGATE = re.compile("[\ud800-\udfff]")

_FLAGS = ("silent", "store_history", "allow_stdin", "stop_on_error")


@dataclass(frozen=True)
class Problem:
    ename: str
    evalue: str


def kind(value: object) -> str:
    """A JSON value's kind, as the message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def unreadable(content: object, metadata: object) -> Problem | None:
    """Why ipykernel could not read this execute_request; None if it can."""
    if not isinstance(content, dict):
        return _invalid(f"the execute_request's content is {kind(content)}, not an object")
    if "code" not in content:
        return _invalid("the execute_request has no 'code'")
    code = content["code"]
    if not isinstance(code, str):
        return _invalid(f"'code' must be a string, not {kind(code)}")
    found = _SURROGATE.search(code)
    if found is not None:
        return _invalid(
            f"'code' is not valid Unicode: a lone surrogate "
            f"U+{ord(found.group()):04X} at character {found.start()}"
        )
    for flag in _FLAGS:
        if flag in content and not isinstance(content[flag], bool):
            return _invalid(f"'{flag}' must be true or false, not {kind(content[flag])}")
    if not isinstance(metadata, dict):
        return _invalid(f"the execute_request's metadata is {kind(metadata)}, not an object")
    return None


def refused(code: str, cell_meta: Any, cell_id: Any) -> Problem | None:
    """Why ``do_execute`` must not run this request; None if it may."""
    nul = code.find("\x00")
    if nul >= 0:
        # Python's own words (ipykernel answers the same SyntaxError); the
        # code stays out of the notebook, where the twin could not hold it.
        return Problem(
            "SyntaxError", f"source code string cannot contain null bytes (at character {nul})"
        )
    if cell_id is not None and not isinstance(cell_id, str):
        return _invalid(f"metadata.cellId must be a string, not {kind(cell_id)}")
    if isinstance(cell_id, str) and len(cell_id) > MAX_CELL_ID:
        return _invalid(
            f"metadata.cellId is {len(cell_id)} characters long; at most {MAX_CELL_ID} are accepted"
        )
    deleted = cell_meta.get("deletedCells") if isinstance(cell_meta, dict) else None
    if deleted is not None:
        if not isinstance(deleted, list):
            return _invalid(
                f"metadata.deletedCells must be a list of cell ids, not {kind(deleted)}"
            )
        for index, item in enumerate(deleted):
            if not isinstance(item, str):
                return _invalid(
                    f"metadata.deletedCells must hold cell ids (strings); item {index} "
                    f"is {kind(item)}"
                )
    return None


def _invalid(evalue: str) -> Problem:
    return Problem("InvalidRequest", evalue + "; the request was not run")
