"""Run All: JupyterLab sends every request at once; each cell runs once."""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    Notebook,
    Result,
    collect,
    execute,
    execute_request,
    logged_kernel,
    send_execute,
)
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

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
    # Sent while a cell runs, so that every request waits while the first
    # one's run runs the chain (sent at an idle kernel, the first could be
    # done before the last arrives, and that one would run its cell again).
    nb, results = run_all_behind_a_slow_cell(kc, chain(first=10))
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


# -- Run All of new cells: one marimo run (bridge/jupyter/batching.py) -------
@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[KernelManager, BlockingKernelClient, Path]]:
    """A kernel that logs at INFO, where it says when requests share a run."""
    env = {**os.environ, "MARIMO_BRIDGE_TWIN": "0"}
    with logged_kernel(tmp_path, env, ["--log-level=INFO"]) as started:
        yield started


def behind_a_slow_cell(kc: BlockingKernelClient) -> str:
    """A running request, so that the Run All sent next waits whole behind it."""
    assert execute(kc, "import time").status == "ok"
    return send_execute(kc, "time.sleep(0.5)", "slow")


def run_all_behind_a_slow_cell(
    kc: BlockingKernelClient, cells: list[tuple[str, str]]
) -> tuple[Notebook, list[Result]]:
    """JupyterLab's Run All, sent while a cell runs: the first of its
    requests is planned with all the others waiting."""
    slow = behind_a_slow_cell(kc)
    nb = Notebook()
    for cell_id, _ in cells:
        nb.cells[cell_id] = []
    sent = [send_execute(kc, code, cell_id) for cell_id, code in cells]
    assert collect(kc, slow).status == "ok"
    results = [collect(kc, msg_id) for msg_id in sent]
    for (cell_id, _), result in zip(cells, results, strict=True):
        nb.apply(cell_id, result)
    return nb, results


def test_run_all_of_new_cells_is_one_run_with_each_cell_shown_in_its_place(logged) -> None:
    _, kc, log = logged
    cells = [
        ("n0", "base = 10"),
        ("n1", "print('one is printed')\none = base + 1"),
        ("n2", "one * 2"),
        ("n3", "display('shown by display')\nthree = 3"),
        ("n4", "four = three + one"),
        ("n5", "four"),
    ]
    nb, results = run_all_behind_a_slow_cell(kc, cells)
    assert [r.status for r in results] == ["ok"] * len(cells)
    counts = [r.content["execution_count"] for r in results]
    assert counts == list(range(counts[0], counts[0] + len(cells)))
    assert nb.shown("n1").strip() == "one is printed"
    assert nb.shown("n2").strip() == "22"
    assert "shown by display" in nb.shown("n3")
    assert nb.shown("n5").strip() == "14"
    assert "one is printed" not in nb.shown("n0") + nb.shown("n2")
    assert "Run All: 5 waiting requests run in this request's run" in log.read_text()


def test_each_request_replies_when_its_own_cell_has_run(logged, tmp_path: Path) -> None:
    """Not when the whole batch has: the second cell waits for a file the
    test writes only once the first cell's reply has come."""
    _, kc, log = logged
    flag = tmp_path / "go"
    slow = behind_a_slow_cell(kc)
    cells = [
        ("w0", "w0 = 1"),
        ("w1", f"import os\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.02)\nw1 = 2"),
        ("w2", "w2 = w1 + 1\nw2"),
    ]
    sent = [send_execute(kc, code, cell_id) for cell_id, code in cells]
    assert collect(kc, slow).status == "ok"
    assert collect(kc, sent[0], timeout=30).status == "ok"
    flag.write_text("")
    later = [collect(kc, msg_id) for msg_id in sent[1:]]
    assert [r.status for r in later] == ["ok", "ok"]
    assert "3" in later[1].text()
    assert "Run All: 2 waiting requests" in log.read_text()


