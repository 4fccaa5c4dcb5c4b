"""Typed views of the notifications the marimo runtime sends on its stream.

Only the fields the bridge reads are declared: msgspec skips the rest, so a
runtime that adds fields keeps working. Ops we do not route decode to
``Other`` through a cheap pre-read of the tag (see ``decode``).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec


class CellOutput(msgspec.Struct):
    channel: str
    mimetype: str
    data: Any = None

    def errors(self) -> list[dict[str, Any]]:
        """The typed errors of a ``marimo-error`` output, as dicts."""
        items = self.data if isinstance(self.data, list) else [self.data]
        return [e for e in items if isinstance(e, dict)]


class CellOp(msgspec.Struct, tag="cell-op", tag_field="op"):
    cell_id: str
    output: CellOutput | None = None
    # None = unchanged, [] = clear, one item or a list = append.
    console: CellOutput | list[CellOutput] | None = None
    status: str | None = None
    stale_inputs: bool | None = None
    run_id: str | None = None

    def console_items(self) -> list[CellOutput]:
        """Console outputs to append (empty for "unchanged" and for "clear")."""
        if self.console is None:
            return []
        return self.console if isinstance(self.console, list) else [self.console]


class CompletedRun(msgspec.Struct, tag="completed-run", tag_field="op"):
    run_id: str | None = None
    outcome: str | None = None


class Interrupted(msgspec.Struct, tag="interrupted", tag_field="op"):
    run_id: str | None = None


class Execution(msgspec.Struct, tag="execution", tag_field="op"):
    cell_id: str
    run_id: str | None = None
    phase: str | None = None


class DocumentTransaction(msgspec.Struct, tag="notebook-document-transaction", tag_field="op"):
    transaction: dict[str, Any]


class CompletionOption(msgspec.Struct):
    name: str
    # jedi's kind (function, module, statement, ...); "tooltip" marks a call
    # signature offered in place of completions; "" when marimo ran out of time.
    type: str = ""
    # HTML (signature block, then the docstring) or plain text ("x: int").
    completion_info: str | None = None


class CompletionResult(msgspec.Struct, tag="completion-result", tag_field="op"):
    """The answer to a ``CodeCompletionCommand``; belongs to no run."""

    completion_id: str
    prefix_length: int = 0
    options: list[CompletionOption] = []


class EsmSpec(msgspec.Struct):
    """Where an anywidget's ESM is (marimo strips ``_esm`` from the state)."""

    url: str
    hash: str = ""


class ModelOpen(msgspec.Struct, tag="open", tag_field="method"):
    state: dict[str, Any]
    buffer_paths: list[list[str | int]] = []
    buffers: list[bytes] = []  # base64 in the JSON stream
    esm_spec: EsmSpec | None = None


class ModelUpdate(msgspec.Struct, tag="update", tag_field="method"):
    state: dict[str, Any]
    buffer_paths: list[list[str | int]] = []
    buffers: list[bytes] = []
    esm_spec: EsmSpec | None = None


class ModelCustom(msgspec.Struct, tag="custom", tag_field="method"):
    content: Any = None
    buffers: list[bytes] = []


class ModelClose(msgspec.Struct, tag="close", tag_field="method"):
    pass


class ModelLifecycle(msgspec.Struct, tag="model-lifecycle", tag_field="op"):
    """A widget model's open, update, custom message or close. It belongs to
    no run: a widget may change from a thread, between runs."""

    model_id: str
    message: ModelOpen | ModelUpdate | ModelCustom | ModelClose


class Other(msgspec.Struct):
    """Any op the bridge does not route (variables, ui elements, ...)."""

    op: str
    run_id: str | None = None


Notification = (
    CellOp
    | CompletedRun
    | Interrupted
    | Execution
    | DocumentTransaction
    | CompletionResult
    | ModelLifecycle
)

_ROUTED = msgspec.json.Decoder(Notification)
_OTHER = msgspec.json.Decoder(Other)
_ROUTED_OPS = frozenset(
    (
        b"cell-op",
        b"completed-run",
        b"interrupted",
        b"execution",
        b"notebook-document-transaction",
        b"completion-result",
        b"model-lifecycle",
    )
)
_OP = re.compile(rb'"op": ?"([a-z-]+)"')


def decode(raw: bytes) -> Notification | Other:
    """Decode one stream message; never raises on an unknown op."""
    # The op is the first key marimo writes; peeking at the head of the buffer
    # avoids a ValidationError (and its cost) for every op we do not route.
    op = _OP.search(raw, 0, 48)
    if op is not None and op.group(1) in _ROUTED_OPS:
        return _ROUTED.decode(raw)
    return _OTHER.decode(raw)
