"""bridge/runtime/console_flow.py: the private marimo pieces it wraps, and
its bounded deque. If an upgrade moves the pieces, the first test fails by
name (and ``supported()`` leaves marimo's own writer in place)."""

from __future__ import annotations

import inspect
import threading
import time
from dataclasses import dataclass

from bridge.runtime import channel, console_flow


def test_the_writer_pieces_are_where_console_flow_expects() -> None:
    from marimo._messaging import console_output_worker, streams
    from marimo._messaging.streams import ThreadSafeStdout, ThreadSafeStream

    assert console_flow.supported()
    # The stream makes its writer thread from the module's name, then
    # reads its deque attribute afresh at every write, under the condition.
    init = inspect.getsource(ThreadSafeStream.__init__)
    assert "target=buffered_writer," in init
    assert "args=(self.console_msg_queue, self, self.console_msg_cv)" in init
    write = inspect.getsource(ThreadSafeStdout._write_with_mimetype)
    assert "with self._stream.console_msg_cv:" in write
    assert "self._stream.console_msg_queue.append(" in write
    # The writer pops with popleft and sends through the module's function.
    writer = inspect.getsource(console_output_worker.buffered_writer)
    assert "msg_queue.popleft()" in writer
    assert "_flush_outputs(outputs_buffered_per_cell, stream)" in writer
    assert streams.buffered_writer is console_output_worker.buffered_writer
    # The runtime's stream is its only PUSH channel (channel.use_prefix).
    from marimo._ipc.connection import Connection

    connect = inspect.getsource(Connection.connect)
    assert connect.count("Channel.Push(") == 1 and "stream=Channel.Push(context)" in connect
    assert channel.STREAM_QUEUE < 100


@dataclass
class Msg:
    data: str


def test_a_write_waits_while_too_much_text_is_unsent() -> None:
    cv = threading.Condition(threading.Lock())
    bounded = console_flow.BoundedConsole(cv, threading.current_thread())
    big = "z" * console_flow.PENDING_BYTES
    with cv:
        bounded.append(Msg(big))
        bounded.append(Msg("a"))  # at the limit, not past it: no wait
    done = threading.Event()

    def write() -> None:
        with cv:
            bounded.append(Msg("late"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert not done.wait(0.3), "a write past the limit did not wait"
    with cv:
        while bounded:
            bounded.popleft()  # the writer took them; not yet sent
    assert not done.wait(0.3), "popping is not sending: the write must still wait"
    bounded.sent(len(big) + 1)
    assert done.wait(5), "the write did not go on once the text was sent"
    # Markers (flush, stop) never wait, nor anything once the writer is gone.
    gone = threading.Thread(target=lambda: None)
    gone.start()
    gone.join()
    orphan = console_flow.BoundedConsole(cv, gone)
    started = time.monotonic()
    with cv:
        orphan.append(Msg(big + "z"))
        orphan.append(Msg(big))
        orphan.append(None)
    assert time.monotonic() - started < 1
