"""The marimo twin: how soon a change is on disk, and what a burst costs.

Through a real kernel (jupyter_client, installed kernelspec):
* 500-cell notebook: an execute_request that changes one cell of a loaded
  500-cell twin, timed from the request until the file on disk holds the new
  code (polled every 0.5 ms), against the request's own reply time;
* 1,000 code-mode transactions in one scratchpad request (each ``async with
  cm.get_context()`` is one transaction): the time until the file holds all
  of them, the writes issued (the writer's temporary files, each with a
  unique name, counted with inotify: identical events may be merged),
  and whether the final file parses with every cell in it.
Prints a table and merges its rows into bench/results.json.
"""

from __future__ import annotations

import ctypes
import os
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from frontend import warm_completion
from helpers import collect, execute
from jupyter_client.manager import start_new_kernel
from results import save

from bridge.notebook.document import CellState
from bridge.twin import pyfile

ROUNDS = 7
BURST = 1000
IN_CREATE = 0x100


class WriteCounter:
    """Counts the twin writer's temporary files (one per write), via inotify."""

    def __init__(self, folder: Path, name: str) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK)
        self._libc.inotify_add_watch(self._fd, str(folder).encode(), IN_CREATE)
        self._prefix = f".{name}.".encode()
        self.count = 0

    def drain(self) -> int:
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return self.count
            offset = 0
            while offset < len(data):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\0")
                self.count += name.startswith(self._prefix) and name.endswith(b".tmp")
                offset += 16 + length

    def close(self) -> None:
        os.close(self._fd)


def wait_for(predicate: object, timeout: float = 120) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():  # type: ignore[operator]
            return time.perf_counter()
        time.sleep(0.0005)
    raise TimeoutError("the twin never got there")


def start(folder: Path) -> tuple[object, object]:
    env = {**os.environ, "MARIMO_BRIDGE_NOTEBOOK": str(folder / "nb.ipynb")}
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(folder), env=env)
    warm_completion(kc)
    return km, kc


def five_hundred_cells(folder: Path) -> dict[str, float]:
    twin = folder / "nb.py"
    cells = [CellState(f"c{i}", f"v{i} = {i}") for i in range(500)]
    twin.write_text(pyfile.render(cells, None))
    km, kc = start(folder)
    try:
        execute(kc, "warm = 1")
        to_disk, to_reply = [], []
        for r in range(ROUNDS):
            code = f"v250 = {1000 + r}"
            t0 = time.perf_counter()
            execute(kc, code)
            t_reply = time.perf_counter()
            t_disk = wait_for(lambda c=code: c in twin.read_text())  # type: ignore[misc]
            to_reply.append(t_reply - t0)
            to_disk.append(t_disk - t0)
    finally:
        kc.stop_channels()  # type: ignore[attr-defined]
        km.shutdown_kernel()  # type: ignore[attr-defined]
    return {
        "reply_median_ms": statistics.median(to_reply) * 1000,
        "on_disk_median_ms": statistics.median(to_disk) * 1000,
        "rounds": ROUNDS,
    }


def code_mode_burst(folder: Path) -> dict[str, float]:
    twin = folder / "nb.py"
    km, kc = start(folder)
    counter = WriteCounter(folder, "nb.py")
    try:
        execute(kc, "x = 0", cell_id="root")
        wait_for(lambda: twin.exists())
        counter.drain()
        counter.count = 0
        burst = (
            "%%scratch\nimport marimo._code_mode as cm\n"
            f"for i in range({BURST}):\n"
            "    async with cm.get_context() as ctx:\n"
            "        ctx.create_cell(f'b{i} = x + {i}')\n"
        )
        t0 = time.perf_counter()
        msg_id = kc.execute(burst)  # type: ignore[attr-defined]
        result = collect(kc, msg_id, timeout=600)  # type: ignore[arg-type]
        t_reply = time.perf_counter()
        marker = f"b{BURST - 1} = x + {BURST - 1}"
        t_disk = wait_for(lambda: marker in twin.read_text())
        writes = counter.drain()
    finally:
        counter.close()
        kc.stop_channels()  # type: ignore[attr-defined]
        km.shutdown_kernel()  # type: ignore[attr-defined]
    found = pyfile.parse(twin.read_text(), lambda: "")
    codes = [c.code for c in found.cells]
    correct = codes == ["x = 0"] + [f"b{i} = x + {i}" for i in range(BURST)]
    return {
        "reply_s": t_reply - t0,
        "on_disk_s": t_disk - t0,
        "writes": writes,
        "final_file_correct": float(correct and result.status == "ok"),
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        big = five_hundred_cells(Path(a))
        burst = code_mode_burst(Path(b))
    print("\nmarimo twin")
    rows = [
        ("500-cell twin: execute reply, median", f"{big['reply_median_ms']:.1f} ms"),
        ("500-cell twin: request to file on disk, median", f"{big['on_disk_median_ms']:.1f} ms"),
        (f"{BURST} code-mode transactions: reply", f"{burst['reply_s']:.2f} s"),
        (f"{BURST} code-mode transactions: all on disk", f"{burst['on_disk_s']:.2f} s"),
        (f"{BURST} code-mode transactions: writes issued", str(int(burst["writes"]))),
        ("final file parses with every cell, in order", str(bool(burst["final_file_correct"]))),
    ]
    print(f"{'measure':<52} {'value':>12}")
    for name, value in rows:
        print(f"{name:<52} {value:>12}")
    save("twin", {"five_hundred_cells": big, "code_mode_burst": burst})
    return 0 if burst["final_file_correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
