"""SIGINT in the runtime, held back where raising would leave a lock held.

marimo's interrupt handler raises KeyboardInterrupt wherever the main thread
is. Python runs signal handlers between bytecodes, and that includes the
bytecodes of ``threading.Condition.__enter__`` right after its lock was taken
and of ``Condition.__exit__`` before the lock is given back. Raised there,
the ``with`` statement never reaches its exit, and the lock stays held by
nobody. marimo's console (``print``) goes through such a Condition, so an
interrupt of a printing cell hung the runtime for good, about once in a
hundred or two: both the cell and marimo's console writer waited for a lock
that no thread would release, and no later interrupt could help.

The guard wraps the handler marimo installs. When the interrupted frame is
one of those functions, it calls nothing now and has the signal sent again
a moment later (a backstop thread, every millisecond while one is held
back), when the main thread has moved on. A printing cell's main thread is
in those functions much of the time, so this can take a few dozen tries.
After MAX_RETRIES the signal goes through wherever it lands, so a main
thread blocked in one of them (waiting for a lock another thread holds) is
still interruptible, only a second or so later.

(Raising the signal again from the handler itself, to be handled at the next
bytecode check, does not work: ``signal.raise_signal``, ``os.kill`` and
``signal.pthread_kill`` all run the pending handler before returning, so the
guard would recurse.)

``Condition.notify`` is guarded too: raised between releasing a waiter and
dropping it from the list, it leaves a stale entry, and a later notify wakes
nobody (marimo's console writer would sleep through the cell's last output,
until the end-of-cell flush gives up after 5 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

Handler = Callable[[int, "FrameType | None"], Any]

RETRY_DELAY_S = 0.001  # the backstop's period
# Then the signal goes through wherever it lands: about a second when the
# main thread is blocked (each try costs the delay), far more than a printing
# cell ever needed (each try also waits for the GIL there).
MAX_RETRIES = 1000

# Where a raise strands a taken lock: between acquiring and entering the
# ``with`` body, or between leaving it and releasing. A generator-based
# context manager (contextlib.contextmanager) has the same gap: its generator
# stays suspended, lock taken, for as long as the exception's traceback keeps
# it alive, and marimo keeps a cell's exception.
UNSAFE_CODE: frozenset[CodeType] = frozenset(
    {
        threading.Condition.__enter__.__code__,
        threading.Condition.__exit__.__code__,
        threading.Condition.notify.__code__,  # notify_all calls it
        # A Condition over a plain Lock releases and retakes it in Python.
        threading.Condition._release_save.__code__,  # type: ignore[attr-defined]
        threading.Condition._acquire_restore.__code__,  # type: ignore[attr-defined]
        contextlib._GeneratorContextManager.__enter__.__code__,
        contextlib._GeneratorContextManager.__exit__.__code__,
    }
)


def unsafe(frame: FrameType | None) -> bool:
    """Whether raising in ``frame`` now could leave a lock held."""
    # A second SIGINT can arrive while the guard itself runs: what it
    # interrupted is the frame below the guard's.
    while frame is not None and frame.f_code is _GUARD_CALL:
        frame = frame.f_back
    return frame is not None and frame.f_code in UNSAFE_CODE


class InterruptGuard:
    """A SIGINT handler that defers ``handler`` out of the unsafe frames."""

    def __init__(self, handler: Handler, signum: int = signal.SIGINT) -> None:
        self._handler = handler
        self._signum = signum
        # Tries of the signal now held back; 0: none is held back. Only the
        # main thread (running handlers) writes it.
        self._retries = 0
        self._main = threading.main_thread().ident
        # A forked child (multiprocessing) inherits the handler, not the
        # backstop thread: there the guard stands aside.
        self._pid = os.getpid()
        # The handler must not take a Python lock itself (it may run inside
        # the very Condition it avoids), so it only writes a byte to wake
        # the backstop, a thread started now, outside any handler.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        threading.Thread(target=self._backstop, name="bridge-sigint-retry", daemon=True).start()

    def __call__(self, signum: int, frame: FrameType | None) -> Any:
        if self._retries < MAX_RETRIES and os.getpid() == self._pid and unsafe(frame):
            self._retries += 1
            # Counted first: the write lets the backstop run, and it stops
            # when it finds nothing held back.
            if self._retries == 1:
                try:
                    os.write(self._wake_w, b"\0")
                except OSError:
                    pass  # a full pipe: the backstop is awake anyway
            return None
        self._retries = 0
        return self._handler(signum, frame)

    def close(self) -> None:
        """Stop the backstop thread (the runtime never needs to; tests do)."""
        os.close(self._wake_w)

    def _backstop(self) -> None:
        while True:
            try:
                if not os.read(self._wake_r, 4096):
                    break  # closed
            except OSError:
                break
            # The check and the send hold the GIL together, so a signal that
            # went through meanwhile is never sent twice.
            while self._retries:
                time.sleep(RETRY_DELAY_S)
                if not self._retries:
                    break
                try:
                    # To the main thread: a blocking call there wakes (EINTR)
                    # and runs the handler.
                    signal.pthread_kill(self._main or 0, self._signum)
                except (OSError, ValueError):
                    os.kill(os.getpid(), self._signum)
        os.close(self._wake_r)


_GUARD_CALL = InterruptGuard.__call__.__code__
