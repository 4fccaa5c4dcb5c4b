"""The kernel application: ipykernel's, minus two costs the bridge never needs.

* No shell-channel thread. ipykernel 7 receives shell messages on a thread of
  its own and passes each to the main thread over an inproc socket (and each
  reply back), for subshells; the bridge offers none (kernel_info lists no
  "kernel subshells"), so the shell socket is served on the main loop.
* No IOPub thread: IOPub is sent from the kernel's loop (see iopub.py).
* No log records built for debug lines that no handler shows.
* Headers and other small flat dicts packed by msgspec (see session.py).
* No round trip per flush of the bridge's own stdout/stderr (see
  ``LazyFlushOutStream``).
"""

from __future__ import annotations

from typing import Any

import zmq
from ipykernel.iostream import OutStream
from ipykernel.kernelapp import IPKernelApp

from bridge.jupyter.iopub import LoopIOPub
from bridge.jupyter.session import KernelSession


class LazyFlushOutStream(OutStream):
    """ipykernel's OutStream, whose flush returns at once when nothing waits.

    ipykernel flushes sys.stdout and sys.stderr before every reply and again
    before every idle; each flush from the main thread hands a flush and an
    event to the IOPub thread and blocks until that thread has run both: four
    thread round trips per request, though the bridge writes nothing there
    (cells run in the runtime process). Text that was written and not yet
    sent still goes out before the reply, as before.
    """

    def flush(self) -> None:
        # write() sets _flush_pending (in this process) or
        # _subprocess_flush_pending (after a fork) until _flush has taken the
        # buffers; with neither set there is nothing to send.
        if self._flush_pending or self._subprocess_flush_pending:
            super().flush()


class MarimoKernelApp(IPKernelApp):
    def _session_default(self) -> KernelSession:
        return KernelSession(parent=self)

    def init_path(self) -> None:
        # IPython's shell app puts the current folder on sys.path for the
        # user's imports. No user code runs in this process (cells run in
        # the runtime, which has marimo's own rule), and a notebook named
        # like a module (markdown.py) would shadow it for marimo here.
        pass

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        # traitlets leaves the logger at DEBUG and filters in its handlers, so
        # ipykernel's four log.debug calls per request each build a record
        # that is thrown away. At the lowest level a handler takes, a call
        # below it returns at once.
        levels = [h.level for h in self.log.handlers]
        if levels and min(levels) > self.log.level:
            self.log.setLevel(min(levels))

    def init_iopub(self, context: Any) -> None:
        # ipykernel's, with LoopIOPub for its IOPubThread.
        self.iopub_socket = context.socket(zmq.XPUB)
        self.iopub_socket.linger = 1000
        self._apply_curve_server_options(self.iopub_socket)
        self.iopub_port = self._bind_socket(self.iopub_socket, self.iopub_port)
        self.configure_tornado_logger()
        self.iopub_thread = LoopIOPub(self.iopub_socket, session=self.session)
        self.iopub_socket = self.iopub_thread.background_socket

    def init_sockets(self) -> None:
        super().init_sockets()
        thread = self.shell_channel_thread
        if thread is not None:
            self.shell_channel_thread = None
            thread.io_loop.close(all_fds=True)  # created, never started
