"""The kernel application: ipykernel's, minus two costs the bridge never needs.

* No shell-channel thread. ipykernel 7 receives shell messages on a thread of
  its own and passes each to the main thread over an inproc socket (and each
  reply back), for subshells; the bridge offers none (kernel_info lists no
  "kernel subshells"), so the shell socket is served on the main loop.
* No round trip per flush of the bridge's own stdout/stderr (see
  ``LazyFlushOutStream``).
"""

from __future__ import annotations

from ipykernel.iostream import OutStream
from ipykernel.kernelapp import IPKernelApp


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
    def init_sockets(self) -> None:
        super().init_sockets()
        thread = self.shell_channel_thread
        if thread is not None:
            self.shell_channel_thread = None
            thread.io_loop.close(all_fds=True)  # created, never started
