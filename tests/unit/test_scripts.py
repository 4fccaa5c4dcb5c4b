"""IPython's script magics, as the code the kernel runs for them (scripts.py)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest

from bridge.ipython.rewrite import rewrite


def _run(cell: str) -> tuple[str, dict]:
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(rewrite(cell).code, namespace)
    return printed.getvalue(), namespace


@pytest.mark.timeout(60)
def test_a_long_body_and_a_long_output_do_not_block_each_other() -> None:
    body = "x" * 300_000  # more than a pipe holds, both ways
    printed, _ = _run(f"%%script {sys.executable} -c 'import sys; sys.stdout.write(sys.stdin.read())'\n{body}")
    assert printed == body + "\n"


@pytest.mark.timeout(60)
def test_a_program_that_does_not_read_its_body_is_no_error() -> None:
    printed, _ = _run("%%script sh -c 'exit 0'\n" + "x" * 300_000)
    assert printed == ""


def test_out_and_err_keep_the_text_and_exist_even_without_the_program() -> None:
    _, names = _run("%%bash --out=o --err e\necho out\necho err >&2")
    assert (names["o"], names["e"]) == ("out\n", "err\n")
    printed, names = _run("%%script no-such-program-here --out o\nx")
    assert printed == "Couldn't find program: 'no-such-program-here'\n"
    assert names["o"] == ""


@pytest.mark.parametrize("args", ["--out class", "--out", "--err 1x", "--proc p"])
def test_options_that_cannot_work_are_refused(args: str) -> None:
    assert rewrite(f"%%bash {args}\necho").error is not None


def test_a_failing_script_raises_after_its_output() -> None:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.raises(subprocess.CalledProcessError):
        exec(rewrite("%%python3\nprint('before')\nraise SystemExit(2)").code, {})
    assert printed.getvalue() == "before\n"


@pytest.mark.timeout(60)
def test_bg_starts_the_program_and_keeps_its_streams_and_process() -> None:
    """As IPython's ``--bg``: the cell ends at once; ``--out`` and ``--err``
    are byte streams, ``--proc`` the process."""
    echo = "import sys; sys.stdout.write(sys.stdin.read()); print('err', file=sys.stderr)"
    printed, names = _run(
        f'%%script --bg --out o --err e --proc p {sys.executable} -c "{echo}"\nthe body\n'
    )
    assert printed == ""
    assert names["p"].wait(timeout=30) == 0
    assert names["o"].read() == b"the body\n" and names["e"].read() == b"err\n"
    printed, names = _run("%%bash --bg\necho discarded")
    assert printed == ""
    _, names = _run("%%script --bg --out o --proc p no-such-program-here\nx")
    assert (names["o"], names["p"]) == ("", None)
