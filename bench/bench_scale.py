"""Speed at notebook scale (issue 13): the bridge next to the floor and ipykernel.

In one run, each side read by the same client (bench_scenarios.py's sides),
interleaved round by round:

Two floors: marimo's runtime as marimo ships it, and with the bridge's
replacements of its per-run costs (bridge/runtime/speedups.py), which is
what the bridge's own runtime runs.

* edit-run: one cell whose code changes every run (``edited = <n>``), as a
  user's edit does, in a notebook of that one cell; floor: one
  ExecuteCellsCommand with the new code until its completed-run.
* edit-run at scale: the same after 1,000 more cells (``s{i} = {i}``) are
  registered on every side (on ipykernel: run once).
* Run All of a fresh 300-cell notebook (``n{i} = {i}``, JupyterLab's requests
  all sent at once, replies and idle): a fresh kernel per round on each side;
  floor: the 300 cells in one ExecuteCellsCommand on a fresh runtime. The
  bridge also runs it with Run All batching off (``MARIMO_BRIDGE_BATCH=0``,
  a marimo run per request), to show what batching is worth.

Prints one table with the targets of issue 13 and merges its rows into
bench/results.json ("scale").
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scenarios import (  # noqa: E402
    ROUNDS,
    STARTED,
    FloorSide,
    Jupyter,
    interleaved,
    orphans,
)
from results import save  # noqa: E402

SCALE = int(os.environ.get("BENCH_SCALE_CELLS", "1000"))
FRESH = int(os.environ.get("BENCH_FRESH_CELLS", "300"))
EDITS = int(os.environ.get("BENCH_EDITS", "30"))


# "bridge+twin" is the bridge as JupyterLab starts it, with a notebook path
# (JPY_SESSION_NAME), so it keeps a marimo twin on disk; "bridge" has none.
SIDES = ("floor", "floor+speedups", "bridge", "bridge+twin", "ipykernel")


UNBATCHED = "bridge, a run per request"


def make(name: str, cwd: str) -> Any:
    if name.startswith("floor"):
        return FloorSide(speedups=name == "floor+speedups")
    if name == UNBATCHED:
        return Jupyter("marimo", cwd, env={"MARIMO_BRIDGE_BATCH": "0"})
    if name == "bridge+twin":
        return Jupyter("marimo", cwd, env={"JPY_SESSION_NAME": str(Path(cwd) / "scale.ipynb")})
    return Jupyter("marimo" if name == "bridge" else "python3", cwd)


def with_sides(setup: Any, body: Any) -> Any:
    sides: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cwd:
        try:
            for name in SIDES:
                sides[name] = make(name, cwd)
            setup(sides)
            return body(sides)
        finally:
            for side in sides.values():
                side.close()


def edit_runs(extra: int) -> dict[str, dict[str, float]]:
    """Median of EDITS edit-runs per round, for each side."""
    counter = itertools.count()
    more = [(f"s{i}", f"s{i} = {i}") for i in range(extra)]

    def setup(sides: dict[str, Any]) -> None:
        for side in sides.values():
            if more:
                side.register(more)
            side.run_one("edited", "edited = -1")

    def edits(side: Any) -> float:
        times = sorted(side.run_one("edited", f"edited = {next(counter)}") for _ in range(EDITS))
        return times[len(times) // 2]

    return with_sides(setup, lambda sides: interleaved(sides, ROUNDS, dict.fromkeys(sides, edits)))


def fresh_run_all() -> dict[str, dict[str, float]]:
    cells = [(f"n{i}", f"n{i} = {i}") for i in range(FRESH)]

    def one(name: str) -> float:
        with tempfile.TemporaryDirectory() as cwd:
            side = make(name, cwd)
            try:
                return float(side.run_all(cells))
            finally:
                side.close()

    sides = {name: name for name in (*SIDES, UNBATCHED)}
    return interleaved(sides, max(3, ROUNDS - 2), {n: one for n in sides})


def main() -> int:
    rows = {
        "edit-run": edit_runs(0),
        f"edit-run, {SCALE} more cells": edit_runs(SCALE),
        f"Run All, fresh {FRESH} cells": fresh_run_all(),
    }
    print(f"\nspeed at scale, medians over {ROUNDS} rounds (p90 in brackets), ms")
    print(f"{'scenario':<28}" + "".join(f" {s:>15}" for s in SIDES) + "  target")
    small = rows["edit-run"]["bridge"]["median_ms"]
    def met(ok: bool) -> str:
        return "yes" if ok else "NO"

    def median(r: dict[str, dict[str, float]], side: str) -> float:
        return r[side]["median_ms"]

    targets = {
        "edit-run": lambda r: (
            f"<= ipykernel ({met(median(r, 'bridge') <= median(r, 'ipykernel'))}), "
            f"<= floor + 1 ms ({met(median(r, 'bridge') <= median(r, 'floor') + 1)})"
        ),
        f"edit-run, {SCALE} more cells": lambda r: (
            f"<= 1.25x small ({r['bridge']['median_ms'] / small:.2f}x: "
            f"{'yes' if r['bridge']['median_ms'] <= 1.25 * small else 'NO'})"
        ),
        f"Run All, fresh {FRESH} cells": lambda r: (
            f"<= ipykernel ({r['bridge']['median_ms'] / r['ipykernel']['median_ms']:.2f}x: "
            f"{'yes' if r['bridge']['median_ms'] <= r['ipykernel']['median_ms'] else 'NO'})"
        ),
    }
    for name, row in rows.items():
        cells = "".join(
            f" {row[s]['median_ms']:>8.1f} ({row[s]['p90_ms']:>5.1f})" for s in SIDES
        )
        print(f"{name:<28}{cells}  {targets[name](row)}")
    fresh = rows[f"Run All, fresh {FRESH} cells"]
    off, on = fresh[UNBATCHED], fresh["bridge"]
    print(
        f"Run All, fresh {FRESH} cells, {UNBATCHED} (batching off): "
        f"{off['median_ms']:.1f} ({off['p90_ms']:.1f}); "
        f"batched, the bridge takes {on['median_ms'] / off['median_ms']:.2f}x"
    )
    print(f"\nwritten: {save('scale', rows)}")
    left = orphans()
    if left:
        print(f"LEFT RUNNING: {left}", file=sys.stderr)
        return 1
    del STARTED[:]
    return 0


if __name__ == "__main__":
    sys.exit(main())
