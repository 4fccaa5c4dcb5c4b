"""A magic's twin cell reads as code a person wrote, and runs as the kernel's.

bridge/ipython/rewrite.py writes each cell twice: ``twin`` for the marimo
notebook (one statement a line, a comment naming the magic) and ``code`` for
the kernel's runtime (every line of the user's where it was typed, so a
traceback's line numbers are the cell's). Both run here, in a folder of
their own, and must print the same and define the same.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import re
import subprocess
import tokenize
import traceback
from pathlib import Path
from typing import Any

import pytest

from bridge.ipython.rewrite import rewrite

# (what the user typed, what the twin's comment says)
READABLE = [
    ("!cat note.txt", "# !cat note.txt"),
    ("!echo got {n} && exit 3", "# !echo got {n} && exit 3"),
    ("lines = !printf 'a\\nb\\n'", "# lines = !printf 'a\\nb\\n'"),
    ("%sx echo sx", "# %sx echo sx"),
    ("%ls", "# %ls"),
    ("%time y = n * 2", "# %time y = n * 2"),
    ("%time n + 1", "# %time n + 1"),
    ("%timeit -n 2 -r 3 n + 1", "# %timeit -n 2 -r 3 n + 1"),
    ("%timeit -n 1 -r 1 z = n", "# %timeit -n 1 -r 1 z = n"),
    ("%%time\nq = n\nq * 3", "# %%time"),
    ("%%timeit -n 2 -r 2\nw = n", "# %%timeit -n 2 -r 2"),
    ("%%capture cap\nprint('hidden')\nimport sys; print('e', file=sys.stderr)",
     "# %%capture cap"),
    ("%%capture cap --no-stderr\nprint('x')", "# %%capture cap --no-stderr"),
    ("%%bash --no-raise-error\necho from bash\nexit 2", "# %%bash --no-raise-error"),
    ("%%bash --out o --err e\necho out\necho err >&2", "# %%bash --out o --err e"),
    ("%%script python3\nprint('from python', 6 * 7)", "# %%script python3"),
    ("%%python3 --out kept\nprint('kept')", "# %%python3 --out kept"),
    ("%%script no-such-program-here\nanything", "# %%script no-such-program-here"),
    ("%%sh\necho \"$((1+2))\" 'a\\b'", "# %%sh"),
    ("%%markdown\n# Title\nsome *text*", "# %%markdown"),
    ("%%latex\n\\frac{a}{b}", "# %%latex"),
    ("%%html\n<b>bold</b>", "# %%html"),
    ("%%writefile notes.txt\nfirst line", "# %%writefile notes.txt"),
    ("%%writefile -a note.txt\nmore \"quoted\"", "# %%writefile -a note.txt"),
    ("%cd sub", "# %cd sub"),
    ("%pwd", "# %pwd"),
    ("x = %pwd", "# x = %pwd"),
    ("%env BRIDGE_READABLE=1", "# %env BRIDGE_READABLE=1"),
    ("%pip --version", "# %pip --version"),
    ("%prun -q p = sum(range(n))", "# %prun -q p = sum(range(n))"),
    ("stats = %prun -r -q sum(range(n))", "# stats = %prun -r -q sum(range(n))"),
    ("%%prun -q\np2 = n + 1", "# %%prun -q"),
    ("%lprun -f work work(3)", "# %lprun -f work work(3)"),
    ("%mprun -f work work(3)", "# %mprun -f work work(3)"),
    ("%memit work(3)", "# %memit work(3)"),
    ("for k in range(2):\n    !echo k={k}", "    # !echo k={k}"),
    ("a = 1\n%time b = a + 1\nc = b", "# %time b = a + 1"),
]

WORK = "def work(n):\n    total = 0\n    for i in range(n):\n        total += i\n    return total\n"


def _semicolons(code: str) -> int:
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return sum(1 for t in tokens if t.type == tokenize.OP and t.string == ";")


@pytest.mark.parametrize(("typed", "comment"), READABLE)
def test_the_twin_cell_of_a_magic_reads_as_code(typed: str, comment: str) -> None:
    out = rewrite(typed)
    assert out.error is None and out.changed
    lines = out.twin.split("\n")
    assert comment in lines, out.twin
    assert len(lines) >= 3, out.twin  # the comment, then its statements a line each
    assert max(map(len, lines)) <= 100, out.twin
    # One statement a line (the user's own ';' aside), no one-line tricks.
    assert _semicolons(out.twin) == typed.count(";")
    for trick in ("any(print", "lambda seconds", "__import__", "next(f"):
        assert trick not in out.twin, (trick, out.twin)
    compile(out.twin, "twin", "exec")


def test_a_cell_magic_starts_with_its_comment() -> None:
    for typed, comment in READABLE:
        if typed.startswith("%%"):
            assert rewrite(typed).twin.split("\n")[0] == comment


def test_what_names_its_magic_already_stays_one_line() -> None:
    assert rewrite("%matplotlib qt").twin.startswith("pass  # %matplotlib qt")
    assert rewrite("%pip install requests").twin.startswith("pass  # %pip install requests")
    # Questions to the kernel, not steps of the notebook.
    assert rewrite("*int*?").twin == "pass  # %psearch *int*"
    assert rewrite("%connect_info").twin == "pass  # %connect_info"
    assert rewrite("%qtconsole").twin == "pass  # %qtconsole"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("a = 1\n%cd /tmp\nb = 2\n!ls\nc = 3", {0: "a = 1", 2: "b = 2", 4: "c = 3"}),
        ("!echo hi\n1/0", {1: "1/0"}),
        ("x = !ls\ny = len(x)", {1: "y = len(x)"}),
        ("%time t = 1\n%timeit t + 1\n%env A=1\nz = t", {3: "z = t"}),
        ("%%time\nx = 1\ny = x", {1: "x = 1", 2: "y = x"}),
        ("%%capture c\nx = 1\ny = x", {1: "    x = 1", 2: "    y = x"}),
        ("%%prun -q\nx = 1\ny = x", {1: "    x = 1", 2: "    y = x"}),
        ("%%timeit\nx = 1\ny = x", {1: "    x = 1", 2: "    y = x"}),
        ("%lprun -f f f(1)\nx = 1\n%mprun -f f f(2)\ny = x", {1: "x = 1", 3: "y = x"}),
    ],
)
def test_the_runtime_keeps_every_line_of_the_users_where_it_was(
    typed: str, kept: dict[int, str]
) -> None:
    code = rewrite(typed).code.split("\n")
    for number, line in kept.items():
        assert code[number] == line, (number, code)


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("!echo hi\n1/0", 2),
        ("%time x = 1\ny = 2\n1/0", 3),
        ("%time 1/0", 1),
        ("%%time\nx = 1\n1/0", 3),
        ("%%capture c\nx = 1\n1/0", 3),
        ("%%prun -q\nx = 1\n1/0", 3),
        ("%%timeit -n 1 -r 1\nx = 1\n1/0", 3),
    ],
)
def test_a_traceback_in_the_runtime_names_the_line_the_user_typed(
    typed: str, line: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    filename = str(tmp_path / "cell.py")
    with pytest.raises(ZeroDivisionError) as failed, contextlib.redirect_stdout(io.StringIO()):
        exec(compile(rewrite(typed).code, filename, "exec"), {})
    frames = [f for f in traceback.extract_tb(failed.value.__traceback__) if f.filename == filename]
    assert frames[-1].lineno == line


_TIME = re.compile(r"\d+(\.\d+)?(e[-+]?\d+)? ?(s|ms|µs|ns|us)\b")


def _normal(text: str, folder: Path) -> str:
    text = text.replace(str(folder), "<folder>")
    text = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", _TIME.sub("<time>", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _summary(value: Any, folder: Path) -> Any:
    if isinstance(value, str):
        return value.replace(str(folder), "<folder>")
    if isinstance(value, (int, float, bool, list, tuple, dict, type(None))):
        return value
    text = getattr(value, "text", None)  # marimo's Html
    if isinstance(text, str):
        return text
    if hasattr(value, "stdout"):  # %%capture's
        return (value.stdout, value.stderr)
    return type(value).__name__


def _run_as_marimo(source: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict]:
    """Run ``source`` as a cell in ``folder``: what it prints, and the names
    it defines with its last expression's value (``_output``)."""
    folder.mkdir()
    (folder / "sub").mkdir()
    (folder / "note.txt").write_text("a note\n")
    (folder / "work_module.py").write_text(WORK)
    spec = importlib.util.spec_from_file_location("work_module", folder / "work_module.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("BRIDGE_READABLE", "")
    namespace: dict[str, Any] = {"n": 5, "work": module.work, "__name__": "__main__"}
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    printed = io.StringIO()
    filename = str(folder / "cell.py")
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            namespace["_output"] = eval(compile(ast.Expression(last.value), filename, "eval"),
                                        namespace)
    # A last expression of None shows nothing, as no last expression does.
    names = {k: _summary(v, folder) for k, v in namespace.items()
             if (k in ("_magic_value", "_output") or not k.startswith("_"))
             and not (k == "_output" and v is None)}
    return _normal(printed.getvalue(), folder), names


@pytest.mark.parametrize("typed", [typed for typed, _ in READABLE])
def test_the_twin_and_the_runtime_run_alike(
    typed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = rewrite(typed)
    assert out.code != out.twin or typed.startswith("%%")
    runtime = _run_as_marimo(out.code, tmp_path / "runtime", monkeypatch)
    twin = _run_as_marimo(out.twin, tmp_path / "twin", monkeypatch)
    assert runtime == twin
    assert (tmp_path / "runtime" / "notes.txt").exists() == ("notes.txt" in typed)
    for name in ("notes.txt", "note.txt"):
        assert _read(tmp_path / "runtime" / name) == _read(tmp_path / "twin" / name)


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def test_what_the_magics_print_is_what_ipython_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed, names = _run_as_marimo(
        "\n".join(rewrite(line).twin for line in (
            "!cat note.txt", "!echo got {n} && exit 3", "%timeit -n 1 -r 1 n",
            "%time y = n * 2", "%env BRIDGE_READABLE=1",
        )),
        tmp_path / "f", monkeypatch,
    )
    assert printed.split("\n") == [
        "a note", "got N", "exit status N",
        "<time> ± <time> per loop (mean ± std. dev. of N run, N loop each)",
        "Wall time: <time>", "env: BRIDGE_READABLE=N",
    ]
    assert names["y"] == 10


def test_format_time_is_ipythons() -> None:
    namespace: dict[str, Any] = {}
    exec(rewrite("%time 1").twin.split("_time_start")[0], namespace)
    format_time = namespace["_format_time"]
    assert [format_time(t) for t in (2.5, 0.5, 1.5e-3, 2e-6, 3e-9, 0)] == [
        "2.5 s", "500 ms", "1.5 ms", "2 µs", "3 ns", "0 ns"
    ]


def test_a_comment_after_a_magics_statement_stays_a_comment(capsys: pytest.CaptureFixture[str]) -> None:
    """IPython compiles ``%time f()  # note`` alone; on the user's line in the
    kernel the comment must not swallow the rest of the magic's code."""
    for typed, shows in (("%time sum([1, 2])  # note", "Wall time"),
                         ("%memit sum([1])  # c", "peak memory")):
        namespace: dict[str, Any] = {}
        exec(rewrite(typed).code, namespace)
        assert shows in capsys.readouterr().out, typed
    namespace = {}
    exec(rewrite('x = "#"\n%time y = x  # c').code, namespace)
    assert namespace["y"] == "#"


@pytest.mark.parametrize("typed", ["%%bash\necho before\nexit 3", "%%python3\nraise SystemExit(3)"])
def test_a_script_that_fails_fails_its_cell_as_in_ipython(
    typed: str, capfd: pytest.CaptureFixture[str]
) -> None:
    for form in (rewrite(typed).code, rewrite(typed).twin):
        with pytest.raises(subprocess.CalledProcessError) as failed:
            exec(form, {})
        assert failed.value.returncode == 3


def test_a_shell_script_keeps_its_line_numbers(capfd: pytest.CaptureFixture[str]) -> None:
    exec(rewrite("%%bash\necho line $LINENO\necho line $LINENO").code, {})
    assert capfd.readouterr().out.split() == ["line", "1", "line", "2"]
