"""The user's marimo configuration reaches the runtime."""

from __future__ import annotations

from pathlib import Path

from helpers import Notebook, execute
from jupyter_client.manager import start_new_kernel


def test_lazy_mode_from_pyproject_is_respected(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.marimo.runtime]\non_cell_change = "lazy"\n'
    )
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    try:
        execute(kc, "x = 1", cell_id="A")
        execute(kc, "print('dependent ran with', x)", cell_id="B")
        result = execute(kc, "x = 2", cell_id="A")
        assert result.status == "ok"
        assert "dependent ran with 2" not in result.text()  # not re-run: stale
        kc.kernel_info()
        banner = kc.get_shell_msg(timeout=30)["content"]["banner"]
        assert "on_cell_change=lazy" in banner
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def test_lazy_mode_marks_dependents_stale_in_their_place_and_run_stale_runs_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.marimo.runtime]\non_cell_change = "lazy"\n'
    )
    km, kc = start_new_kernel(kernel_name="marimo", cwd=str(tmp_path))
    nb = Notebook()
    try:
        nb.run(kc, "A", "x = 1")
        nb.run(kc, "B", "print('B sees', x)")
        assert "B sees 1" in nb.shown("B")
        nb.run(kc, "A", "x = 2")
        # B's own place says it is out of date, and why; its old output stays.
        assert "stale" in nb.shown("B") and "Cell In[3]" in nb.shown("B")
        assert "B sees 1" in nb.shown("B")
        run = nb.run(kc, "R", "%%run_stale")
        assert run.status == "ok"
        assert "B sees 2" in nb.shown("B") and "stale" not in nb.shown("B")
        # An id-less (console) dependent is told about under the running request.
        execute(kc, "y = x * 10")
        told = execute(kc, "x = 3", cell_id="A")
        assert "is stale" in told.text()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
