"""Trivial execute round trip: the bridge next to marimo's runtime driven directly.

Both sides re-run one registered cell (``x_bench = 1``) N times:
* floor: ExecuteCellsCommand on marimo's IPC control queue, timed until its
  ``completed-run`` arrives on the stream queue;
* bridge: execute_request with a cellId through jupyter_client, timed until
  the reply and the idle status have both arrived;
* ipykernel's python3 kernel, same request, for the protocol's own cost.
Prints a table and writes bench/results.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    import msgspec
    from marimo._internal.commands import (
        CreateNotebookCommand,
        ExecuteCellsCommand,
        UpdateUIElementCommand,
    )
    from marimo._internal.ids import CellId_t
    from marimo._internal.ipc import QueueManager

    from bridge.runtime import launch_config

    queues, info = QueueManager.create()
    config = launch_config.user_config()
    proc = subprocess.Popen(
        [sys.executable, "-m", "marimo._ipc.launch_kernel"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(launch_config.kernel_args(info, config, None))
    proc.stdin.close()
    proc.stdout.readline()

    def wait_completed() -> None:
        while True:
            raw = queues.stream_queue.get(timeout=30)
            if msgspec.json.decode(raw).get("op") == "completed-run":
                return

    queues.control_queue.put(
        CreateNotebookCommand(
            execution_requests=(),
            cell_ids=(),
            set_ui_element_value_request=UpdateUIElementCommand(object_ids=[], values=[]),
            auto_run=False,
        )
    )
    wait_completed()
    samples = []
    for i in range(N + WARMUP):
        start = time.perf_counter()
        queues.control_queue.put(
            ExecuteCellsCommand(cell_ids=[CellId_t("bench")], codes=["x_bench = 1"])
        )
        wait_completed()
        if i >= WARMUP:
            samples.append(time.perf_counter() - start)
    proc.terminate()
    proc.wait()
    queues.close_queues()
    return samples


def jupyter(kernel_name: str) -> list[float]:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=kernel_name)
    samples = []
    try:
        for i in range(N + WARMUP):
            msg = kc.session.msg(
                "execute_request",
                {"code": "x_bench = 1", "silent": False, "store_history": True,
                 "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
            )
            msg["metadata"]["cellId"] = "bench"
            start = time.perf_counter()
            kc.shell_channel.send(msg)
            msg_id = msg["header"]["msg_id"]
            while kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != msg_id:
                pass
            while True:
                m = kc.get_iopub_msg(timeout=30)
                if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                        and m["content"]["execution_state"] == "idle"):
                    break
            if i >= WARMUP:
                samples.append(time.perf_counter() - start)
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
    out = Path(__file__).parent / "results.json"
    out.write_text(json.dumps({"trivial_execute": rows}, indent=2) + "\n")
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
