"""The runtime client: one marimo kernel process and its queues.

Owns the child started with ``python -m bridge.runtime.child`` (marimo's
``python -m marimo._ipc.launch_kernel`` plus the bridge's hooks): starts it,
sends it commands, interrupts and stops it. Its stream of notifications is
read by stream.StreamReader. Knows nothing about Jupyter.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.runtime import channel, launch_config
from bridge.runtime.stream import OnNotifications, StreamReader, exited

OnExit = Callable[[int | None], None]

# A send to a runtime that never connected would block forever: give up then.
SEND_TIMEOUT_MS = 10_000


# UI commands: sent on the control and the UI-element queue.
_BATCHABLE = frozenset({"UpdateUIElementCommand", "ModelCommand"})


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
        self._stream: StreamReader | None = None
        self._stopping = False
        self._channel_dir: Path | None = None
        self._prefix = ""
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
        self._stream = StreamReader(
            self._queues.conn.stream,
            self._proc,
            self._on_notifications,
            lambda: self._on_exit(self.returncode),
        )
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
        on_loop = self._loop is not None and channel.stop_receiver(self._queues.conn)
        ready = self._proc.stdout.readline()
        if ready.strip() != b"KERNEL_READY":
            code = self._proc.wait()
            raise RuntimeStartError(f"the marimo runtime failed to start (exit code {code})")
        info_line = self._proc.stdout.readline().split()
        self.pid = int(info_line[1]) if len(info_line) >= 2 else self._proc.pid
        if self._stopping:  # stop() ran meanwhile: nothing to read or send
            raise RuntimeStartError("the marimo runtime was stopped while it started")
        self._stream.start(self._loop if on_loop else None)
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
        return self._proc is None or exited(self._proc)

    def send(self, command: Any) -> None:
        self._queues.control_queue.put(command)
        if type(command).__name__ in _BATCHABLE:
            # As marimo's own server routes them (marimo._session.queue): the
            # runtime reads the copy on this queue to merge waiting UI
            # commands, and forgets a command's token only once it has both.
            self._queues.set_ui_element_queue.put(command)

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
        if self._stream is not None:
            self._stream.close()  # this exit is not news: none is reported
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
        if self._queues is not None:
            self._queues.close_queues()
            self._queues = None
        channel.remove(self._channel_dir)
        self._channel_dir = None
