"""``make faults``: the fault scenarios, against real kernels, as one table.

Runs tests/test_faults.py with ``--faults`` (so the long floods and the
10,000-request soak run too), the fault tests of tests/test_lifecycle.py and
tests/test_twin.py, and tests/test_bad_input.py when it exists. Prints one row
per scenario: result, time to recover, data lost, and what was measured (the
figures tests/test_faults.py records with ``record_property``). Exits non-zero
when a scenario fails or reports lost data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Fault tests that predate tests/test_faults.py; they assert their outcome
# but record no figures.
EXISTING = [
    "tests/test_lifecycle.py::test_sigint_interrupts_the_cell_and_aborts_the_queue",
    "tests/test_lifecycle.py::test_interrupt_request_on_control_channel",
    "tests/test_lifecycle.py::test_runtime_killed_mid_run_gives_error_then_fresh_runtime",
    "tests/test_lifecycle.py::test_runtime_exit_from_os_exit",
    "tests/test_lifecycle.py::test_runtime_death_between_requests_is_told_in_the_next",
    "tests/test_lifecycle.py::test_bridge_killed_runtime_exits_by_itself",
    "tests/test_lifecycle.py::test_a_killed_bridges_socket_folder_is_removed_by_the_next_kernel",
    "tests/test_lifecycle.py::test_shutdown_leaves_no_orphan",
    "tests/test_lifecycle.py::test_restart_replaces_runtime",
    "tests/test_twin.py::test_sigkill_during_a_burst_of_saves_leaves_a_notebook",
    "tests/test_twin.py::test_sigterm_flushes_the_pending_save",
]
NOT_MEASURED = "—"


class Collector:
    """A pytest plugin keeping each test's outcome and recorded figures."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        row = self.rows.setdefault(report.nodeid, {"result": "passed"})
        row.update(dict(report.user_properties))
        if report.failed:
            row["result"] = "FAILED" if report.when == "call" else f"ERROR ({report.when})"
        elif report.skipped and report.when in ("setup", "call"):
            row["result"] = "skipped"


def scenario(nodeid: str, row: dict[str, Any]) -> str:
    if "scenario" in row:
        return str(row["scenario"])
    path, _, name = nodeid.partition("::")
    words = name.removeprefix("test_").replace("_", " ")
    return f"{words} ({Path(path).stem.removeprefix('test_')})"


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| scenario | result | time to recover | data lost | measured |",
        "| --- | --- | --- | --- | --- |",
    ]
    for nodeid, row in rows.items():
        recover = f"{row['recover_s']:.2f} s" if "recover_s" in row else NOT_MEASURED
        lost = row.get("lost", NOT_MEASURED)
        lines.append(
            f"| {scenario(nodeid, row)} | {row['result']} | {recover} | {lost} "
            f"| {row.get('detail') or NOT_MEASURED} |"
        )
    return "\n".join(lines)


def main() -> int:
    os.chdir(ROOT)
    paths = ["tests/test_faults.py", *EXISTING]
    if Path("tests/test_bad_input.py").exists():
        paths.append("tests/test_bad_input.py")
    collector = Collector()
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "--faults", *paths, *sys.argv[1:]],
        plugins=[collector],
    )
    print()
    print(table(collector.rows))
    lost = [n for n, r in collector.rows.items() if r.get("lost", "none") != "none"]
    failed = [n for n, r in collector.rows.items() if r["result"] not in ("passed", "skipped")]
    print(
        f"\n{len(collector.rows)} scenarios: {len(failed)} failed, {len(lost)} lost data. "
        "Data lost: cells missing from the twin, replies or outputs lost or misrouted."
    )
    if code != 0 or lost or failed or not collector.rows:
        return int(code) or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
