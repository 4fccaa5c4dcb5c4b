"""What Jupyter users type every day, through the real kernel and runtime.

Each idiom is judged on what the user sees in the cell and on the names it
defines for later cells, in both request shapes: JupyterLab's (a cellId,
outputs kept in place) and nbclient's (no cellId, the standard messages).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import Notebook, Result, execute

SHAPES = ["jupyterlab", "nbclient"]


class Cells:
    """Runs cells in one request shape and shows them as a frontend would."""

    def __init__(self, kc: Any, shape: str) -> None:
        self.kc, self.shape, self.nb = kc, shape, Notebook()
        self._ids = (f"cell{n}" for n in itertools.count())

    def run(self, code: str) -> tuple[Result, str]:
        cell = next(self._ids)
        if self.shape == "jupyterlab":
            result = self.nb.run(self.kc, cell, code)
        else:
            result = execute(self.kc, code)
            self.nb.cells[cell] = []
            self.nb.apply(cell, result)
        return result, self.nb.shown(cell)

    def ok(self, code: str) -> str:
        result, shown = self.run(code)
        assert result.status == "ok", (code, result.content, shown)
        return shown


@pytest.mark.parametrize("shape", SHAPES)
def test_magics_and_shell_commands_define_names_for_later_cells(kc, tmp_path, shape) -> None:
    (tmp_path / "data.csv").write_text("a,b\n")
    cells = Cells(kc, shape)
    assert cells.ok("cat data.csv").strip() == "a,b"  # IPython's automagic
    cells.ok("csv_name = 'data.csv'")
    assert cells.ok("!cat $csv_name").strip() == "a,b"  # IPython's $name
    assert cells.ok("!echo $HOME").strip() == os.environ["HOME"]  # the shell's
    shown = cells.ok("%time t = sum(range(10))")
    assert "Wall time:" in shown
    assert cells.ok("t * 2") == "90"

    cells.ok("files = !ls")
    assert "data.csv" in cells.ok("files")

    shown = cells.ok("%%time\nz = 5\nz + 1")
    assert "Wall time:" in shown and "6" in shown
    assert cells.ok("z * 2") == "10"

    shown = cells.ok("!echo got {t} && exit 3")
    assert "got 45" in shown and "exit status 3" in shown
    # A command's output is in its own cell's outputs, every time.
    for k in range(30):
        assert cells.ok(f"!echo round {k}").strip() == f"round {k}"

    shown = cells.ok("%timeit -n 10 -r 2 sum(range(10))")
    assert "per loop (mean ± std. dev. of 2 runs, 10 loops each)" in shown

    assert "env: BRIDGE_PROBE=hello" in cells.ok("%env BRIDGE_PROBE=hello")
    assert cells.ok("import os\nos.environ['BRIDGE_PROBE']") == "'hello'"

    cells.ok("%mkdir sub")
    assert cells.ok("%cd sub").strip().endswith("/sub")
    assert cells.ok("%pwd").strip("'").endswith("/sub")
    assert "Writing notes.txt" in cells.ok("%%writefile notes.txt\nfirst")
    assert "Appending to notes.txt" in cells.ok("%%writefile -a notes.txt\nsecond")
    assert (tmp_path / "sub" / "notes.txt").read_text() == "first\nsecond\n"

    shown = cells.ok("%%bash --no-raise-error\necho from-bash\nexit 2")
    assert "from-bash" in shown
    # A script that fails fails its cell, as under ipykernel, after its output.
    result, shown = cells.run("%%bash\necho before-failing\nexit 2")
    assert result.status == "error" and result.content["ename"] == "CalledProcessError"
    assert "before-failing" in shown and "exit status 2" in result.content["evalue"]

    shown = cells.ok("%%capture captured\nprint('kept aside')")
    assert "kept aside" not in shown
    assert cells.ok("captured.stdout") == "'kept aside\\n'"
    assert cells.ok("captured()").strip() == "kept aside"  # IPython's CapturedIO

    assert cells.ok("%matplotlib inline\n%config InlineBackend.figure_format = 'retina'") == ""


@pytest.mark.parametrize("shape", SHAPES)
def test_cell_magics_that_render(kc, shape) -> None:
    cells = Cells(kc, shape)
    result, _ = cells.run("%%html\n<b id='x'>bold</b>")
    html = [m["content"]["data"].get("text/html", "") for m in result.outputs if "data" in m["content"]]
    assert any("<b id='x'>bold</b>" in h for h in html)
    result, _ = cells.run("%%svg\n<svg width='8' height='8'><circle r='4'/></svg>")
    html = [m["content"]["data"].get("text/html", "") for m in result.outputs if "data" in m["content"]]
    assert any("<circle r='4'/>" in h for h in html)
    result, _ = cells.run("%%markdown\nsome **strong** words")
    html = [m["content"]["data"].get("text/html", "") for m in result.outputs if "data" in m["content"]]
    assert any("<strong>strong</strong>" in h for h in html)
    result, shown = cells.run("%%latex\n\\begin{align}a &= b\\end{align}")
    assert result.status == "ok"
    # MathJax's delimiters, which JupyterLab typesets, not marimo's own.
    assert "\\[\\begin{align}a &= b\\end{align}\\]" in shown


def test_sql_magic_uses_marimo_sql(kc) -> None:
    result = execute(kc, "%%sql\nSELECT 42 AS answer")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        # marimo's own message: mo.sql needs duckdb.
        assert result.status == "error"
        assert "duckdb" in result.text().lower()
    else:
        assert result.status == "ok" and "42" in result.text()


def test_an_unknown_magic_says_what_the_kernel_supports(kc) -> None:
    result = execute(kc, "%who", cell_id="w")
    assert result.status == "error"
    assert result.content["ename"] == "UsageError"
    evalue = result.content["evalue"]
    assert "%who is not supported by the marimo kernel" in evalue
    assert "%time" in evalue and "%%writefile" in evalue and "!cmd" in evalue
    assert "marimo.app" not in evalue  # not marimo's SyntaxError with a link
    cell_magic = execute(kc, "%%cython\ndef f(): pass")
    assert "%%cython is not supported" in cell_magic.content["evalue"]
    # Nothing was recorded: the next cell runs as usual.
    assert execute(kc, "1 + 1").text() == "2"


@pytest.mark.parametrize("shape", SHAPES)
def test_script_magics_run_their_program_on_the_body(kc, shape) -> None:
    cells = Cells(kc, shape)
    assert cells.ok("%%python3\nimport sys\nprint('python', sys.stdin.isatty())") == (
        "python False\n"
    )
    assert cells.ok("%%script python3 --out kept\nprint(6 * 7)") == ""
    assert cells.ok("kept") == "'42\\n'"  # a name later cells read
    missing = cells.ok("%%script no-such-program-here\nx")
    assert missing.strip() == "Couldn't find program: 'no-such-program-here'"
    assert cells.ok("%%script --bg --out later python3\nprint(6 * 7)") == ""
    assert cells.ok("later.read().decode()") == "'42\\n'"  # bytes, as IPython's stream


@pytest.mark.parametrize("anchored", [True, False], ids=["jupyterlab", "nbclient"])
def test_run_runs_a_script_whose_names_later_cells_read(kc, tmp_path, anchored) -> None:
    script = tmp_path / "helpers.py"
    script.write_text(
        "import sys\nprint('argv', sys.argv[1:])\ndef twice(x):\n    return 2 * x\n"
        "base = twice(21)\n"
    )

    def run(code: str, cell: str) -> Result:
        return execute(kc, code, cell_id=cell if anchored else None, stop_on_error=False)

    ran = run("%run helpers.py one two", "script")
    assert ran.status == "ok" and ran.text().strip() == "argv ['one', 'two']"
    assert run("twice(base)", "reader").text().strip() == "84"  # the script's names
    # The script edited, and its cell run again: what it defines now counts,
    # and its reader re-runs.
    script.write_text("import sys\ndef twice(x):\n    return 3 * x\nbase = 10\n")
    again = run("%run helpers.py", "script")
    assert again.status == "ok" and "30" in again.text()  # the reader, re-run
    failed = run("%run -m json.tool", "other")
    assert failed.status == "error" and "script file" in failed.content["evalue"]
    # Where the runtime is (after %cd); sys.exit(0) ends the script quietly,
    # and what it bound before stays; the notebook's sys.argv is its own again.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ends.py").write_text("import sys\nearly = 7\nsys.exit(0)\nlate = 1\n")
    run("%cd sub", "cd")
    ended = run("%run ends.py", "ends")
    assert ended.status == "ok", ended.content
    shown = run("import sys as _s\nprint(early, late, _s.argv[:1] != ['ends.py'])", "after")
    assert shown.text().strip() == "7 None True"


def test_load_replaces_the_cell_with_a_file_read_where_the_runtime_is(kc, tmp_path) -> None:
    """%load is a request to the frontend (``set_next_input``, replacing the
    cell's text), as ipykernel sends it; nothing runs. JupyterLab puts the
    text in the cell; nbclient and papermill leave the cell as it was."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "exercise.py").write_text("def solve():\n    return 42\n\nsolve()\n")
    execute(kc, "%cd sub")  # the runtime's directory, not the kernel's
    result = execute(kc, "%load -s solve exercise.py", cell_id="ex")
    assert result.status == "ok"
    assert result.content["payload"] == [{
        "source": "set_next_input",
        "text": "# %load -s solve exercise.py\ndef solve():\n    return 42\n",
        "replace": True,
    }]
    assert [m for m in result.outputs if m["msg_type"] not in ("status", "execute_input")] == []
    # The loaded text, run as the user runs it next, is an ordinary cell.
    loaded = result.content["payload"][0]["text"]
    assert execute(kc, loaded + "solve()", cell_id="ex").text().strip() == "42"

    missing = execute(kc, "%load nowhere.py", stop_on_error=False)
    assert missing.status == "error" and missing.content["ename"] == "ValueError"
    assert "'nowhere.py' was not found" in missing.text()


def test_quickref_is_a_page_of_what_this_kernel_runs(kc) -> None:
    result = execute(kc, "%quickref")
    assert result.status == "ok"
    [page] = result.content["payload"]
    assert page["source"] == "page"
    text = page["data"]["text/plain"]
    assert "%timeit" in text and "%load" in text and "python -m bridge convert" in text
    listed = execute(kc, "%lsmagic")
    [value] = listed.of_type("execute_result")  # the cell's value, as in IPython
    assert "%timeit" in value["content"]["data"]["text/plain"]


def test_question_mark_shows_help_as_a_pager_payload(kc) -> None:
    result = execute(kc, "len?", cell_id="h")
    assert result.status == "ok"
    [page] = result.content["payload"]
    assert page["source"] == "page"
    assert "Return the number of items" in page["data"]["text/plain"]
    assert result.outputs == []  # help is a page, not an output
    deep = execute(kc, "import json\njson.dumps??")
    assert deep.status == "ok"
    assert "def dumps" in deep.content["payload"][0]["data"]["text/plain"]
    # An object that is not there: IPython says so on stdout, and pages nothing.
    for code in ("no_such_thing?", "x_missing = 1\nno_such_thing.attr?"):
        missing = execute(kc, code)
        assert missing.status == "ok" and missing.content["payload"] == [], code
        assert [m["content"]["text"] for m in missing.of_type("stream")] == [
            f"Object `{code.split(chr(10))[-1].rstrip('?')}` not found.\n"
        ], missing.outputs


@pytest.mark.parametrize("shape", SHAPES)
def test_display_is_an_output_of_its_own_in_order(kc, shape) -> None:
    cells = Cells(kc, shape)
    result, _ = cells.run("display('a'); print('p'); display('b'); 'c'")
    assert result.status == "ok"
    if shape == "nbclient":
        kinds = [m["msg_type"] for m in result.outputs]
        assert kinds == ["display_data", "stream", "display_data", "execute_result"]
        assert [m["content"].get("data", {}).get("text/plain") for m in result.outputs] == [
            "'a'", None, "'b'", "'c'"
        ]
    else:
        # One output each, below the cell's console: as the frontend shows them.
        outputs = cells.nb.cells["cell0"]
        assert [o["data"].get("text/plain") for o in outputs[1:]] == ["'a'", "'b'", "'c'"]
        assert outputs[0]["data"]["text/plain"] == "p\n"
    # Each display keeps its own mime bundle.
    result, _ = cells.run(
        "import pandas as pd\nfrom IPython.display import Markdown\n"
        "display(pd.DataFrame({'col': [1, 2]})); display(Markdown('*m*'))"
    )
    bundles = [m["content"]["data"] for m in result.outputs if "data" in m["content"]]
    assert any(
        "<table" in str(b.get("text/html", "")) and "col" in str(b.get("text/plain", ""))
        for b in bundles
    ), "the DataFrame as HTML, with its text"
    assert any(b.get("text/markdown") == "*m*" for b in bundles)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_figure_displayed_stays_an_image(kc, shape) -> None:
    cells = Cells(kc, shape)
    result, _ = cells.run(
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "fig = plt.figure()\nplt.plot([1, 2])\ndisplay(fig)\n'after'"
    )
    assert result.status == "ok"
    pngs = [m for m in result.outputs if "image/png" in m["content"].get("data", {})]
    assert pngs, "the figure is an image/png output of its own"
    if shape == "nbclient":
        assert result.outputs[-1]["msg_type"] == "execute_result"
    else:
        assert cells.nb.shown(f"cell{0}").endswith("'after'")


@pytest.mark.parametrize("shape", SHAPES)
def test_profiling_magics_print_what_ipython_prints(kc, shape) -> None:
    """Issue 20, item 4: %prun and %%prun with IPython's options, %lprun,
    %memit and %mprun with their packages."""
    cells = Cells(kc, shape)
    cells.ok("def work(n):\n    total = 0\n    for i in range(n):\n        total += i\n    return total")
    shown = cells.ok("%prun -s cumulative -l 1 result = work(10_000)")
    assert "function calls in" in shown and "Ordered by: cumulative time" in shown
    assert "due to restriction <1>" in shown and "(work)" in shown
    assert "Stats object" not in shown  # no value shown
    assert cells.ok("result").strip() == "49995000"  # the statement's names are defined
    shown = cells.ok("%%prun -q\nagain = work(100)")
    assert "function calls" not in shown
    assert cells.ok("again").strip() == "4950"
    cells.ok("stats = %prun -r -q work(10)")
    assert int(cells.ok("stats.total_calls").strip()) >= 1
    shown = cells.ok("%lprun -f work work(1000)")
    assert "Line Contents" in shown and "total += i" in shown
    shown = cells.ok("%memit work(10_000)")
    assert "peak memory:" in shown and "increment:" in shown
    shown = cells.ok("%mprun -f work work(1000)")
    assert "Mem usage" in shown and "total += i" in shown
    # An interrupt or exit in the statement ends the profiling, not the cell,
    # as the packages' magics do: what was measured, then what was caught.
    cells.ok("import sys\ndef stops(n):\n    total = work(n)\n    raise KeyboardInterrupt")
    shown = cells.ok("%mprun -f stops stops(10)\nafter_mprun = 1")
    assert "Mem usage" in shown and "total = work(n)" in shown
    assert "*** KeyboardInterrupt exception caught in code being profiled." in shown
    cells.ok("def exits(n):\n    total = work(n)\n    sys.exit(3)")
    shown = cells.ok("%lprun -f exits exits(10)\nafter_lprun = 1")
    assert "Line Contents" in shown and "total = work(n)" in shown
    assert "*** SystemExit exception caught in code being profiled." in shown
    assert cells.ok("after_mprun + after_lprun").strip() == "2"


# A 1x1 PNG.
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize("shape", SHAPES)
def test_an_ipython_image_is_shown_as_the_image(kc, tmp_path, shape) -> None:
    """``Image(filename=...)`` as a cell's value and through display():
    marimo's own formatter of it fails under IPython 9 and showed nothing."""
    import base64

    (tmp_path / "pixel.png").write_bytes(base64.b64decode(PIXEL))
    cells = Cells(kc, shape)
    for code in (
        "from IPython.display import Image\nImage(filename='pixel.png')",
        "display(Image(filename='pixel.png'))",
    ):
        result, _ = cells.run(code)
        assert result.status == "ok", code
        images = [
            m["content"]["data"]["image/png"] for m in result.outputs
            if "image/png" in m["content"].get("data", {})
        ]
        assert images == [PIXEL], code


@pytest.mark.parametrize("shape", SHAPES)
def test_a_failing_rich_representation_falls_back_as_ipython_does(kc, shape) -> None:
    """Issue 20, item 3: the next representation that works, and the
    formatter's error told; the cell does not go blank."""
    cells = Cells(kc, shape)
    cells.ok(
        "class Broken:\n    def _repr_html_(self):\n        raise ValueError('html is broken')\n"
        "    def __repr__(self):\n        return 'Broken()'"
    )
    # As in ipykernel: the formatter's error is an error output, and a cell
    # whose value failed to format failed (its displayhook's error); a
    # display() call that did goes on.
    result, shown = cells.run("Broken()")
    assert result.status == "error" and result.content["ename"] == "ValueError", shown
    assert result.content["evalue"] == "html is broken"
    assert "Broken()" in shown and "ValueError: html is broken" in shown, shown
    result, shown = cells.run("display(Broken())\nprint('went on')")
    assert result.status == "ok", shown
    assert "Broken()" in shown and "ValueError: html is broken" in shown, shown
    assert "went on" in shown
    if shape == "nbclient":
        errors = [m for m in result.outputs if m["msg_type"] == "error"]
        assert [e["content"]["ename"] for e in errors] == ["ValueError"], result.outputs
    # Nothing to show: the cell shows the error alone.
    cells.ok("class Unprintable:\n    def __repr__(self):\n        raise KeyError('no repr')")
    result, shown = cells.run("Unprintable()")
    assert result.status == "error" and result.content["ename"] == "KeyError", shown
    assert "KeyError: 'no repr'" in shown


@pytest.mark.parametrize("shape", SHAPES)
def test_display_handles_and_clear_output_show_the_last_frame(kc, shape) -> None:
    cells = Cells(kc, shape)
    assert cells.ok("h = display('first', display_id=True)\nh.update('second')") == "'second'"
    shown = cells.ok(
        "from IPython.display import clear_output\n"
        "for frame in range(4):\n"
        "    clear_output(wait=True)\n"
        "    print(f'progress {frame}')\n"
        "    display(f'frame {frame}')"
    )
    assert "progress 3" in shown and "'frame 3'" in shown
    assert "progress 2" not in shown and "frame 2" not in shown


def test_a_dependent_shows_its_displays_in_its_own_place(kc) -> None:
    nb = Notebook()
    assert nb.run(kc, "a", "n = 1").status == "ok"
    assert nb.run(kc, "b", "display(n * 10)\nn * 100").status == "ok"
    assert nb.shown("b") == "10\n100"
    assert nb.run(kc, "a", "n = 2").status == "ok"
    assert nb.shown("b") == "20\n200"
    # More displays than the cell has places for: the last place shows the
    # rest, nothing dropped (a frontend adds outputs only to a running cell).
    assert nb.run(kc, "c", "for k in range(n):\n    display(f'item {k}')").status == "ok"
    assert nb.shown("c") == "'item 0'\n'item 1'"
    assert nb.run(kc, "a", "n = 3").status == "ok"
    assert nb.shown("c") == "'item 0'\n'item 1'\n'item 2'"
    assert nb.run(kc, "a", "n = 1").status == "ok"
    assert nb.shown("c") == "'item 0'"


def test_clear_output_sends_the_message_ipykernel_sends(kc) -> None:
    result = execute(kc, "from IPython.display import clear_output\nclear_output(wait=True)")
    assert [m["msg_type"] for m in result.outputs] == ["clear_output"]
    assert result.outputs[0]["content"] == {"wait": True}


def test_is_complete_knows_ipython_syntax(kc) -> None:
    for code, status in (("%%time\nx = 1", "incomplete"), ("!ls", "complete"),
                         ("%time x = 1", "complete"), ("%%time\nx = 1\n\n", "complete")):
        kc.is_complete(code)
        reply = kc.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == status, code


def test_autoreload_turns_on_marimos_module_reloader(kc, tmp_path) -> None:
    module = tmp_path / "helper_mod.py"
    module.write_text("def answer():\n    return 1\n")
    assert execute(kc, "%load_ext autoreload\n%autoreload 2", cell_id="r").status == "ok"
    assert execute(kc, "import helper_mod", cell_id="i").status == "ok"
    assert execute(kc, "helper_mod.answer()", cell_id="c").text().strip() == "1"
    stamp = module.stat().st_mtime
    module.write_text("def answer():\n    return 2\n")
    os.utime(module, (stamp + 5, stamp + 5))
    # marimo's reloader polls the file; re-running the cell sees the new code
    # once it has (as %autoreload 2 does on the next execution).
    from helpers import wait_until

    wait_until(lambda: execute(kc, "helper_mod.answer()", cell_id="c").text().strip() == "2",
               timeout=30, what="the edited module to be reloaded")


def _wheel(folder: Path, name: str, value: int) -> None:
    """A minimal wheel of one module, ``{name}.VALUE == value``, for pip --no-index."""
    import base64
    import hashlib
    import zipfile

    files = {
        f"{name}/__init__.py": f"VALUE = {value}\n",
        f"{name}-0.1.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n",
        f"{name}-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-0.1.dist-info/RECORD,,")
    files[f"{name}-0.1.dist-info/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(folder / f"{name}-0.1-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


@pytest.fixture
def probe_package(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A local wheel to install with %pip (no network); uninstalled after."""
    import subprocess
    import sys

    name = "bridge_pip_probe"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, name, 7)
    yield name, wheels
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", name],
                   capture_output=True, check=False)


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("!echo hi\n1/0", 2),
        ("%time x = 1\n%cd .\n1/0", 3),
        ("%%time\nx = 1\n1/0", 3),
        ("%%capture c\nx = 1\n1/0", 3),
    ],
)
def test_a_traceback_names_the_line_the_user_typed(kc, typed: str, line: int) -> None:
    """The runtime keeps each line of the user's where it was typed (the
    twin's readable cell is longer): a traceback points at the cell's line."""
    result = execute(kc, typed, cell_id="t")
    assert result.status == "error" and result.content["ename"] == "ZeroDivisionError"
    frames = [f for f in result.content["traceback"] if "Cell In[" in f]
    assert frames and f", line {line}" in frames[-1], result.content["traceback"]


@pytest.mark.parametrize("shape", SHAPES)
def test_output_history_names_read_what_ipython_keeps(kc, shape) -> None:
    """``_``, ``__``, ``___``, ``_N``, ``Out[N]``, ``In[N]``, ``_i``, ``_iN``:
    the values and inputs of the cells Jupyter ran, by execution count."""
    cells = Cells(kc, shape)
    first, _ = cells.run("6 * 7")
    n = first.content["execution_count"]
    assert cells.ok("_ + 1") == "43"
    assert cells.ok("x_ = 1") == ""  # no value: the history does not move
    cells.ok("'third'")
    assert cells.ok("print(_, __, ___)").strip() == "third 43 42"
    assert cells.ok(f"print(Out[{n}], _{n})").strip() == "42 42"
    assert cells.ok(f"print(In[{n}], _i{n}, sep='|')").strip() == "6 * 7|6 * 7"
    assert cells.ok("print(_i)").strip() == f"print(In[{n}], _i{n}, sep='|')"
    cells.ok("'quiet';")  # a trailing ; keeps no value, as in IPython
    assert cells.ok("_") != "'quiet'"
    # A value that shows a figure is not kept: it would keep the figure alive.
    cells.ok("'before the plot'")
    cells.ok("import matplotlib.pyplot as plt\nplt.plot([1, 2])")
    assert cells.ok("print(_)").strip() == "before the plot"
    # A cell's own ``_`` is its own; a number with no output is a NameError.
    assert cells.ok("for _ in range(3):\n    pass\n_") == "2"
    missing, shown = cells.run("_99999")
    assert missing.status == "error" and missing.content["ename"] == "NameError", shown


def test_a_future_import_after_other_lines_runs_as_in_ipython(kc) -> None:
    """IPython compiles a cell statement by statement: a future import may
    follow other lines, and sit in a %%capture body."""
    late = execute(kc, "%matplotlib inline\nfrom __future__ import division, print_function\n7 / 2")
    assert late.status == "ok", late.text()
    assert late.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "3.5"
    captured = execute(kc, "%%capture out\nfrom __future__ import print_function\nprint('kept')")
    assert captured.status == "ok", captured.text()
    assert execute(kc, "out.stdout").of_type("execute_result")[0]["content"]["data"][
        "text/plain"] == "'kept\\n'"
    # A feature that is not mandatory still has to come first, as in Python.
    annotations = execute(kc, "x__ = 1\nfrom __future__ import annotations", stop_on_error=False)
    assert annotations.status == "error" and "beginning of the file" in annotations.text()


def test_javascript_xmode_and_a_lone_question_mark(kc) -> None:
    js = execute(kc, "%%javascript\nconsole.log('hi')")
    assert js.status == "ok", js.text()
    [shown] = js.of_type("display_data")
    assert shown["content"]["data"]["application/javascript"].strip() == "console.log('hi')"
    mode = execute(kc, "%xmode context")
    assert mode.status == "ok" and "Exception reporting mode: Context" in mode.text()
    usage = execute(kc, "?")
    assert usage.status == "ok"
    assert "Quick Reference" in usage.content["payload"][0]["data"]["text/plain"]


def test_psearch_connect_info_and_qtconsole_as_ipykernel_has_them(kc, tmp_path) -> None:
    """``*int*?``: the names a wildcard matches, in the notebook and the
    builtins; ``%connect_info``: this kernel's connection file and how to
    connect to it; ``%qtconsole`` starts one (ipykernel does not wait)."""
    assert execute(kc, "my_interval = 1\nmy_int_list = []\ndef my_fn(): pass").status == "ok"
    found = execute(kc, "*int*?")
    assert found.status == "ok", found.text()
    names = found.text().split()
    assert {"my_interval", "my_int_list", "int", "print"} <= set(names), names
    assert names == sorted(names)
    typed = execute(kc, "%psearch my_* function")
    assert typed.text().split() == ["my_fn"], typed.text()
    leading = execute(kc, "?MY_INT*")
    assert leading.status == "ok" and leading.text().split() == [], leading.text()
    folded = execute(kc, "%psearch -i MY_INT*")
    assert folded.text().split() == ["my_int_list", "my_interval"], folded.text()
    bad = execute(kc, "%psearch -s nowhere a*")
    assert bad.status == "error" and "invalid namespace <nowhere>" in bad.content["evalue"]
    info = execute(kc, "%connect_info")
    assert info.status == "ok", info.text()
    shown = info.text()
    connection = json.loads(shown.split("\n\n")[0])
    assert connection["shell_port"] == kc.shell_port and connection["key"] == kc.session.key.decode()
    assert f"--existing {Path(kc.connection_file).name}" in shown or kc.connection_file in shown
    assert execute(kc, "%qtconsole").status == "ok"


def test_history_prints_this_sessions_inputs_as_ipython_does(kc) -> None:
    first = execute(kc, "a__ = 1")
    n = first.content["execution_count"]
    execute(kc, "b__ = 2\nb__ * 3")
    numbered = execute(kc, f"%history -n {n}-{n + 1}")
    assert numbered.status == "ok"
    assert numbered.text() == f"{n:>4}: a__ = 1\n{n + 1:>4}:\nb__ = 2\nb__ * 3\n"
    outputs = execute(kc, f"%history -o {n + 1}")
    assert outputs.text() == "b__ = 2\nb__ * 3\n6\n"
    last = execute(kc, "%history -l 1")
    assert last.text() == f"%history -o {n + 1}\n"
    refused = execute(kc, "%history -f out.py", stop_on_error=False)
    assert refused.status == "error" and "this session's inputs only" in refused.text()


@pytest.mark.parametrize("shape", SHAPES)
def test_capture_keeps_displays_and_figures_until_shown(kc, shape) -> None:
    """As IPython's %%capture: what the body displays, and the figure it
    leaves open, are not shown; ``cap()`` shows them, after the text."""
    cells = Cells(kc, shape)
    quiet, shown = cells.run(
        "%%capture cap\nimport matplotlib.pyplot as plt\nprint('text')\n"
        "display({'text/plain': 'displayed'}, raw=True)\nplt.plot([1, 2, 3])"
    )
    assert quiet.status == "ok" and shown == "", shown
    sent = [m["content"].get("data", {}) for m in quiet.outputs]
    assert not any("image/png" in d or "displayed" in str(d) for d in sent), sent
    assert not quiet.of_type("stream")
    assert cells.ok("len(cap.outputs)") == "2"
    again, shown = cells.run("cap()")
    assert again.status == "ok"
    outputs = [o["data"] for o in cells.nb.cells[list(cells.nb.cells)[-1]]
               if any(o["data"].values())]
    assert [o.get("text/plain") for o in outputs[:2]] == ["text\n", "displayed"], outputs
    assert len(outputs) == 3 and "image/png" in outputs[2], shown
    # --no-display lets them through.
    through, shown = cells.run("%%capture --no-display\nprint('hidden')\ndisplay('seen')")
    assert through.status == "ok" and shown == "'seen'"


def test_get_ipython_serves_the_calls_notebooks_make_on_it(kc) -> None:
    """``ip = get_ipython()`` then its magics, shell calls and formatters,
    where the rewriting of a whole-statement call cannot reach."""
    timed = execute(kc, "ip = get_ipython()\nif True:\n    ip.run_line_magic('time', 'y_ = 6 * 7')")
    assert timed.status == "ok" and "Wall time:" in timed.text(), timed.text()
    assert execute(kc, "y_").text() == "42"  # defined in the cell's namespace
    lines = execute(kc, "print(get_ipython().getoutput('echo one; echo two'))")
    assert lines.text() == "['one', 'two']\n"
    cell = execute(kc, "ip.run_cell_magic('capture', 'quiet', 'print(1)')\nquiet.stdout")
    assert cell.text() == "'1\\n'"
    registered = execute(
        kc,
        "class Money:\n    pass\n"
        "ip.display_formatter.formatters['text/html'].for_type(Money, lambda obj: '<b>$ 5</b>')\n"
        "display(Money())",
    )
    assert registered.status == "ok", registered.text()
    [shown] = registered.of_type("display_data")
    assert shown["content"]["data"]["text/html"] == "<b>$ 5</b>"
    # Libraries that ask for a builtin get_ipython (sympy's init_printing)
    # still learn that they do not run in IPython.
    assert execute(kc, "import builtins\nhasattr(builtins, 'get_ipython')").text() == "False"
    missing = execute(kc, "ip.events", stop_on_error=False)
    assert missing.status == "error" and missing.content["ename"] == "AttributeError"
    assert "run_line_magic" in missing.content["evalue"]
