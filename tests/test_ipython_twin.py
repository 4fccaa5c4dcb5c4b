"""A notebook that uses magics keeps a marimo twin that stays marimo.

The twin holds the Python each magic ran as (standard library and marimo
only), runs with ``python nb.py`` without this package, passes ``marimo
check``; ``%pip install`` is a PEP 723 dependency there. After a restart,
the .ipynb (what the user typed) and the twin still pair cell by cell.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import Notebook, execute, wait_until
from test_ipython_syntax import probe_package  # noqa: F401 (a fixture)

from bridge.twin import pyfile

PY = sys.executable
# (cellId, what the user typed)
CELLS = [
    ("pip", "%pip install --no-index --find-links {wheels} bridge_pip_probe"),
    ("imp", "import bridge_pip_probe"),
    ("time", "%time base = bridge_pip_probe.VALUE * 6"),
    ("ls", "listing = !printf 'a\\nb\\n'"),
    ("echo", "!echo base is {{base}}"),
    ("fails", "!echo failing && exit 3"),
    ("write", "%%writefile out.txt\nwritten by the notebook"),
    ("cat", "!cat out.txt"),
    ("env", "%env BRIDGE_TWIN_PROBE=1"),
    ("cell_time", "%%time\ntotal = base + len(listing)\nprint('total', total)"),
    ("timeit", "%timeit -n 1 -r 1 base + 1"),
    ("bash", "%%bash --no-raise-error\necho from bash\nexit 2"),
    ("capture", "%%capture captured\nprint('kept aside')"),
    ("captured", "print('captured:', captured.stdout.strip())"),
    ("md", "%%markdown\n# A *title*"),
    ("show", "display(f'shown {{total}}')"),
    ("mpl", "%matplotlib inline"),
]
# A time as %time and %timeit print it.
_TIME = re.compile(r"\d+(\.\d+)?(e[-+]?\d+)? (s|ms|µs|ns)\b")


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    return {"MARIMO_BRIDGE_NOTEBOOK": str(tmp_path / "nb.ipynb")}


def codes(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [c.code for c in pyfile.parse(path.read_text(), lambda: "").cells]


def test_the_twin_of_a_notebook_with_magics_runs_and_passes_marimo_check(
    kernel, tmp_path, probe_package  # noqa: F811
) -> None:
    km, kc = kernel
    _name, wheels = probe_package
    typed = [(cid, code.format(wheels=wheels)) for cid, code in CELLS]
    nb = Notebook()
    for cell_id, code in typed:
        result = nb.run(kc, cell_id, code, timeout=120)
        assert result.status == "ok", (code, result.text())
    # What the kernel printed: not pip's installing (the twin has a PEP 723
    # dependency instead), nor what is an output rather than printed.
    printed = [line for cell_id, _ in typed if cell_id not in ("pip", "md", "show")
               for line in nb.shown(cell_id).splitlines() if line.strip()]
    twin = tmp_path / "nb.py"
    wait_until(lambda: len(codes(twin)) == len(CELLS) + 1, what="every cell in the twin")
    # display() is a builtin in the kernel, as in IPython; the twin's setup
    # cell imports it once for the cells that use it.
    assert codes(twin)[0] == "from IPython.display import display"
    text = twin.read_text()
    # PEP 723: the package, once, instead of an install on every run.
    assert '# dependencies = [\n#     "bridge_pip_probe",\n# ]' in text
    assert "_sys.executable, '-m', 'pip'" not in text
    assert "bridge" not in text.replace("bridge_pip_probe", "").replace("BRIDGE_TWIN_PROBE", "")
    (tmp_path / "out.txt").unlink()
    # Runs without this package: any import of it fails.
    script = (
        "import runpy, sys; sys.modules['bridge'] = None; "
        f"runpy.run_path({str(twin)!r}, run_name='__main__')"
    )
    ran = subprocess.run([PY, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "base is 42" in ran.stdout and "Wall time:" in ran.stdout
    # It prints what the kernel printed (display() aside: an output in the
    # kernel, printed by IPython's display() without a shell).
    lines = [line for line in ran.stdout.splitlines() if line.strip() and line != "shown 44"]
    assert [_TIME.sub("<time>", line) for line in lines] == [
        _TIME.sub("<time>", line) for line in printed
    ]
    assert "exit status 3" in ran.stdout and "from bash\n" in ran.stdout
    assert "captured: kept aside" in lines and "kept aside" not in lines
    # Each magic's cell reads as code: its magic named, one statement a line.
    for (_, code), cell in zip(typed, codes(twin)[1:], strict=True):
        magic = code.split("\n")[0]
        if "%" in magic or "!" in magic:
            assert cell.startswith((f"# {magic}\n", "pass  # %")), cell
        # (A comment says what the user typed, however long.)
        written = [line for line in cell.split("\n") if not line.startswith(("#", "pass  #"))]
        assert all(len(line) <= 100 for line in written), cell
    assert (tmp_path / "out.txt").read_text() == "written by the notebook\n"
    check = subprocess.run([PY, "-m", "marimo", "check", str(twin)], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr

    # The .ipynb keeps what the user typed; after a restart each Jupyter cell
    # still finds its twin cell (by id), so re-running one adds no cell.
    nb = nbformat.v4.new_notebook()
    for cell_id, code in typed:
        cell = nbformat.v4.new_code_cell(code)
        cell["id"] = cell_id
        nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "nb.ipynb")
    before = codes(twin)
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    result = execute(kc, typed[2][1], cell_id="time", timeout=120)
    assert result.status == "ok", result.text()
    assert "Wall time:" in result.text()
    result = execute(kc, "base + 1", cell_id="after")
    assert result.text().strip() == "43"
    wait_until(lambda: len(codes(twin)) == len(before) + 1, what="the new cell in the twin")
    assert codes(twin)[: len(before)] == before
