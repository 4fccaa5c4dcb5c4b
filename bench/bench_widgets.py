"""Widgets (issue 11): a slider's change to its dependent's new output.

In one run, interleaved round by round:
* floor: marimo's runtime driven directly (``floor.py``): cells ``sl =
  mo.ui.slider(0, 10000)`` and ``sl.value * 2`` registered; an
  ``UpdateUIElementCommand`` for the slider put on the control and
  UI-element queues (as marimo's server does), timed until the dependent's
  new output has been read from the stream, and until its completed-run;
* bridge: the same cells through the kernel (cellIds, as JupyterLab);
  the slider's widget found from its comm_open; a comm_msg update, as
  JupyterLab's widget manager sends it, timed until the client has read the
  dependent's update_display_data with the new value, and until the
  comm_msg's idle. The client reads both sockets as messages arrive.

Then a drag: 60 updates a second for 5 s, the dependent taking about 30 ms
(a chart's redraw), straight to the runtime and through the bridge; the
figure is the time from the last event sent until the client has the last
value's output, and how many runs the 300 events cost.

Prints a table and merges its rows into bench/results.json ("widgets").
"""

from __future__ import annotations

import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import zmq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from floor import Floor  # noqa: E402
from frontend import execute, warm_completion  # noqa: E402
from jupyter_client.blocking.client import BlockingKernelClient  # noqa: E402
from jupyter_client.manager import start_new_kernel  # noqa: E402
from results import save  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_WIDGET_ROUNDS", "60"))
WARMUP = 3
DRAG_RATE = 60  # events a second
DRAG_SECONDS = 5.0
SLIDER = "import marimo as mo\nsl = mo.ui.slider(0, 10000)\nsl"
CHEAP = "sl.value * 2"
REDRAW = "import time\ntime.sleep(0.03)\nsl.value * 2"


class FloorSlider:
    def __init__(self, dependent: str) -> None:
        self.floor = Floor()
        self.floor.run([("s", SLIDER), ("d", dependent)])

    def change(self, value: int) -> Any:
        from marimo._internal.commands import UpdateUIElementCommand
        from marimo._internal.ids import UIElementId

        command = UpdateUIElementCommand(object_ids=[UIElementId("s-0")], values=[value])
        self.floor.queues.control_queue.put(command)
        self.floor.queues.set_ui_element_queue.put(command)

    def seen(self, message: dict[str, Any]) -> str | None:
        """The dependent's new output text, if ``message`` carries it."""
        output = message.get("output") if message.get("cell_id") == "d" else None
        return str(output.get("data")) if isinstance(output, dict) else None

    def time_one(self, value: int) -> tuple[float, float]:
        start = time.perf_counter()
        self.change(value)
        shown: list[float] = []
        expected = f"{value * 2}"

        def on_message(message: dict[str, Any]) -> None:
            text = self.seen(message)
            if not shown and text is not None and f">{expected}<" in text:
                shown.append(time.perf_counter() - start)

        self.floor.wait_completed(on_message)
        return shown[0], time.perf_counter() - start

    def drag(self) -> tuple[float, int]:
        """Events at DRAG_RATE; seconds from the last one to its output, runs."""
        events = int(DRAG_RATE * DRAG_SECONDS)
        runs = 0
        last_sent = 0.0
        start = time.perf_counter()
        value = 0
        for i in range(1, events + 1):
            value = 1000 + i
            target = start + i / DRAG_RATE
            while time.perf_counter() < target:
                runs += self._drain(timeout=max(0.0, target - time.perf_counter()))
            self.change(value)
            last_sent = time.perf_counter()
        expected = f"{value * 2}"
        while True:
            raw = self.floor.queues.stream_queue.get(timeout=60)
            message = msgspec.json.decode(raw)
            if message.get("op") == "completed-run":
                runs += 1
            text = self.seen(message)
            if text is not None and f">{expected}<" in text:
                return time.perf_counter() - last_sent, runs + self._settle()

    def _drain(self, timeout: float) -> int:
        runs = 0
        try:
            raw = self.floor.queues.stream_queue.get(timeout=timeout)
        except queue.Empty:
            return 0
        if msgspec.json.decode(raw).get("op") == "completed-run":
            runs += 1
        return runs

    def _settle(self) -> int:
        runs = 0
        while True:
            try:
                raw = self.floor.queues.stream_queue.get(timeout=0.5)
            except queue.Empty:
                return runs
            if msgspec.json.decode(raw).get("op") == "completed-run":
                runs += 1

    def close(self) -> None:
        self.floor.close()


