"""The runtime's SIGINT guard, with real signals in a separate Python.

Each script runs in its own interpreter so its SIGINT handler and threads do
not meet pytest's. What the kernel user sees (a printing cell that always
stops) is tests/test_faults.py::test_interrupting_a_printing_cell_never_hangs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import FrameType

import pytest

from bridge.runtime import child
from bridge.runtime.interrupt_guard import InterruptGuard, unsafe

# Every script: a guarded handler that raises, as marimo's does, and a
# Condition over a plain Lock, as marimo's console has.
PREAMBLE = """
import collections, os, signal, threading
from bridge.runtime.interrupt_guard import InterruptGuard

def interrupt(signum, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGINT, InterruptGuard(interrupt))
cv = threading.Condition(threading.Lock())
"""


def run(script: str, timeout: float = 120) -> str:
    """Run PREAMBLE, then ``script``, in a Python of its own; what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", PREAMBLE + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_interrupts_of_a_condition_loop_never_strand_its_lock_or_a_wakeup() -> None:
    # The shape of marimo's console: the main thread appends and notifies, a
    # writer thread waits and drains. Without the guard, about a quarter of
    # these interrupts leave the lock held (CPython 3.11): the next `with cv`
    # waits for ever. One inside notify() can leave the writer asleep.
    out = run(
        """
        items = collections.deque()
        drained = threading.Event()

        def writer():
            while True:
                with cv:
                    while not items:
                        cv.wait()
                    while items:
                        if items.popleft() == "check":
                            drained.set()

        threading.Thread(target=writer, daemon=True).start()
        stranded = asleep = delivered = 0
        for _ in range(300):
            timer = threading.Timer(0.001, os.kill, (os.getpid(), signal.SIGINT))
            try:
                timer.start()  # its signal may land before start() returns
                while True:
                    with cv:
                        items.append(1)
                        cv.notify()
            except KeyboardInterrupt:
                delivered += 1
            timer.join()
            if cv._lock.acquire(timeout=5):
                cv._lock.release()
            else:  # held by nobody: free it, for the writer
                stranded += 1
                cv._lock.release()
                continue
            drained.clear()
            with cv:
                items.append("check")
                cv.notify()
            if not drained.wait(5):
                asleep += 1
        print(delivered, stranded, asleep)
        """
    )
    assert out == "300 0 0"


def test_a_thread_waiting_for_a_held_lock_is_still_interrupted() -> None:
    # Waiting inside Condition.__enter__ is an unsafe frame too: the guard
    # holds back only so long, then the interrupt lands in the wait.
    out = run(
        """
        taken, release = threading.Event(), threading.Event()

        def hold():
            with cv:
                taken.set()
                release.wait(60)
        holder = threading.Thread(target=hold)
        holder.start()
        taken.wait()
        try:
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
            with cv:
                print("entered")
        except KeyboardInterrupt:
            print("interrupted while held" if not release.is_set() else "interrupted late")
        release.set()
        holder.join()
        """
    )
    assert out == "interrupted while held"


def test_the_hook_wraps_the_handler_marimo_installs(monkeypatch: pytest.MonkeyPatch) -> None:
    # marimo builds its SIGINT handler in a private module; an upgrade that
    # moves it must fail here rather than leave the runtime unguarded.
    from marimo._runtime import handlers

    monkeypatch.setattr(handlers, "construct_interrupt_handler", handlers.construct_interrupt_handler)
    child.install_interrupt_guard()
    handler = handlers.construct_interrupt_handler()
    assert isinstance(handler, InterruptGuard)
    assert callable(handler._handler)
    # Outside a cell, marimo's own handler does nothing: the guard passes
    # the call through without raising.
    try:
        handler(2, sys._getframe())
    finally:
        handler.close()


def test_the_frames_where_a_raise_strands_a_lock_or_a_wakeup_are_the_unsafe_ones() -> None:
    # Raising inside these leaves a lock held or a stale waiter behind: the
    # guard holds the interrupt back there, and nowhere else in them.
    import threading

    cv = threading.Condition(threading.Lock())
    frames: dict[str, FrameType] = {}

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == threading.__file__:
            frames.setdefault(frame.f_code.co_qualname, frame)

    sys.setprofile(profile)
    try:
        with cv:
            cv.notify()
            cv.wait(timeout=0)
    finally:
        sys.setprofile(None)
    guarded = {name for name, frame in frames.items() if unsafe(frame)}
    assert guarded == {
        "Condition.__enter__",
        "Condition.__exit__",
        "Condition.notify",
        "Condition._release_save",
        "Condition._acquire_restore",
    }
    assert "Condition.wait" in frames and not unsafe(frames["Condition.wait"])
