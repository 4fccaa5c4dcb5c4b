"""The runtime client: one marimo kernel process and its queues.

Owns the child started with ``python -m bridge.runtime.child`` (marimo's
``python -m marimo._ipc.launch_kernel`` plus the bridge's hooks), sends it
commands, and reads its stream of notifications, handing them decoded (in
batches) to a callback. Given an asyncio loop, the stream socket is read on
that loop itself, so a notification costs no thread hand-off, and a watcher
thread reports the child's exit; otherwise (a marimo whose receiver thread we
do not know) a reader thread drains marimo's stream queue. Knows nothing about
Jupyter.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.runtime import channel, launch_config
from bridge.runtime.messages import Notification, Other, decode

log = logging.getLogger(__name__)

OnNotifications = Callable[[list["Notification | Other"]], None]
OnExit = Callable[[int | None], None]

# A send to a runtime that never connected would block forever: give up then.
SEND_TIMEOUT_MS = 10_000


class RuntimeStartError(RuntimeError):
    pass


def create_notebook(cells: list[tuple[str, str]]) -> Any:
    """The command that opens the notebook in the runtime (cells not run)."""
    from marimo._internal.commands import (
        CreateNotebookCommand,
        ExecuteCellCommand,
        UpdateUIElementCommand,
    )
    from marimo._internal.ids import CellId_t

    return CreateNotebookCommand(
        execution_requests=tuple(
            ExecuteCellCommand(cell_id=CellId_t(i), code=code) for i, code in cells
        ),
        cell_ids=tuple(CellId_t(i) for i, _ in cells),
        set_ui_element_value_request=UpdateUIElementCommand(object_ids=[], values=[]),
        auto_run=False,
    )


class RuntimeClient:
    def __init__(
        self,
        on_notifications: OnNotifications,
        on_exit: OnExit,
        notebook_path: str | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._on_notifications = on_notifications
        self._loop = loop
        self._on_exit = on_exit
        self._notebook_path = notebook_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._queues: Any = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self._channel_dir: Path | None = None
        self._prefix = ""
        # The stream socket's fd while the loop watches it.
        self._stream_fd: int | None = None
        self._received = 0  # messages read on the loop
        self._on_loop = False
        self.pid: int | None = None
        self.config: dict[str, Any] = {}

    # -- lifecycle -------------------------------------------------------
    def spawn(self) -> None:
        """Start the runtime's process now (runs off-loop).

        The child spends most of its start importing marimo; it reads its
        launch arguments only after that, so the bridge's own slow parts
        (reading the marimo config, the twin) overlap with it.
        """
        self._channel_dir, self._prefix = channel.reserve()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bridge.runtime.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.getcwd(),
            env={**os.environ, channel.PREFIX_ENV: self._prefix},
        )

    def start(self, cells: list[tuple[str, str]] | None = None) -> None:
        """Connect to the spawned runtime and block until it is ready (off-loop).

        ``cells`` (id, code) are registered without running, as marimo does
        when it opens a notebook: a run instantiates the ancestors it needs.
        """
        import zmq

        if self._proc is None:
            self.spawn()
        assert self._proc is not None and self._channel_dir is not None
        self.config = launch_config.user_config(self._notebook_path)
        # Bound before the child learns where: it connects after reading stdin.
        self._queues, info = channel.bind(self._prefix)
        for push in (self._queues.conn.control, self._queues.conn.completion):
            push.socket.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(
                launch_config.kernel_args(info, self.config, self._notebook_path)
            )
            self._proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died: its exit code is reported below
        # While the child starts: take the stream socket from marimo's
        # receiver thread (which would hand each message to our reader
        # through a queue) and read it on the loop.
        self._on_loop = self._loop is not None and channel.stop_receiver(self._queues.conn)
        ready = self._proc.stdout.readline()
        if ready.strip() != b"KERNEL_READY":
            code = self._proc.wait()
            raise RuntimeStartError(f"the marimo runtime failed to start (exit code {code})")
        info_line = self._proc.stdout.readline().split()
        self.pid = int(info_line[1]) if len(info_line) >= 2 else self._proc.pid
        if self._on_loop:
            assert self._loop is not None
            self._reader = threading.Thread(
                target=self._watch_exit, name="marimo-exit-watcher", daemon=True
            )
            self._loop.call_soon_threadsafe(self._attach)
        else:
            self._reader = threading.Thread(
                target=self._read_loop, name="marimo-stream-reader", daemon=True
            )
        self._reader.start()
        self.send(create_notebook(cells or []))

    @property
    def returncode(self) -> int | None:
        if self._proc is None or not self._exited():
            return None
        try:
            return self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    @property
    def alive(self) -> bool:
        return not self._exited()

    def _exited(self) -> bool:
        """Whether the child has exited, without reaping it.

        ``Popen.poll`` answers None while another thread holds its wait lock,
        so a dead runtime could look alive to one caller; waitid with WNOWAIT
        asks the kernel directly and leaves the child for Popen to reap.
        """
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True  # already reaped
        return info is not None

    def send(self, command: Any) -> None:
        self._queues.control_queue.put(command)

    def answer_input(self, text: str) -> None:
        """The reply to a cell waiting in ``input()`` (EOF_REPLY for EOF)."""
        self._queues.input_queue.put(text)

    def complete(self, command: Any) -> None:
        self._queues.completion_queue.put(command)

    def interrupt(self) -> None:
        """SIGINT to the runtime's process group (the child calls setsid)."""
        if self.pid is None or not self.alive:
            return
        try:
            os.killpg(self.pid, signal.SIGINT)
        except OSError:
            try:
                os.kill(self.pid, signal.SIGINT)
            except OSError:
                pass

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the runtime to stop, then terminate, then kill; never orphan it."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            from marimo._internal.commands import StopKernelCommand

            try:
                self.send(StopKernelCommand())
                proc.wait(timeout)
            except Exception:
                pass
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if proc.poll() is not None:
                    break
                try:
                    os.killpg(self.pid or proc.pid, sig)
                except OSError:
                    proc.send_signal(sig)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
        if self._on_loop:
            self._detach_from_loop()
        if self._queues is not None:
            self._queues.close_queues()
            self._queues = None
        channel.remove(self._channel_dir)
        self._channel_dir = None

    # -- the stream on the loop -------------------------------------------
    def _attach(self) -> None:
        """On the loop: watch the stream socket, and read what already came."""
        if self._queues is None or self._stopping:
            return
        assert self._loop is not None
        channel = self._queues.conn.stream
        # Anything marimo's receiver thread took before it stopped comes first.
        early: list[bytes] = []
        while not channel.queue.empty():
            early.append(channel.queue.get_nowait())
        self._stream_fd = channel.socket.FD
        self._loop.add_reader(self._stream_fd, self._on_readable)
        if early:
            self._deliver(early)
        self._on_readable()

    def _on_readable(self) -> None:
        """Drain the stream socket (its fd is edge-triggered: read until empty)."""
        import zmq

        if self._queues is None or self._stream_fd is None:
            return
        channel = self._queues.conn.stream
        socket, decoder = channel.socket, channel.decoder
        frames: list[bytes] = []
        try:
            while len(frames) < 512:
                frames.append(socket.recv(zmq.NOBLOCK))
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

    def _detach_from_loop(self) -> None:
        """Stop watching the stream socket; done on the loop, before it closes."""
        loop = self._loop
        assert loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            if self._stream_fd is not None:
                loop.remove_reader(self._stream_fd)
                self._stream_fd = None
            return
        # From another thread (shutdown): after an _attach still queued.
        done = threading.Event()

        def detach() -> None:
            if self._stream_fd is not None:
                loop.remove_reader(self._stream_fd)
                self._stream_fd = None
            done.set()

        try:
            loop.call_soon_threadsafe(detach)
        except RuntimeError:  # the loop is closed: nothing watches the fd
            self._stream_fd = None
            return
        if not done.wait(timeout=2.0):
            log.warning("the event loop did not release the runtime's stream socket")

    def _watch_exit(self) -> None:
        """Watcher thread: block until the child exits (without reaping it)."""
        proc = self._proc
        assert proc is not None and self._loop is not None
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            pass  # reaped already
        if self._stopping:
            return
        try:
            self._loop.call_soon_threadsafe(self._drain_after_exit)
        except RuntimeError:
            pass  # the loop is closed: the kernel is going away

    def _drain_after_exit(self, quiet_rounds: int = 0) -> None:
        """On the loop: deliver what the dead child sent, then report its exit.

        Its last messages may still be on their way through zmq: the exit is
        told once the socket has stayed empty for 0.25 s, as the reader thread
        used to.
        """
        if self._stopping or self._queues is None:
            return
        assert self._loop is not None
        before = self._received
        self._on_readable()
        quiet_rounds = 0 if self._received != before else quiet_rounds + 1
        if quiet_rounds < 5:
            self._loop.call_later(0.05, self._drain_after_exit, quiet_rounds)
            return
        self._detach_from_loop()
        self._on_exit(self.returncode)

    def _deliver(self, batch: list[bytes]) -> None:
        notes: list[Notification | Other] = []
        for item in batch:
            try:
                notes.append(decode(item))
            except Exception:
                log.warning("undecodable runtime message dropped", exc_info=True)
        if notes:
            self._on_notifications(notes)

    # -- reader thread (fallback) -----------------------------------------
    def _read_loop(self) -> None:
        stream: queue.Queue[bytes] = self._queues.stream_queue
        proc = self._proc
        assert proc is not None
        while True:
            try:
                raw = stream.get(timeout=0.25)
            except queue.Empty:
                if self._exited():
                    break  # empty and dead: nothing more will come
                continue
            batch = [raw]
            # Drain what is already there: one hand-off per burst, not per
            # message, keeps floods of output cheap for the event loop.
            while len(batch) < 512:
                try:
                    batch.append(stream.get_nowait())
                except queue.Empty:
                    break
            self._deliver(batch)
        if not self._stopping:
            self._on_exit(self.returncode)