class BridgeSlider:
    def __init__(self, dependent: str, cwd: str) -> None:
        self.km, self.kc = start_new_kernel(kernel_name="marimo", cwd=cwd)
        warm_completion(self.kc)
        first = execute(self.kc, SLIDER, cell_id="s")
        self.slider = next(
            m["content"]["comm_id"]
            for m in first.outputs
            if m["msg_type"] == "comm_open"
            and m["content"]["data"]["state"].get("_model_name") == "IntSliderModel"
        )
        dep = execute(self.kc, dependent, cell_id="d")
        # The dependent's value display: the second placeholder of its request.
        self.display = [
            m["content"]["transient"]["display_id"]
            for m in dep.outputs
            if m["msg_type"] == "display_data"
        ][1]

    def change(self, value: int) -> str:
        kc: BlockingKernelClient = self.kc
        data = {"method": "update", "state": {"value": value}, "buffer_paths": []}
        msg = kc.session.msg("comm_msg", {"comm_id": self.slider, "data": data})
        kc.session.send(kc.shell_channel.socket, msg)
        return str(msg["header"]["msg_id"])

    def shows(self, msg: dict[str, Any], expected: str) -> bool:
        c = msg["content"]
        return (
            msg["msg_type"] == "update_display_data"
            and c["transient"]["display_id"] == self.display
            and c["data"].get("text/plain") == expected
        )

    def time_one(self, value: int) -> tuple[float, float]:
        start = time.perf_counter()
        msg_id = self.change(value)
        shown = None
        while True:
            msg = self.kc.get_iopub_msg(timeout=60)
            if shown is None and self.shows(msg, f"{value * 2}"):
                shown = time.perf_counter() - start
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                assert shown is not None, "idle before the dependent's update"
                return shown, time.perf_counter() - start

    def drag(self) -> tuple[float, int]:
        events = int(DRAG_RATE * DRAG_SECONDS)
        runs = 0
        poller = zmq.Poller()
        poller.register(self.kc.iopub_channel.socket, zmq.POLLIN)

        def read(timeout: float) -> list[dict[str, Any]]:
            got = []
            if poller.poll(max(0, int(timeout * 1000))):
                while True:
                    try:
                        got.append(self.kc.get_iopub_msg(timeout=0))
                    except queue.Empty:
                        break
            return got

        start = time.perf_counter()
        value = 0
        last_sent = 0.0
        for i in range(1, events + 1):
            value = 1000 + i
            target = start + i / DRAG_RATE
            while time.perf_counter() < target:
                runs += sum(self.shows_any(m) for m in read(target - time.perf_counter()))
            self.change(value)
            last_sent = time.perf_counter()
        expected = f"{value * 2}"
        while True:
            for msg in read(60):
                runs += self.shows_any(msg)
                if self.shows(msg, expected):
                    return time.perf_counter() - last_sent, runs

    def shows_any(self, msg: dict[str, Any]) -> int:
        c = msg["content"]
        return int(
            msg["msg_type"] == "update_display_data"
            and c["transient"]["display_id"] == self.display
        )

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cwd:
        floor, bridge = FloorSlider(CHEAP), BridgeSlider(CHEAP, cwd)
        try:
            shown: dict[str, list[float]] = {"floor": [], "bridge": []}
            done: dict[str, list[float]] = {"floor": [], "bridge": []}
            sides: dict[str, Any] = {"floor": floor, "bridge": bridge}
            for r in range(ROUNDS + WARMUP):
                for name in (["floor", "bridge"] if r % 2 else ["bridge", "floor"]):
                    seen, finished = sides[name].time_one(100 + r)
                    if r >= WARMUP:
                        shown[name].append(seen)
                        done[name].append(finished)
        finally:
            floor.close()
            bridge.close()
        results["change"] = {
            name: {"shown_ms": median_ms(shown[name]), "done_ms": median_ms(done[name])}
            for name in shown
        }
        floor, bridge = FloorSlider(REDRAW), BridgeSlider(REDRAW, cwd)
        try:
            f_lag, f_runs = floor.drag()
            b_lag, b_runs = bridge.drag()
        finally:
            floor.close()
            bridge.close()
        results["drag"] = {
            "floor": {"last_event_to_output_s": f_lag, "runs": f_runs},
            "bridge": {"last_event_to_output_s": b_lag, "runs": b_runs},
        }

    change = results["change"]
    added = change["bridge"]["shown_ms"] - change["floor"]["shown_ms"]
    drag = results["drag"]
    events = int(DRAG_RATE * DRAG_SECONDS)
    rows = [
        ("slider change -> dependent's output read", f"{change['floor']['shown_ms']:.2f} ms",
         f"{change['bridge']['shown_ms']:.2f} ms", f"+{added:.2f} ms", "<= +2 ms",
         "yes" if added <= 2.0 else "NO"),
        ("  ... -> completed-run / idle", f"{change['floor']['done_ms']:.2f} ms",
         f"{change['bridge']['done_ms']:.2f} ms", "", "", ""),
        (f"drag {DRAG_RATE}/s for {DRAG_SECONDS:.0f} s: last event -> its output",
         f"{drag['floor']['last_event_to_output_s']:.3f} s",
         f"{drag['bridge']['last_event_to_output_s']:.3f} s", "", "<= 0.5 s",
         "yes" if drag["bridge"]["last_event_to_output_s"] <= 0.5 else "NO"),
        (f"  ... runs for {events} events", str(drag["floor"]["runs"]),
         str(drag["bridge"]["runs"]), "", "", ""),
    ]
    headers = ("widgets", "floor", "bridge", "added", "target", "met")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    print(f"\nwidgets: medians of {ROUNDS} changes after {WARMUP} warm-up; one drag each")
    for row in [headers, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    out = save("widgets", results)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
