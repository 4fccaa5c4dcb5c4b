"""Run All: JupyterLab sends every request at once; each cell runs once."""

from __future__ import annotations

import ast

from helpers import Notebook, execute

N = 6
# Each cell counts its own runs in a place that survives re-runs.
COUNT = "__import__('builtins').__dict__.setdefault('runs', []).append({name!r})\n"


def chain(first: int = 1) -> list[tuple[str, str]]:
    cells = [("c0", COUNT.format(name="c0") + f"v0 = {first}")]
    for i in range(1, N):
        cells.append((f"c{i}", COUNT.format(name=f"c{i}") + f"v{i} = v{i - 1} + 1\nv{i}"))
    return cells


def runs(kc) -> list[str]:
    shown = execute(kc, "%%scratch\nimport builtins\nprint(builtins.runs)").text()
    return list(ast.literal_eval(shown.strip().splitlines()[-1]))


def reset(kc) -> None:
    execute(kc, "%%scratch\nimport builtins\nbuiltins.runs = []")


def test_run_all_on_a_fresh_and_a_warm_kernel_runs_each_cell_once(kc) -> None:
    nb = Notebook()
    results = nb.run_all(kc, chain())
    assert [r.status for r in results] == ["ok"] * N
    assert sorted(runs(kc)) == sorted(f"c{i}" for i in range(N))
    for i in range(1, N):
        assert nb.shown(f"c{i}").strip() == str(1 + i)

    # Warm: every cell registered; the first re-runs the chain, the others
    # show that run in their own place without running again.
    reset(kc)
    results = nb.run_all(kc, chain(first=10))
    assert [r.status for r in results] == ["ok"] * N
    assert sorted(runs(kc)) == sorted(f"c{i}" for i in range(N)), "each cell once"
    for i in range(1, N):
        assert nb.shown(f"c{i}").strip() == str(10 + i), f"c{i} shows its latest output once"


def test_a_failing_dependent_reports_in_its_own_request_and_does_not_abort(kc) -> None:
    nb = Notebook()
    cells = [("a", "x = 1"), ("b", "y = 1 / (x - 1)"), ("c", "z = 3")]
    nb.run_all(kc, cells)
    results = nb.run_all(kc, cells)
    # a's run re-ran b, which failed: a's reply says so, naming b ...
    assert results[0].status == "error" and "failed" in results[0].content["evalue"]
    # ... without aborting b's waiting request, which reports its own error;
    # that one is b's own failure, so it stops the rest, as ipykernel does.
    assert results[1].status == "error" and results[1].content["ename"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in nb.shown("b")
    assert results[2].status == "aborted"


def test_an_own_failure_aborts_the_waiting_requests_as_ipykernel_does(kc) -> None:
    nb = Notebook()
    results = nb.run_all(kc, [("a", "raise ValueError('boom')"), ("b", "q = 2")])
    assert results[0].status == "error" and results[0].content["ename"] == "ValueError"
    assert results[1].status == "aborted"
