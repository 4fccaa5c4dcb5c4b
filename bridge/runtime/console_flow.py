"""A printing flood waits for the bridge instead of piling up in memory.

marimo's runtime hands a cell's console text to a writer thread through a
deque that nothing bounds (``ThreadSafeStream.console_msg_queue``); the
writer merges what it finds into one message per cell and channel and sends
it. A cell printing faster than the bridge reads piles its output up in that
deque, in both ends' socket queues (1,000 messages each by default), and in
the merged messages, which grow to whatever was waiting: a cell printing
100 MB cost the bridge about 250 MB at its peak.

A terminal's pipe makes a printing program wait instead, and so does this:
a cell's write waits while more than ``PENDING_BYTES`` of console text were
handed to the writer and not yet sent. The sockets on both ends hold a few
messages (channel.py), so the writer's send waits for the bridge too. Every
message is then at most about ``PENDING_BYTES``, and a flood of any size
costs each process a few megabytes. The bridge still sees every byte
(it shows what its limits allow, and counts the rest).

Two private marimo pieces, both in ``marimo._messaging``: the writer
thread's target (``streams.buffered_writer``, looked up when a stream makes
its thread), wrapped to give the thread a bounded deque, and the writer's
send (``console_output_worker._flush_outputs``), wrapped to count what was
sent. marimo's writers append under the deque's condition variable, which
is what lets a waiting write release it. tests/unit/test_console_flow.py
fails loudly if an upgrade moves them.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

# Console text handed to the writer and not yet sent, before a write waits.
PENDING_BYTES = 1 << 20
# How often a waiting write looks again (an interrupt lands within it).
WAIT_S = 0.1


class BoundedConsole(deque[Any]):
    """The writer's deque; ``append`` is called with ``cv`` held."""

    def __init__(self, cv: threading.Condition, writer: threading.Thread) -> None:
        super().__init__()
        self._cv = cv
        self._writer = writer
        self.pending = 0  # characters appended and not yet sent

    def append(self, item: Any) -> None:
        size = _size(item)
        if size:
            # Only a cell's text waits: the flush and stop markers never do,
            # nor anything once the writer is gone.
            while (
                self.pending > PENDING_BYTES
                and self._writer.is_alive()
                # The writer itself (a warning while it sends) must not
                # wait for itself.
                and threading.current_thread() is not self._writer
            ):
                self._cv.wait(WAIT_S)
            self.pending += size
        super().append(item)

    def sent(self, size: int) -> None:
        with self._cv:
            self.pending = max(self.pending - size, 0)
            self._cv.notify_all()


def _size(item: Any) -> int:
    data = getattr(item, "data", None)
    return len(data) if isinstance(data, str) else 0


def supported() -> bool:
    try:
        from marimo._messaging import console_output_worker, streams
    except ImportError:
        return False
    return callable(getattr(streams, "buffered_writer", None)) and callable(
        getattr(console_output_worker, "_flush_outputs", None)
    )


def install() -> None:
    """In the runtime, before marimo makes its streams."""
    if not supported():
        return
    from marimo._messaging import console_output_worker, streams

    writer, flush = streams.buffered_writer, console_output_worker._flush_outputs

    def buffered_writer(msg_queue: Any, stream: Any, cv: threading.Condition) -> None:
        bounded = BoundedConsole(cv, threading.current_thread())
        with cv:
            # Writes made before this thread ran went to marimo's deque.
            while msg_queue:
                item = msg_queue.popleft()
                bounded.pending += _size(item)
                deque.append(bounded, item)
            stream.console_msg_queue = bounded
        writer(bounded, stream, cv)

    def flush_outputs(buffered: dict[Any, list[Any]], stream: Any) -> None:
        size = sum(_size(output) for outputs in buffered.values() for output in outputs)
        try:
            flush(buffered, stream)
        finally:
            queue = getattr(stream, "console_msg_queue", None)
            if isinstance(queue, BoundedConsole):
                queue.sent(size)

    streams.buffered_writer = buffered_writer
    console_output_worker._flush_outputs = flush_outputs  # type: ignore[assignment]
