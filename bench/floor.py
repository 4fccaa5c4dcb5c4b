"""The floor: marimo's runtime driven directly over its IPC, no Jupyter at all.

``Floor`` launches ``marimo._ipc.launch_kernel`` (marimo's own launcher, with
the bridge's launch config), reads ``KERNEL_READY`` and sends an empty
``CreateNotebookCommand``; ``run`` sends one ``ExecuteCellsCommand`` and blocks
until the run's ``completed-run`` arrives on the stream queue. Used by the
benchmarks as the cost of the work itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import msgspec

# marimo's launcher after the bridge's replacements of marimo's per-run costs
# (bridge/runtime/speedups.py): the floor the bridge's runtime stands on.
WITH_SPEEDUPS = (
    "from bridge.runtime import speedups; speedups.install(); "
    "from marimo._ipc.launch_kernel import main; main()"
)


class Floor:
    # With the replacements by default: the runtime the bridge itself runs,
    # so that bridge minus floor is the bridge's own cost (bench_scale.py
    # shows marimo as shipped beside it).
    def __init__(self, speedups: bool = True) -> None:
        from marimo._internal.ipc import QueueManager

        from bridge.runtime import launch_config

        self.t_launch = time.perf_counter()
        self.queues, info = QueueManager.create()
        config = launch_config.user_config()
        launcher = ["-c", WITH_SPEEDUPS] if speedups else ["-m", "marimo._ipc.launch_kernel"]
        self.proc = subprocess.Popen(
            [sys.executable, *launcher],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(launch_config.kernel_args(info, config, None))
        self.proc.stdin.close()
        ready = self.proc.stdout.readline()
        if ready.strip() != b"KERNEL_READY":
            self.close()
            raise RuntimeError(f"the marimo runtime did not start: {ready!r}")
        self.t_ready = time.perf_counter()
        self._create_notebook()

    def _create_notebook(self) -> None:
        from marimo._internal.commands import CreateNotebookCommand, UpdateUIElementCommand

        self.queues.control_queue.put(
            CreateNotebookCommand(
                execution_requests=(),
                cell_ids=(),
                set_ui_element_value_request=UpdateUIElementCommand(object_ids=[], values=[]),
                auto_run=False,
            )
        )
        self.wait_completed()

    def wait_completed(self, on_message: Any = None, timeout: float = 120) -> None:
        """Read the stream until a ``completed-run``; ``on_message`` sees each one."""
        while True:
            raw = self.queues.stream_queue.get(timeout=timeout)
            message = msgspec.json.decode(raw)
            if on_message is not None:
                on_message(message)
            if message.get("op") == "completed-run":
                return

    def send(self, cells: list[tuple[str, str]]) -> None:
        from marimo._internal.commands import ExecuteCellsCommand
        from marimo._internal.ids import CellId_t

        self.queues.control_queue.put(
            ExecuteCellsCommand(
                cell_ids=[CellId_t(cell_id) for cell_id, _ in cells],
                codes=[code for _, code in cells],
            )
        )

    def run(self, cells: list[tuple[str, str]], on_message: Any = None) -> float:
        """One marimo run of ``cells`` (id, code): seconds until completed-run."""
        start = time.perf_counter()
        self.send(cells)
        self.wait_completed(on_message)
        return time.perf_counter() - start

    @property
    def pid(self) -> int:
        return self.proc.pid

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.queues.close_queues()

    def __enter__(self) -> Floor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