def test_a_failure_in_a_batch_aborts_the_rest_and_leaves_nothing_of_them(
    logged, tmp_path: Path
) -> None:
    _, kc, log = logged
    ran, not_ran = tmp_path / "ran", tmp_path / "not-ran"
    cells = [
        ("f0", "f0 = 1"),
        ("f1", f"open({str(ran)!r}, 'w').close()\nf1 = 2"),
        ("f2", "f2 = 1 / 0"),
        ("f3", f"open({str(not_ran)!r}, 'w').close()\nf3 = 4"),
        ("f4", "f4 = 5"),
    ]
    nb, results = run_all_behind_a_slow_cell(kc, cells)
    assert "Run All: 4 waiting requests" in log.read_text()
    assert [r.status for r in results] == ["ok", "ok", "error", "aborted", "aborted"]
    assert results[2].content["ename"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in nb.shown("f2")
    assert ran.exists() and not not_ran.exists()
    # The aborted cells left nothing: their names are free, and unknown.
    assert execute(kc, "f3 = 40\nf4 = 50\nf3 + f4", cell_id="g").status == "ok"
    assert execute(kc, "f1", cell_id="h").status == "ok"


def test_an_interrupt_stops_a_batch_as_it_stops_a_run_per_request(
    logged, tmp_path: Path
) -> None:
    km, kc, log = logged
    not_ran = tmp_path / "not-ran"
    slow = behind_a_slow_cell(kc)
    cells = [
        ("i0", "i0 = 1"),
        ("i1", "print('waiting', flush=True)\ntime.sleep(30)\ni1 = 2"),
        ("i2", f"open({str(not_ran)!r}, 'w').close()\ni2 = 3"),
        ("i3", "i3 = 4"),
    ]
    sent = [send_execute(kc, code, cell_id) for cell_id, code in cells]
    assert collect(kc, slow).status == "ok"
    assert collect(kc, sent[0]).status == "ok"
    # i1 is running once its request shows what it printed.
    deadline = time.monotonic() + 30
    while True:
        m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") == sent[1] and "waiting" in str(m["content"]):
            break
    km.interrupt_kernel()
    results = [collect(kc, msg_id) for msg_id in sent[1:]]
    assert [r.status for r in results] == ["error", "aborted", "aborted"]
    assert results[0].content["ename"] == "KeyboardInterrupt"
    assert not not_ran.exists()
    assert "Run All: 3 waiting requests" in log.read_text()
    assert execute(kc, "i2 = 30\ni3 = 40", cell_id="j").status == "ok"


def test_requests_that_could_run_otherwise_in_one_run_are_not_joined(logged) -> None:
    """A cell reading a name a later cell defines, and a name defined twice,
    come out as with a run per request (as ipykernel would run them)."""
    _, kc, log = logged
    slow = behind_a_slow_cell(kc)
    sent = [
        send_execute(kc, "r0 = r1 + 1", "r0"),  # r1 comes later: a NameError here
        send_execute(kc, "r1 = 1", "r1"),
    ]
    assert collect(kc, slow).status == "ok"
    results = [collect(kc, msg_id) for msg_id in sent]
    assert [r.status for r in results] == ["error", "aborted"]
    assert results[0].content["ename"] == "NameError"

    slow = send_execute(kc, "time.sleep(0.5)", "slow")
    sent = [
        send_execute(kc, "m = 1", "m0"),
        send_execute(kc, "m = 2", "m1"),  # defined twice: its own request's error
        send_execute(kc, "after = 3", "m2"),
    ]
    assert collect(kc, slow).status == "ok"
    results = [collect(kc, msg_id) for msg_id in sent]
    assert [r.status for r in results] == ["ok", "error", "aborted"]
    assert "more than one cell" in results[1].content["evalue"]
    assert "Run All:" not in log.read_text()


def test_a_notebook_with_mo_state_is_not_batched(logged, tmp_path: Path) -> None:
    """A setter's readers re-run after every cell of the run: in a batch that
    would be after the later cells, when the reader's own request may be
    over, and its new value would show nowhere."""
    _, kc, log = logged
    flag = tmp_path / "go"
    slow = behind_a_slow_cell(kc)
    nb = Notebook()
    cells = [
        ("s0", "import marimo as mo\nget_s, set_s = mo.state(0)"),
        ("s1", "seen = get_s()\nseen"),
        # Sets the state only once s1's reply has come.
        ("s2", f"import os\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.02)\nset_s(5)"),
        ("s3", "after = 1"),
    ]
    for cell_id, _ in cells:
        nb.cells[cell_id] = []
    sent = [send_execute(kc, code, cell_id) for cell_id, code in cells]
    assert collect(kc, slow).status == "ok"
    results = [collect(kc, sent[0]), collect(kc, sent[1])]
    flag.write_text("")
    results += [collect(kc, msg_id) for msg_id in sent[2:]]
    for (cell_id, _), result in zip(cells, results, strict=True):
        nb.apply(cell_id, result)
    assert [r.status for r in results] == ["ok"] * 4
    assert nb.shown("s1").strip() == "5", "s2's run re-ran s1, shown in s1's place"
    assert "Run All:" not in log.read_text()


def test_a_cell_marimo_skips_stops_the_batch_as_its_failure_would(logged, tmp_path: Path) -> None:
    """A cell reading a name of a cell that raised is never run (marimo
    cancels it before it starts): its request fails, and the cells after it
    must not run either."""
    _, kc, log = logged
    not_ran = tmp_path / "not-ran"
    assert execute(kc, "e = 1 / 0", cell_id="e").status == "error"
    _, results = run_all_behind_a_slow_cell(kc, [
        ("k0", "k0 = 1"),
        ("k1", "k1 = e + 1"),
        ("k2", f"open({str(not_ran)!r}, 'w').close()\nk2 = 2"),
    ])
    assert "Run All: 2 waiting requests" in log.read_text()
    assert [r.status for r in results] == ["ok", "error", "aborted"]
    assert not not_ran.exists()
    assert execute(kc, "k2 = 20", cell_id="k2b").status == "ok"


def test_a_runtime_lost_in_a_batch_leaves_no_request_waiting(logged, tmp_path: Path) -> None:
    _, kc, _ = logged
    not_ran = tmp_path / "not-ran"
    _, results = run_all_behind_a_slow_cell(kc, [
        ("x0", "x0 = 1"),
        # After a moment: the runtime has sent what it had (a runtime that
        # dies at once can take the first cell's last messages with it).
        ("x1", "import os\ntime.sleep(0.2)\nos._exit(3)"),
        ("x2", f"open({str(not_ran)!r}, 'w').close()\nx2 = 2"),
    ])
    assert [r.status for r in results] == ["ok", "error", "aborted"]
    assert results[1].content["ename"] == "RuntimeDied"
    assert not not_ran.exists()
    assert execute(kc, "x2 = 3\nx2", cell_id="x3").status == "ok"


def test_a_waiting_request_the_kernel_cannot_read_ahead_ends_the_batch(logged) -> None:
    """A magic whose arguments do not parse: the requests before it still
    run (in one run), and it gets its own error as without a batch."""
    _, kc, _ = logged
    _, results = run_all_behind_a_slow_cell(kc, [
        ("b0", "b0 = 1"),
        ("b1", "b1 = b0 + 1"),
        ("b2", '%%writefile "unclosed.txt\nhello'),
        ("b3", "b3 = 3"),
    ])
    assert [r.status for r in results] == ["ok", "ok", "error", "aborted"]


# -- Run All once, whatever the timing (issue 19, item 2) ---------------------
CHAIN = 12


def registered_chain(kc: BlockingKernelClient, log: Path) -> list[tuple[str, str]]:
    """A 12-cell chain whose cells append their index to ``log``, run once."""
    cells = []
    for i in range(CHAIN):
        body = "ra0 = 0" if i == 0 else f"ra{i} = ra{i - 1} + 1"
        write = f"with open({str(log)!r}, 'a') as _f:\n    _f.write('{i}\\n')"
        cells.append((f"r{i}", f"{body}\n{write}\nra{i}"))
    for cell_id, code in cells:
        assert execute(kc, code, cell_id=cell_id).status == "ok"
    return cells


def executions(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()]


def requests_of(
    kc: BlockingKernelClient, cells: list[tuple[str, str]], clock_skew: float = 0.0
) -> list[dict]:
    """JupyterLab's Run All: every request made at the click (its client's
    clock in the header, ``clock_skew`` seconds off the kernel's)."""
    from datetime import timedelta

    made = [execute_request(kc, code, cell_id) for cell_id, code in cells]
    for msg in made:
        msg["header"]["date"] += timedelta(seconds=clock_skew)
    return made


@pytest.mark.parametrize("clock_skew", [0.0, -3600.0, 3600.0])
def test_run_all_read_after_the_first_run_ended_still_runs_each_cell_once(
    kc, tmp_path: Path, clock_skew: float
) -> None:
    """The kernel reads the rest of Run All only after the first request's
    run re-ran the whole chain (a busy machine, a slow link): induced here
    by sending them after its reply. A client whose clock is an hour off
    the kernel's gets the same."""
    log = tmp_path / "runs.log"
    cells = registered_chain(kc, log)
    log.write_text("")

    sent = requests_of(kc, cells, clock_skew)
    kc.shell_channel.send(sent[0])
    first = collect(kc, sent[0]["header"]["msg_id"])
    assert executions(log) == list(range(CHAIN))  # the chain, once
    for msg in sent[1:]:
        kc.shell_channel.send(msg)
    rest = [collect(kc, msg["header"]["msg_id"]) for msg in sent[1:]]

    assert [r.status for r in [first, *rest]] == ["ok"] * CHAIN
    assert executions(log) == list(range(CHAIN)), "each cell once"
    for i, result in enumerate(rest, start=1):
        assert str(i) in result.text(), f"r{i} shows its value in its own place"

    # A cell the user really runs again, after its reply, still runs (and
    # re-runs its dependents), whatever its client's clock says.
    log.write_text("")
    again = requests_of(kc, [cells[5]], clock_skew)[0]
    kc.shell_channel.send(again)
    assert collect(kc, again["header"]["msg_id"]).status == "ok"
    assert executions(log) == list(range(5, CHAIN))


def test_run_all_beside_busy_loops_runs_each_cell_once(kc, tmp_path: Path) -> None:
    """Issue 19's scenario: two busy loops beside the kernel re-ran cells in
    3 of 6 tries (14, 23 and 47 executions of 12)."""
    import subprocess
    import sys

    log = tmp_path / "runs.log"
    cells = registered_chain(kc, log)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for attempt in range(3):
            log.write_text("")
            sent = requests_of(kc, cells)
            for msg in sent:
                kc.shell_channel.send(msg)
            results = [collect(kc, msg["header"]["msg_id"]) for msg in sent]
            assert [r.status for r in results] == ["ok"] * CHAIN
            assert executions(log) == list(range(CHAIN)), f"try {attempt}: each cell once"
    finally:
        for process in busy:
            process.kill()
            process.wait()


def test_run_all_runs_a_script_a_cell_before_it_writes(kc) -> None:
    """``%run`` reads its script's names when its request is read: under Run
    All (new cells, one batch) not before the cell that writes the script
    has run."""
    cells = [
        ("w", "%%writefile made_by_the_notebook.py\nmade = 5"),
        ("r", "%run made_by_the_notebook.py"),
        ("u", "made * 2"),
    ]
    sent = requests_of(kc, cells)
    for msg in sent:
        kc.shell_channel.send(msg)
    results = [collect(kc, msg["header"]["msg_id"]) for msg in sent]
    assert [r.status for r in results] == ["ok"] * 3, [r.content for r in results]
    assert results[2].text().strip() == "10"
