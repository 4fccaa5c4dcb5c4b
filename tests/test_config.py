"""The user's marimo configuration reaches the runtime."""

from __future__ import annotations

from pathlib import Path

from helpers import execute
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
