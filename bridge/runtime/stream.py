"""Reading the runtime's stream of notifications, and telling its exit.

Given an asyncio loop, the stream socket is read on that loop itself, so a
notification costs no thread hand-off, and a watcher thread waits for the
child's exit. Otherwise (a marimo whose receiver thread we do not know, see
channel.stop_receiver) a reader thread drains marimo's stream queue. Either
way, notifications reach ``on_notifications`` decoded and in batches, and
``on_exit`` is called once, after everything the child sent was delivered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from bridge.runtime.messages import Notification, Other, decode

log = logging.getLogger(__name__)

OnNotifications = Callable[[list["Notification | Other"]], None]

# Frames read per turn of the loop; more waiting means another turn.
BATCH = 512
# ... and bytes: a printing flood comes in frames of megabytes each, and a
# batch is held three times over (frames, marimo's decoding, ours).
BATCH_BYTES = 1 << 20
# The child is dead: its exit is told once its socket stayed empty this long.
QUIET_ROUNDS = 5
QUIET_ROUND_S = 0.05


class StreamReader:
    def __init__(
        self,
        channel: Any,
        child: subprocess.Popen[bytes],
        on_notifications: OnNotifications,
        on_exit: Callable[[], None],
    ) -> None:
        # marimo's stream Channel: its socket, decoder and (fallback) queue.
        self._channel = channel
        self._child = child
        self._on_notifications = on_notifications
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._fd: int | None = None  # the socket's fd while the loop watches it
        self._received = 0  # messages read on the loop

    def start(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Read on ``loop`` (None: marimo's receiver thread still runs, read
        its queue on a thread). Called off-loop, once the child is up."""
        if self._closed:
            return
        self._loop = loop
        if loop is None:
            target = self._read_queue
            name = "marimo-stream-reader"
        else:
            target = self._watch_exit
            name = "marimo-exit-watcher"
            loop.call_soon_threadsafe(self._attach)
        threading.Thread(target=target, name=name, daemon=True).start()

    def close(self) -> None:
        """Stop reading (before the sockets close); no exit is told after."""
        self._closed = True
        if self._loop is not None:
            self._detach()

    # -- on the loop -------------------------------------------------------
    def _attach(self) -> None:
        """Watch the stream socket, and read what already came."""
        if self._closed:
            return
        assert self._loop is not None
        # Anything marimo's receiver thread took before it stopped comes first.
        early: list[bytes] = []
        while not self._channel.queue.empty():
            early.append(self._channel.queue.get_nowait())
        self._fd = self._channel.socket.FD
        self._loop.add_reader(self._fd, self._on_readable)
        if early:
            self._deliver(early)
        self._on_readable()

    def _on_readable(self) -> None:
        """Drain the stream socket (its fd is edge-triggered: read until empty)."""
        import zmq

        if self._closed or self._fd is None:
            return
        socket, decoder = self._channel.socket, self._channel.decoder
        frames: list[bytes] = []
        size = 0
        try:
            while len(frames) < BATCH and size < BATCH_BYTES:
                frame = socket.recv(zmq.NOBLOCK)
                frames.append(frame)
                size += len(frame)
        except zmq.Again:
            pass
        except zmq.ZMQError:
            log.debug("runtime stream socket unreadable", exc_info=True)
            return
        else:
            # More may be waiting and the fd will not tell again: come back
            # after the loop has had a turn.
            assert self._loop is not None
            self._loop.call_soon(self._on_readable)
        if not frames:
            return
        self._received += len(frames)
        batch: list[bytes] = []
        for frame in frames:
            try:
                batch.append(decoder.decode(frame))
            except Exception:
                log.warning("undecodable runtime message dropped", exc_info=True)
        self._deliver(batch)

    def _detach(self) -> None:
        """Stop watching the socket: on the loop, before the socket closes."""
        loop = self._loop
        assert loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._remove_reader()
            return
        # From another thread (shutdown): after an _attach still queued.
        done = threading.Event()

        def detach() -> None:
            self._remove_reader()
            done.set()

        try:
            loop.call_soon_threadsafe(detach)
        except RuntimeError:  # the loop is closed: nothing watches the fd
            self._fd = None
            return
        if not done.wait(timeout=2.0):
            log.warning("the event loop did not release the runtime's stream socket")

    def _remove_reader(self) -> None:
        if self._fd is not None:
            assert self._loop is not None
            self._loop.remove_reader(self._fd)
            self._fd = None

    def _drain_after_exit(self, quiet_rounds: int = 0) -> None:
        """Deliver what the dead child sent, then report its exit.

        Its last messages may still be on their way through zmq: the exit is
        told once the socket has stayed empty for a while.
        """
        if self._closed:
            return
        assert self._loop is not None
        before = self._received
        self._on_readable()
        quiet_rounds = 0 if self._received != before else quiet_rounds + 1
        if quiet_rounds < QUIET_ROUNDS:
            self._loop.call_later(QUIET_ROUND_S, self._drain_after_exit, quiet_rounds)
            return
        self._detach()
        self._on_exit()

    def _deliver(self, batch: list[bytes]) -> None:
        notes: list[Notification | Other] = []
        for item in batch:
            try:
                notes.append(decode(item))
            except Exception:
                log.warning("undecodable runtime message dropped", exc_info=True)
        if notes:
            self._on_notifications(notes)

    # -- threads -----------------------------------------------------------
    def _watch_exit(self) -> None:
        """Block until the child exits (without reaping it), then drain."""
        try:
            os.waitid(os.P_PID, self._child.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            pass  # reaped already
        if self._closed:
            return
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._drain_after_exit)
        except RuntimeError:
            pass  # the loop is closed: the kernel is going away

    def _read_queue(self) -> None:
        """The fallback: marimo's receiver thread fills its queue; drain it."""
        stream: queue.Queue[bytes] = self._channel.queue
        while True:
            try:
                raw = stream.get(timeout=0.25)
            except queue.Empty:
                if exited(self._child):
                    break  # empty and dead: nothing more will come
                continue
            batch = [raw]
            # Drain what is already there: one hand-off per burst, not per
            # message, keeps floods of output cheap for the event loop.
            while len(batch) < BATCH:
                try:
                    batch.append(stream.get_nowait())
                except queue.Empty:
                    break
            self._deliver(batch)
        if not self._closed:
            self._on_exit()


def exited(child: subprocess.Popen[bytes]) -> bool:
    """Whether the child has exited, without reaping it.

    ``Popen.poll`` answers None while another thread holds its wait lock,
    so a dead runtime could look alive to one caller; waitid with WNOWAIT
    asks the kernel directly and leaves the child for Popen to reap.
    """
    if child.returncode is not None:
        return True
    try:
        info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True  # already reaped
    return info is not None
