"""Bigger scenarios (issue 7): the bridge next to the floor and ipykernel.

Each row runs, in one run and interleaved round by round (the order rotates),
against marimo's runtime driven directly over its IPC (the floor, see
``floor.py``), the bridge kernel ``marimo`` and, where the work is
comparable, ipykernel's ``python3``:

* chain: re-run the root of a registered chain of 100 cells
  (``v{i} = v{i-1} + 1``). Floor: ExecuteCellsCommand on the root until its
  completed-run; bridge: execute_request with the root's cellId until reply
  and idle. ipykernel has no dependents: its column is a *reference*, the
  100 cells' requests sent at once (JupyterLab's Run All), replies and idle.
* fan-out: the same for one root with 200 direct dependents
  (``f{i} = r + {i}``); ipykernel reference: 201 requests at once.
* print: one cell printing 100,000 lines; floor until completed-run (every
  console message arrives before it), Jupyter until reply and idle with every
  stream message read.
* Run All of a registered 50-cell chain: the bridge gets JupyterLab's 50
  requests at once (waits for every reply and idle); the floor runs the same
  50 cells in one ExecuteCellsCommand; ipykernel the same 50 requests.
* kernel start: KernelManager.start_kernel to the first kernel_info_reply, and
  to the reply of a first ``execute_request`` of ``1`` (sent right after the
  kernel_info reply). Floor: launch to KERNEL_READY, and to the completed-run
  of a first run of ``1``.
* memory: RSS of the kernel process after 0, 500 and 1,000 trivial requests
  (``x_bench = 1`` with a cellId); for the bridge also its runtime child; the
  floor's runtime process after as many runs.

Kernels run in a temporary directory and without a notebook path (no twin).
Prints one table and merges its rows into bench/results.json ("scenarios").
Every kernel and runtime started is shut down; a leftover is reported.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import psutil  # noqa: E402
from floor import Floor  # noqa: E402
from frontend import execute, send_execute, wait, warm_completion  # noqa: E402
from helpers import runtime_process  # noqa: E402
from jupyter_client.manager import KernelManager, start_new_kernel  # noqa: E402
from results import save  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
WARMUP = 1
START_ROUNDS = int(os.environ.get("BENCH_START_ROUNDS", "5"))
MEMORY_REQUESTS = 1000
TIMEOUT = 600
PRINT_CODE = "for i in range(100_000): print(i)"

STARTED: list[int] = []  # every pid started, checked at the end
SPAWN_DELAY: list[float] = []  # bridge: runtime child's start after the kernel's (s)


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p90_ms": ordered[max(0, math.ceil(len(ordered) * 0.9) - 1)] * 1000,
        "min_ms": ordered[0] * 1000,
        "max_ms": ordered[-1] * 1000,
        "n": len(ordered),
    }


# -- the three backends --------------------------------------------------
class Jupyter:
    """A kernel through jupyter_client, driven as JupyterLab does."""

    def __init__(self, name: str, cwd: str, env: dict[str, str] | None = None) -> None:
        self.name = name
        extra = {"env": {**os.environ, **env}} if env else {}
        self.km, self.kc = start_new_kernel(kernel_name=name, cwd=cwd, **extra)
        warm_completion(self.kc)
        self.pid = self.km.provisioner.process.pid  # type: ignore[union-attr]
        STARTED.append(self.pid)
        self.runtime_pid: int | None = None
        if name == "marimo":
            self.runtime_pid = runtime_process(self.km).pid
            STARTED.append(self.runtime_pid)

    def register(self, cells: list[tuple[str, str]]) -> None:
        for cell_id, code in cells:
            result = execute(self.kc, code, cell_id=cell_id, timeout=TIMEOUT)
            assert result.status == "ok", result.reply

    def run_one(self, cell_id: str | None, code: str) -> float:
        start = time.perf_counter()
        result = execute(self.kc, code, cell_id=cell_id, timeout=TIMEOUT)
        elapsed = time.perf_counter() - start
        assert result.status == "ok", result.reply
        return elapsed

    def run_all(self, cells: list[tuple[str, str]]) -> float:
        """Every request sent at once, then every reply and idle."""
        start = time.perf_counter()
        sent = [send_execute(self.kc, code, cell_id) for cell_id, code in cells]
        results = wait(self.kc, sent, timeout=TIMEOUT)
        elapsed = time.perf_counter() - start
        assert all(r.status == "ok" for r in results), [r.reply for r in results]
        return elapsed

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel()


class FloorSide:
    def __init__(self, speedups: bool = True) -> None:
        self.floor = Floor(speedups)
        STARTED.append(self.floor.pid)

    def register(self, cells: list[tuple[str, str]]) -> None:
        self.floor.run(cells)

    def run_one(self, cell_id: str | None, code: str) -> float:
        return self.floor.run([(cell_id or "scratch", code)])

    def run_all(self, cells: list[tuple[str, str]]) -> float:
        return self.floor.run(cells)

    def close(self) -> None:
        self.floor.close()


def interleaved(
    sides: dict[str, Any], rounds: int, work: dict[str, Callable[[Any], float]]
) -> dict[str, dict[str, float]]:
    """``work[name](side)`` for each side, round by round, order rotating."""
    names = list(sides)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds + WARMUP):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            elapsed = work[name](sides[name])
            if r >= WARMUP:
                samples[name].append(elapsed)
    return {n: stats(s) for n, s in samples.items()}


def with_sides(
    setup: Callable[[dict[str, Any]], None], body: Callable[[dict[str, Any]], Any]
) -> Any:
    sides: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cwd:
        try:
            sides["floor"] = FloorSide()
            sides["bridge"] = Jupyter("marimo", cwd)
            sides["ipykernel"] = Jupyter("python3", cwd)
            setup(sides)
            return body(sides)
        finally:
            for side in sides.values():
                side.close()


# -- scenarios -----------------------------------------------------------
def chain_cells(prefix: str, n: int) -> list[tuple[str, str]]:
    return [
        (f"{prefix}{i}", f"{prefix}{i} = {prefix}{i - 1} + 1" if i else f"{prefix}0 = 0")
        for i in range(n)
    ]


def chain() -> dict[str, dict[str, float]]:
    cells = chain_cells("v", 100)

    def setup(sides: dict[str, Any]) -> None:
        sides["floor"].register(cells)
        sides["bridge"].register(cells)

    return with_sides(setup, lambda sides: interleaved(sides, ROUNDS, {
        "floor": lambda s: s.run_one(*cells[0]),
        "bridge": lambda s: s.run_one(*cells[0]),
        "ipykernel": lambda s: s.run_all(cells),
    }))


def fan_out() -> dict[str, dict[str, float]]:
    root = ("r", "r = 0")
    cells = [root] + [(f"f{i}", f"f{i} = r + {i}") for i in range(200)]

    def setup(sides: dict[str, Any]) -> None:
        sides["floor"].register(cells)
        sides["bridge"].register(cells)

    return with_sides(setup, lambda sides: interleaved(sides, ROUNDS, {
        "floor": lambda s: s.run_one(*root),
        "bridge": lambda s: s.run_one(*root),
        "ipykernel": lambda s: s.run_all(cells),
    }))


def printing() -> dict[str, dict[str, float]]:
    return with_sides(lambda sides: None, lambda sides: interleaved(
        sides, max(3, ROUNDS - 2), {n: (lambda s: s.run_one("p", PRINT_CODE)) for n in sides}
    ))


def run_all() -> dict[str, dict[str, float]]:
    cells = chain_cells("w", 50)

    def setup(sides: dict[str, Any]) -> None:
        sides["floor"].register(cells)
        sides["bridge"].register(cells)
        sides["ipykernel"].register(cells)

    def body(sides: dict[str, Any]) -> dict[str, dict[str, float]]:
        # For where the time goes: the bridge re-running only the root, which
        # runs the same 50 cells in one request.
        work: dict[str, Callable[[Any], float]] = {n: (lambda s: s.run_all(cells)) for n in sides}
        work["bridge_root_only"] = lambda s: s.run_one(*cells[0])
        return interleaved({**sides, "bridge_root_only": sides["bridge"]}, ROUNDS, work)

    return with_sides(setup, body)


def start_jupyter(name: str, cwd: str) -> tuple[float, float]:
    km = KernelManager(kernel_name=name)
    start = time.perf_counter()
    km.start_kernel(cwd=cwd)
    STARTED.append(km.provisioner.process.pid)  # type: ignore[union-attr]
    kc = km.client()
    kc.start_channels()
    try:
        msg_id = kc.kernel_info()
        while kc.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
            pass
        t_info = time.perf_counter() - start
        msg_id = send_execute(kc, "1")
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        t_exec = time.perf_counter() - start
        assert reply["content"]["status"] == "ok", reply["content"]
        if name == "marimo":
            child = runtime_process(km)
            STARTED.append(child.pid)
            kernel = psutil.Process(km.provisioner.process.pid)  # type: ignore[union-attr]
            SPAWN_DELAY.append(child.create_time() - kernel.create_time())
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    return t_info, t_exec


def start_floor() -> tuple[float, float]:
    floor = Floor()
    STARTED.append(floor.pid)
    try:
        floor.run([("one", "1")])
        t_exec = time.perf_counter() - floor.t_launch
    finally:
        floor.close()
    return floor.t_ready - floor.t_launch, t_exec


def kernel_start() -> dict[str, dict[str, dict[str, float]]]:
    info: dict[str, list[float]] = {"floor": [], "bridge": [], "ipykernel": []}
    first: dict[str, list[float]] = {"floor": [], "bridge": [], "ipykernel": []}
    with tempfile.TemporaryDirectory() as cwd:
        runs: dict[str, Callable[[], tuple[float, float]]] = {
            "floor": start_floor,
            "bridge": lambda: start_jupyter("marimo", cwd),
            "ipykernel": lambda: start_jupyter("python3", cwd),
        }
        names = list(runs)
        for r in range(START_ROUNDS):
            for name in names[r % 3:] + names[: r % 3]:
                t_info, t_exec = runs[name]()
                info[name].append(t_info)
                first[name].append(t_exec)
    return {
        "kernel_info": {n: stats(s) for n, s in info.items()},
        "first_execute": {n: stats(s) for n, s in first.items()},
        "bridge_runtime_spawned_after_kernel_s": statistics.median(SPAWN_DELAY),
    }


def rss_mb(pid: int | None) -> float | None:
    return None if pid is None else psutil.Process(pid).memory_info().rss / 2**20


def memory() -> dict[str, dict[str, Any]]:
    checkpoints = (0, MEMORY_REQUESTS // 2, MEMORY_REQUESTS)
    out: dict[str, dict[str, Any]] = {}

    def body(sides: dict[str, Any]) -> None:
        for name in sides:
            out[name] = {"process_mb": {}, "runtime_mb": {}}
        for i in range(MEMORY_REQUESTS + 1):
            for name, side in sides.items():
                if i in checkpoints:
                    if name == "floor":
                        out[name]["process_mb"][i] = rss_mb(side.floor.pid)
                    else:
                        out[name]["process_mb"][i] = rss_mb(side.pid)
                        if side.runtime_pid is not None:
                            out[name]["runtime_mb"][i] = rss_mb(side.runtime_pid)
                if i < MEMORY_REQUESTS:
                    side.run_one("bench", "x_bench = 1")

    with_sides(lambda sides: None, body)
    return out


# -- report --------------------------------------------------------------
def orphans() -> list[int]:
    deadline = time.monotonic() + 15
    alive: list[int] = []
    while time.monotonic() < deadline:
        alive = []
        for pid in STARTED:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            break
        time.sleep(0.1)
    return alive


def cell(row: dict[str, float] | None, unit: str = "ms") -> str:
    if row is None:
        return "-"
    if unit == "s":
        return f"{row['median_ms'] / 1000:.2f} s ({row['p90_ms'] / 1000:.2f})"
    return f"{row['median_ms']:.1f} ({row['p90_ms']:.1f})"


def main() -> int:
    results: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("chain_100", chain),
        ("fan_out_200", fan_out),
        ("print_100k", printing),
        ("run_all_50", run_all),
        ("kernel_start", kernel_start),
        ("memory", memory),
    ]
    for key, fn in steps:
        t0 = time.perf_counter()
        print(f"{key} ...", end=" ", flush=True)
        results[key] = fn()
        print(f"{time.perf_counter() - t0:.1f} s", flush=True)

    table: list[tuple[str, str, str, str, str, str, str]] = []

    def timed(label: str, rows: dict[str, dict[str, float]], limit: float, ipy_note: str = "",
              unit: str = "ms") -> None:
        ratio = rows["bridge"]["median_ms"] / rows["floor"]["median_ms"]
        table.append((label, cell(rows["floor"], unit), cell(rows["bridge"], unit),
                      cell(rows["ipykernel"], unit) + ipy_note, f"{ratio:.2f}x",
                      f"<= {limit}x floor", "yes" if ratio <= limit else "NO"))

    timed("chain 100: re-run root", results["chain_100"], 1.15, " [ref: 100 reqs]")
    timed("fan-out 200: re-run root", results["fan_out_200"], 1.15, " [ref: 201 reqs]")
    timed("print 100,000 lines", results["print_100k"], 1.15)
    timed("Run All, 50-cell chain", results["run_all_50"], 1.2)
    root_only = results["run_all_50"]["bridge_root_only"]
    table.append((" (bridge: 1 request, root only)", "", cell(root_only), "",
                  f"{root_only['median_ms'] / results['run_all_50']['floor']['median_ms']:.2f}x",
                  "", ""))
    for key, label, limit in (("kernel_info", "start to kernel_info reply", 0.5),
                              ("first_execute", "start to first execute reply", 1.0)):
        rows = results["kernel_start"][key]
        ratio = rows["bridge"]["median_ms"] / rows["floor"]["median_ms"]
        met = rows["bridge"]["median_ms"] / 1000 <= limit
        table.append((label, cell(rows["floor"], "s"), cell(rows["bridge"], "s"),
                      cell(rows["ipykernel"], "s"), f"{ratio:.2f}x", f"<= {limit} s",
                      "yes" if met else "NO"))
    spawn = results["kernel_start"]["bridge_runtime_spawned_after_kernel_s"]
    table.append((" (bridge: runtime spawned after kernel)", "", f"{spawn:.2f} s", "", "", "", ""))
    mem = results["memory"]
    n0, n1, n2 = 0, MEMORY_REQUESTS // 2, MEMORY_REQUESTS

    def mem_cell(series: dict[int, float]) -> str:
        return f"{series[n0]:.0f}/{series[n1]:.0f}/{series[n2]:.0f} MB"

    bridge_mem = mem["bridge"]["process_mb"]
    growth = bridge_mem[n2] - bridge_mem[n1]
    flat = growth <= 2.0
    table.append((f"RSS at {n0}/{n1}/{n2} requests", mem_cell(mem["floor"]["process_mb"]),
                  mem_cell(bridge_mem), mem_cell(mem["ipykernel"]["process_mb"]),
                  f"{bridge_mem[n2] / mem['floor']['process_mb'][n2]:.2f}x",
                  "flat (+<=2 MB 500->1000)", "yes" if flat else "NO"))
    table.append((" bridge's runtime child RSS", "", mem_cell(mem["bridge"]["runtime_mb"]),
                  "", "", "", ""))

    headers = ("scenario", "floor", "bridge", "ipykernel", "bridge/floor", "target", "met")
    widths = [max(len(str(r[i])) for r in [headers, *table]) for i in range(len(headers))]
    print(f"\nscenarios: median (p90), ms unless marked; {ROUNDS} rounds "
          f"({max(3, ROUNDS - 2)} for print, {START_ROUNDS} starts) after {WARMUP} warm-up")
    for r in [headers, *table]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())

    left = orphans()
    print(f"\nprocesses started: {len(STARTED)}; still running: {left or 'none'}")
    results["targets_met"] = {row[0]: row[6] == "yes" for row in table if row[6]}
    out = save("scenarios", results)
    print(f"written: {out}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
