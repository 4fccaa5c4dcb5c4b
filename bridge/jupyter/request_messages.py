"""One request's IOPub messages: its context, its stream text coalesced and capped.

The output router (outputs.py) decides what a cell's update becomes; this
is how it goes out under a request: stream text gathered until the next
other message or the router's throttle (one message per run of a stream
name, so the order the cell wrote in is kept), a cell's console text capped
per request at STREAM_LIMIT, displays and their updates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.jupyter.views import mb

Send = Callable[[str, dict[str, Any], dict[str, Any]], None]

# Console text sent as stream messages for one request (cells without a
# cellId); the rest is counted and a notice says how much was not shown.
STREAM_LIMIT = 10_000_000


@dataclass
class RequestContext:
    """The Jupyter request the runtime's work is published under."""

    parent: dict[str, Any]
    silent: bool
    execution_count: int
    anchored: bool  # the request carried a cellId
    # False for a terminal client (jupyter console: no cellId, stdin allowed),
    # which drops update_display_data: a dependent's new value is also
    # written as text under the running request.
    shows_updates: bool = True
    # Show each cell's displays as soon as it has finished (a widget's
    # dependents, where a user waits to see the change), not at the throttle.
    eager: bool = False
    headers_sent: set[str] = field(default_factory=set)
    # Stream text waiting for the throttle: one message per stream name run.
    stream_name: str | None = None
    stream_parts: list[str] = field(default_factory=list)
    # Cell console characters streamed for this request, and the bytes of it
    # not shown once STREAM_LIMIT was reached.
    streamed: int = 0
    dropped: int = 0
    # Cells without displays marked stale in this request: told at its end,
    # if still stale (a cell about to run is marked stale first).
    stale_cells: list[str] = field(default_factory=list)
    # A root cell's execute_result, sent when the cell has finished: after
    # everything the cell printed, as ipykernel's displayhook comes last.
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


class RequestMessages:
    def __init__(self, send: Send, arm: Callable[[], None]) -> None:
        """``send`` puts a message on IOPub; ``arm`` starts the router's
        throttle timer, which flushes waiting stream text."""
        self._send = send
        self._arm = arm

    def stream(self, context: RequestContext, name: str, text: str, console: bool = False) -> None:
        """Stream text, coalesced within the throttle; a cell's console text
        (``console``) counts toward the request's STREAM_LIMIT."""
        if context.silent:
            return
        told = context.dropped > 0
        if console:
            room = max(STREAM_LIMIT - context.streamed, 0)
            if len(text) > room:
                context.dropped += _utf8_size(text[room:])
                text = text[:room]
            context.streamed += len(text)
        if text:
            self._buffer(context, name, text)
        if context.dropped and not told:
            notice = (
                f"\n… output limit reached ({mb(STREAM_LIMIT)} for one request): "
                "the rest is not shown\n"
            )
            self._buffer(context, "stderr", notice)

    def _buffer(self, context: RequestContext, name: str, text: str) -> None:
        if context.stream_name != name:
            self.flush_stream(context)
            context.stream_name = name
        context.stream_parts.append(text)
        self._arm()  # the router's throttle sends it

    def flush_stream(self, context: RequestContext) -> None:
        """Send the waiting stream text; every other output of the request
        goes after it, so the order the cell wrote in is kept."""
        if context.stream_parts:
            text = "".join(context.stream_parts)
            context.stream_parts.clear()
            self._send("stream", {"name": context.stream_name, "text": text}, context.parent)

    def display(
        self,
        context: RequestContext,
        data: dict[str, Any],
        metadata: dict[str, Any],
        display_id: str | None = None,
    ) -> str:
        display_id = display_id or uuid.uuid4().hex
        if not context.silent:
            self.flush_stream(context)
            self._send(
                "display_data",
                {"data": data, "metadata": metadata, "transient": {"display_id": display_id}},
                context.parent,
            )
        return display_id

    def update(
        self,
        context: RequestContext,
        display_id: str | None,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if display_id is None:
            return
        self.flush_stream(context)
        self._send(
            "update_display_data",
            {"data": data, "metadata": metadata or {}, "transient": {"display_id": display_id}},
            context.parent,
        )


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
