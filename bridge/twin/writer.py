"""The twin writer: saves the document to its .py off the execute path.

One worker thread does every save, so saves are serialized and a slow old
save can never land after a newer one. Submitting only replaces the pending
snapshot: a burst of changes gives few writes, and the last state is always
the one written. Each write is atomic (a temporary file in the same folder,
fsync, rename), an unchanged text is not rewritten, and a file that changed
on disk since the kernel last read or wrote it is never overwritten.

A save is not free: marimo's codegen compiles every cell (about 0.33 s of
CPU at 1,000 cells here, 0.46 s without codegen_speedup.py), on this
thread, holding the GIL the kernel's event loop needs. Saving
after every request of a burst (Run All, an agent's loop) made a 1,000-cell
edit-run five times slower. So after a save that took ``t`` of this
thread's CPU, the next one starts no sooner than ``t * (1 / SAVE_SHARE - 1)``
later (at most ``MAX_PAUSE``): saves take at most ``SAVE_SHARE`` of the
kernel's time, a small notebook's next save still starts at once (its saves
take milliseconds), and ``flush`` (a shutdown) does not wait. CPU, not
wall time: a slow disk's fsync holds no GIL and earns no pause.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bridge.notebook.document import CellState
from bridge.twin import order

log = logging.getLogger(__name__)

# At most this share of the kernel's time goes to saving the twin.
SAVE_SHARE = 0.2
# However costly the last save, the next waits no longer than this.
MAX_PAUSE = 5.0


@dataclass(frozen=True)
class Snapshot:
    version: int
    cells: list[CellState]
    jupyter_ids: dict[str, str]  # cell id -> Jupyter id, where one is known


class TwinWriter:
    def __init__(
        self,
        path: Path,
        on_disk: str | None,
        notebook: order.NotebookReader,
        render: Callable[[list[CellState]], str],
    ) -> None:
        """``render``: the file's text for the cells (pyfile.render with the
        file's template)."""
        self.path = path
        # The text the kernel last read from or wrote to the file (None:
        # absent). Anything else found there was written by someone else.
        self._on_disk = on_disk
        self._notebook = notebook
        self._render = render
        self._cond = threading.Condition()
        self._pending: Snapshot | None = None
        self._busy = False
        self._closed = False
        self._hurry = False  # flush: save what is pending without the pause
        self._not_before = 0.0  # monotonic time the next save may start
        self._failure: str | None = None
        self._failure_told = False
        self.writes = 0
        self.saved_version = -1
        self._thread = threading.Thread(target=self._run, name="marimo-twin-writer", daemon=True)
        self._thread.start()

    # -- loop side -------------------------------------------------------
    def submit(self, snapshot: Snapshot) -> None:
        with self._cond:
            self._pending = snapshot
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every submitted snapshot is saved (or failed)."""
        with self._cond:
            self._hurry = True
            self._cond.notify_all()
            try:
                return self._cond.wait_for(
                    lambda: self._pending is None and not self._busy, timeout
                )
            finally:
                self._hurry = False

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take_failure(self) -> str | None:
        """A save failure not yet told to the user (once until a save works)."""
        with self._cond:
            if self._failure is None or self._failure_told:
                return None
            self._failure_told = True
            return self._failure

    # -- worker ------------------------------------------------------------
    def _due(self) -> bool:
        return self._hurry or self._closed or time.monotonic() >= self._not_before

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                while self._pending is not None and not self._due():
                    self._cond.wait(self._not_before - time.monotonic())
                if self._pending is None:
                    return
                snapshot, self._pending = self._pending, None
                self._busy = True
            cpu = time.thread_time()
            try:
                failure = self._save(snapshot)
            except Exception as exc:  # never let one bad save end the writer
                log.warning("twin save failed", exc_info=True)
                failure = f"{type(exc).__name__}: {exc}"
            took = time.thread_time() - cpu
            with self._cond:
                pause = min(took * (1 / SAVE_SHARE - 1), MAX_PAUSE)
                self._not_before = time.monotonic() + pause
                self._busy = False
                if failure is None:
                    self._failure, self._failure_told = None, False
                    self.saved_version = snapshot.version
                elif failure != self._failure:
                    self._failure, self._failure_told = failure, False
                self._cond.notify_all()

    def _save(self, snapshot: Snapshot) -> str | None:
        cells = self._in_notebook_order(snapshot)
        text = self._render(cells)
        current = _read(self.path)
        if current is not None and current != self._on_disk:
            return (
                f"{self.path} was changed outside this kernel, so it was not "
                "overwritten; restart the kernel to load it, or move it away "
                "to let the kernel write it anew"
            )
        if text == current:
            return None
        try:
            _atomic_write(self.path, text)
        except OSError as exc:
            return f"could not save {self.path}: {exc.strerror or exc}"
        self._on_disk = text
        self.writes += 1
        return None

    def _in_notebook_order(self, snapshot: Snapshot) -> list[CellState]:
        nb_cells = self._notebook.cells()
        if not nb_cells:
            return snapshot.cells
        codes = [(c.id, snapshot.jupyter_ids.get(c.id), c.code) for c in snapshot.cells]
        by_id = {c.id: c for c in snapshot.cells}
        ids = order.ordered([c.id for c in snapshot.cells], order.align(codes, nb_cells))
        return [by_id[i] for i in ids]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "\0unreadable"  # never equal to what we wrote: not ours to touch


def _atomic_write(path: Path, text: str) -> None:
    folder = path.parent
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
