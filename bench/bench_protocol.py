"""The Jupyter protocol's own cost, from kernels that run nothing.

Next to the trivial round trip and Run All rows: the same client
(frontend.py) drives a hand-written single-threaded kernel and ipykernel's
base class with an empty ``do_execute`` (protocol_kernels.py), for
* one request at a time (request to reply and idle), 300 requests;
* 50 requests sent at once, as JupyterLab's Run All (all replies and idle).
Prints a table and merges its rows into bench/results.json ("protocol").
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from frontend import execute, send_execute, wait  # noqa: E402
from jupyter_client.blocking.client import BlockingKernelClient  # noqa: E402
from jupyter_client.connect import write_connection_file  # noqa: E402
from results import save  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))
ROUNDS = 12
KERNELS = {
    "hand-written kernel, one thread": ["raw", "{file}"],
    "ipykernel Kernel, empty do_execute": ["bare", "-f", "{file}"],
}


def measure(args: list[str]) -> dict[str, float]:
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    write_connection_file(path)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    cmd = [sys.executable, str(HERE / "protocol_kernels.py")]
    proc = subprocess.Popen(
        cmd + [a.replace("{file}", path) for a in args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kc = BlockingKernelClient(connection_file=path)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        one = []
        for i in range(N + 20):
            start = time.perf_counter()
            assert execute(kc, "x = 1", "bench", timeout=30).status == "ok"
            if i >= 20:
                one.append(time.perf_counter() - start)
        batch = []
        for i in range(ROUNDS):
            start = time.perf_counter()
            sent = [send_execute(kc, f"v{n} = {n}", f"c{n}") for n in range(50)]
            assert all(a.status == "ok" for a in wait(kc, sent, timeout=60))
            if i >= 2:
                batch.append(time.perf_counter() - start)
    finally:
        kc.stop_channels()
        proc.kill()
        proc.wait()
        os.unlink(path)
    return {
        "one_median_ms": statistics.median(one) * 1000,
        "fifty_at_once_median_ms": statistics.median(batch) * 1000,
    }


def main() -> int:
    rows = {name: measure(args) for name, args in KERNELS.items()}
    print(
        f"\nJupyter protocol alone (kernels that run nothing), {N} requests; "
        f"50 at once, {ROUNDS - 2} rounds"
    )
    print(f"{'kernel':<38} {'one request ms':>15} {'50 at once ms':>14}")
    for name, row in rows.items():
        print(f"{name:<38} {row['one_median_ms']:>15.2f} {row['fifty_at_once_median_ms']:>14.1f}")
    print(f"\nwritten: {save('protocol', rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
