"""Trivial execute round trip: the bridge next to marimo's runtime driven directly.

Both sides re-run one registered cell (``x_bench = 1``) N times:
* floor: ExecuteCellsCommand on marimo's IPC control queue, timed until its
  ``completed-run`` arrives on the stream queue;
* bridge: execute_request with a cellId through jupyter_client, timed until
  the reply and the idle status have both arrived, both sockets read as
  messages arrive (frontend.py);
* ipykernel's python3 kernel, same request, for the protocol's own cost.
Prints a table and merges its rows into bench/results.json.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import Floor
from frontend import execute, warm_completion
from results import save

N = int(os.environ.get("BENCH_N", "300"))
WARMUP = 20


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p90_ms": ordered[int(len(ordered) * 0.9) - 1] * 1000,
        "n": len(ordered),
    }


def floor() -> list[float]:
    with Floor() as runtime:
        samples = []
        for i in range(N + WARMUP):
            elapsed = runtime.run([("bench", "x_bench = 1")])
            if i >= WARMUP:
                samples.append(elapsed)
    return samples


def jupyter(kernel_name: str) -> list[float]:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=kernel_name)
    warm_completion(kc)
    samples = []
    try:
        for i in range(N + WARMUP):
            start = time.perf_counter()
            answer = execute(kc, "x_bench = 1", cell_id="bench", timeout=30)
            elapsed = time.perf_counter() - start
            assert answer.status == "ok", answer.reply
            if i >= WARMUP:
                samples.append(elapsed)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return samples


def main() -> int:
    rows = {
        "marimo runtime over IPC (floor)": summarize(floor()),
        "bridge kernel 'marimo'": summarize(jupyter("marimo")),
        # The Jupyter protocol's own cost, for reference: no reactive runtime.
        "ipykernel 'python3'": summarize(jupyter("python3")),
    }
    base = rows["marimo runtime over IPC (floor)"]["median_ms"]
    print(f"\ntrivial execute round trip, {N} requests after {WARMUP} warm-up")
    print(f"{'path':<36} {'median ms':>10} {'p90 ms':>10} {'+ vs floor':>11}")
    for name, row in rows.items():
        print(f"{name:<36} {row['median_ms']:>10.2f} {row['p90_ms']:>10.2f} "
              f"{row['median_ms'] - base:>+11.2f}")
    print(f"\nwritten: {save('trivial_execute', rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
