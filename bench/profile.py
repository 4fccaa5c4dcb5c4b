"""Where an edit-run's time goes, in the bridge and in its runtime (make profile).

Starts the ``marimo`` kernel as Jupyter does, registers ``PROFILE_CELLS``
cells (300 unless set), then edits and re-runs one cell in a loop (its code
changes every time, as a user's edit does) while py-spy samples both
processes: the kernel (the bridge) and its runtime child. Prints, for each
process, the functions that hold the most samples, inclusive (the function
or anything it called) and self (the function's own code), as a share of
the process's busy samples. Nothing is asserted: it says where to look.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from frontend import execute, warm_completion  # noqa: E402
from helpers import runtime_process  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

CELLS = int(os.environ.get("PROFILE_CELLS", "300"))
SECONDS = float(os.environ.get("PROFILE_SECONDS", "10"))
TOP = 14
# Frames that every sample has (the event loop, thread bootstraps): not news.
_BORING = ("<module>", "run_forever", "_run_once", "_run", "start (", "main (", "run (",
           "_bootstrap", "launch_kernel", "run_path", "_run_code", "_run_module_as_main")


def py_spy() -> str:
    exe = Path(sys.executable).with_name("py-spy")
    return str(exe) if exe.exists() else "py-spy"


def record(pid: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--duration", str(int(SECONDS)),
         "--rate", "250", "--format", "raw", "--nonblocking", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    return stack.split(";"), int(count)


def summarize(path: Path, title: str) -> None:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = frames(line)
        total += count
        own[stack[-1]] += count
        for frame in set(stack):
            inclusive[frame] += count
    print(f"\n{title}: {total} busy samples")
    if not total:
        return
    print(f"  {'inclusive':>9}  {'self':>5}  function (file:line)")
    shown = 0
    for frame, count in inclusive.most_common():
        if any(b in frame for b in _BORING) or count == total:
            continue
        print(f"  {100 * count / total:>8.1f}%  {100 * own[frame] / total:>4.1f}%  {frame}")
        shown += 1
        if shown == TOP:
            break
    print("  top self time:")
    for frame, count in own.most_common(6):
        print(f"  {'':>9}  {100 * count / total:>4.1f}%  {frame}")


def main() -> int:
    folder = tempfile.mkdtemp(prefix="marimo-profile-")
    km = KernelManager(kernel_name="marimo")
    km.start_kernel(cwd=folder, env={**os.environ, "MARIMO_BRIDGE_TWIN": "0"})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        warm_completion(kc)
        for i in range(CELLS):
            execute(kc, f"v{i} = {i}", cell_id=f"c{i}", timeout=120)
        bridge_pid = km.provisioner.process.pid  # type: ignore[union-attr]
        runtime_pid = runtime_process(km).pid
        outs = [Path(folder) / "bridge.txt", Path(folder) / "runtime.txt"]
        spies = [record(bridge_pid, outs[0]), record(runtime_pid, outs[1])]
        runs = 0
        stop = threading.Event()
        threading.Timer(SECONDS, stop.set).start()
        started = time.perf_counter()
        while not stop.is_set():
            execute(kc, f"edited = {runs}", cell_id="edited", timeout=60)
            runs += 1
        elapsed = time.perf_counter() - started
        for spy in spies:
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                print(err.decode(errors="replace"), file=sys.stderr)
                return 1
        print(f"edit-run of one cell with {CELLS} cells registered: {runs} runs in "
              f"{elapsed:.1f} s, {1000 * elapsed / max(runs, 1):.1f} ms each (py-spy attached)")
        summarize(outs[0], f"bridge (kernel process {bridge_pid})")
        summarize(outs[1], f"marimo runtime (process {runtime_pid})")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
