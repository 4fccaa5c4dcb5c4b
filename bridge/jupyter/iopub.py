"""IOPub published from the kernel's own loop, with no IOPub thread.

ipykernel hands every IOPub message to a thread of its own: a wake-up over
an inproc socket and a GIL hand-over per message, five or more per request,
and an execute_reply that must wait for that thread before it may go
(ipykernel's 0.5 ms ``_execute_sleep``). The thread is there so that output written
while the main thread is busy running user code still gets out. Here no user
code runs in this process: cells run in the marimo runtime, and the kernel's
loop only awaits. So messages sent on the loop go straight to the socket, in
the order they were sent, and messages from other threads (the control
thread's status messages, a stray write to this process's stdout) are handed
to the loop, which is never blocked for long.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import zmq
from ipykernel.iostream import BackgroundSocket, IOPubThread
from tornado.ioloop import IOLoop
from zmq.eventloop.zmqstream import ZMQStream


class LoopIOPub(IOPubThread):
    """ipykernel's IOPubThread minus the thread (an IOPubThread for OutStream's sake).

    Made in the main thread before its loop starts: ``IOLoop.current()`` is
    the loop the kernel's shell stream runs on too.
    """

    def __init__(self, socket: Any, session: Any) -> None:
        # Not IOPubThread.__init__: it builds a second loop, a thread, inproc
        # event pipes and a TCP pipe for forked children, none of them used.
        self.socket = socket
        self.session = session
        self._stopped = False
        self.background_socket = BackgroundSocket(self)
        self._master_pid = os.getpid()
        self._pipe_flag = False
        self.io_loop = IOLoop.current()
        self._loop_thread = threading.get_ident()
        # No thread: OutStream.flush then sends at once instead of waiting
        # for one (its check is ``thread is not None and thread.is_alive()``).
        self.thread = None
        self._xpub_stream: ZMQStream | None = None
        self._setup_xpub_listener()  # iopub_welcome on subscription, on this loop

    def start(self) -> None:
        """Nothing to start: the kernel's loop serves the socket."""

    def stop(self) -> None:
        self._stopped = True

    def schedule(self, f: Callable[[], Any]) -> None:
        """Run ``f`` now on the loop's thread, else hand it to the loop (in order)."""
        if self._stopped or threading.get_ident() == self._loop_thread:
            f()
            return
        try:
            self.io_loop.add_callback(f)
        except RuntimeError:
            f()  # the loop is closed: the kernel is going away, send it now

    def _really_send(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super()._really_send(msg, *args, **kwargs)
        # A send may take in a subscription that arrived meanwhile, and with
        # it the edge of the socket's fd that would wake the stream reading
        # subscriptions: the new subscriber would get no welcome. Look, as
        # ZMQStream does after its own sends.
        stream, socket = self._xpub_stream, self.socket
        if stream is None or socket is None:
            return
        try:
            waiting = socket.getsockopt(zmq.EVENTS) & zmq.POLLIN
        except zmq.ZMQError:
            return  # closed meanwhile
        if waiting:
            self.io_loop.add_callback(self._read_subscriptions)

    def _read_subscriptions(self) -> None:
        stream = self._xpub_stream
        if stream is not None and not stream.closed():
            stream.flush(zmq.POLLIN)

    def send_multipart(self, *args: Any, **kwargs: Any) -> None:
        if threading.get_ident() == self._loop_thread:
            self._really_send(*args, **kwargs)  # as schedule would, without the lambda
        else:
            super().send_multipart(*args, **kwargs)

    def close(self) -> None:
        if self._xpub_stream is not None:
            self._xpub_stream.close()  # closes the socket too
            self._xpub_stream = None
        super().close()


class IOPubSender:
    """One IOPub message under a parent, with the kernel's topic, as
    ipykernel's Kernel sends its own (the parts of the kernel share it)."""

    def __init__(self, session: Any, socket: Any, topic: Callable[[str], bytes]) -> None:
        self._session = session
        self._socket = socket
        self._topic = topic

    def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        parent: dict[str, Any],
        buffers: list[bytes | memoryview[bytes]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._session.send(
            self._socket, msg_type, content, parent=parent, ident=self._topic(msg_type),
            buffers=buffers, metadata=metadata,
        )
