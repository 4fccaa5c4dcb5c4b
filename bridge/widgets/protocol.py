"""The Jupyter widget protocol (version 2), as the kernel speaks it.

marimo's runtime relays every ipywidgets model (so every anywidget) as
``model-lifecycle`` notifications (typed in bridge/runtime/messages.py):
open with the full state, update with changed traits, custom messages,
close. Jupyter frontends speak the same model protocol over comms
(``jupyter.widget``). This module holds what a frontend sends, typed, and
the translation between the two; it sends nothing.

Binary values travel beside the state in both protocols: ``buffer_paths``
names where in the state each buffer belongs, and the state leaves those
places out. A Jupyter message carries buffers as message frames; marimo's
JSON stream carries them base64-encoded (msgspec decodes them to bytes).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import msgspec

from bridge.runtime.messages import EsmSpec

WIDGET_TARGET = "jupyter.widget"
# ipywidgets 8's frontend asks for every model's state at once on this
# target when a page (re)connects; without it, it falls back to comm_info
# and one request_state per model.
CONTROL_TARGET = "jupyter.widget.control"
PROTOCOL_VERSION = "2.1.0"

Path = list[str | int]


# -- Jupyter's side: what a frontend sends on a comm ---------------------------
class CommUpdate(msgspec.Struct, tag="update", tag_field="method"):
    state: dict[str, Any]
    buffer_paths: list[Path] = []


class CommCustom(msgspec.Struct, tag="custom", tag_field="method"):
    content: Any = None


class CommRequestState(msgspec.Struct, tag="request_state", tag_field="method"):
    pass


class CommRequestStates(msgspec.Struct, tag="request_states", tag_field="method"):
    pass


FrontendMessage = CommUpdate | CommCustom | CommRequestState | CommRequestStates

# Traits a frontend may never write: code and style run in every frontend
# that shows the widget (marimo refuses them too; see its EsmSpec).
KERNEL_ONLY = frozenset({"_esm", "_css"})


def read_frontend_message(data: Any) -> FrontendMessage:
    """A frontend's comm data, typed; raises msgspec.ValidationError."""
    return msgspec.convert(data, FrontendMessage)


def esm_source(spec: EsmSpec) -> str | None:
    """The ``_esm`` trait anywidget's frontend needs, from marimo's spec.

    With no virtual file storage (how the bridge launches the runtime),
    marimo writes an inline ESM as a ``data:`` URL; an ``_esm`` that was a
    URL stays that URL, which anywidget imports as it is. A virtual file
    path (``./@file/...``) is served only by marimo's server: None.
    """
    url = spec.url
    if url.startswith("data:"):
        head, _, body = url.partition(",")
        if ";base64" in head:
            return base64.b64decode(body).decode("utf-8", "replace")
        return unquote(body)
    if url.startswith(("http://", "https://")):
        return url
    return None


@dataclass
class ModelState:
    """A model's whole state as the kernel knows it: what a frontend that
    (re)connects is sent. Buffers are kept by their top-level trait."""

    state: dict[str, Any]
    buffers: dict[tuple[str | int, ...], bytes] = field(default_factory=dict)

    def merge(self, state: dict[str, Any], paths: list[Path], buffers: list[bytes]) -> None:
        for key in state:
            for held in [p for p in self.buffers if p and p[0] == key]:
                del self.buffers[held]
        self.state.update(state)
        for path, buffer in zip(paths, buffers, strict=False):
            if path:
                self.buffers[tuple(path)] = buffer

    def full(self) -> tuple[dict[str, Any], list[Path], list[bytes]]:
        paths = [list(p) for p in self.buffers]
        return dict(self.state), paths, list(self.buffers.values())


def model_command(model_id: str, message: CommUpdate | CommCustom, buffers: list[bytes]) -> Any:
    """The runtime's ``ModelCommand`` for a frontend's update or custom message."""
    from marimo._internal.commands import ModelCommand, ModelMessage

    if isinstance(message, CommUpdate):
        state = {k: v for k, v in message.state.items() if k not in KERNEL_ONLY}
        raw: dict[str, Any] = {
            "method": "update",
            "state": state,
            "bufferPaths": message.buffer_paths,
        }
    else:
        raw = {"method": "custom", "content": message.content}
    return ModelCommand(
        model_id=model_id,  # type: ignore[arg-type]  # marimo's WidgetModelId is a str
        message=msgspec.convert(raw, ModelMessage),
        buffers=buffers,
    )
