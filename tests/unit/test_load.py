"""``%load``'s text, read as IPython's CodeMagics.load reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.ipython.asks import LoadError, loaded
from bridge.ipython.rewrite import rewrite

SOURCE = "def f(x):\n    return x * 2\n\nclass K:\n    pass\n\nprint(f(21))\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "mod.py").write_text(SOURCE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("plain text\n")
    return tmp_path


def test_a_file_is_loaded_whole_under_a_comment_naming_the_magic(folder: Path) -> None:
    assert loaded("mod.py", str(folder)) == (f"# %load mod.py\n{SOURCE}", [])
    # Relative to the directory given (the runtime's), ``.py`` added as IPython does.
    assert loaded("mod", str(folder))[0] == f"# %load mod\n{SOURCE}"
    assert loaded(str(folder / "notes.txt"), "/")[0].endswith("plain text\n")


def test_symbols_and_line_ranges_pick_parts(folder: Path) -> None:
    assert loaded("-s f mod.py", str(folder))[0] == "# %load -s f mod.py\ndef f(x):\n    return x * 2\n"
    text, warnings = loaded("-s nope,K mod.py", str(folder))
    assert text == "# %load -s nope,K mod.py\nclass K:\n    pass\n"
    assert warnings == ["The symbol `nope` was not found"]
    assert loaded("-r 7 mod.py", str(folder))[0] == "# %load -r 7 mod.py\nprint(f(21))"
    assert loaded("-r 1-2 mod.py", str(folder))[0] == "# %load -r 1-2 mod.py\ndef f(x):\n    return x * 2"


@pytest.mark.parametrize(
    ("args", "ename", "says"),
    [
        ("nosuch.py", "ValueError", "'nosuch.py' was not found as a file or URL"),
        ("sub", "ValueError", "'sub' is a directory"),
        ("", "UsageError", "needs one file or URL"),
        ("-q mod.py", "UsageError", "option -q not recognized"),
        ("-s f notes.txt", "UsageError", "Unable to parse"),
    ],
)
def test_what_cannot_be_loaded_is_an_error_that_says_why(
    folder: Path, args: str, ename: str, says: str
) -> None:
    with pytest.raises(LoadError) as failed:
        loaded(args, str(folder))
    assert failed.value.ename == ename
    assert says in failed.value.evalue


def test_load_and_quickref_are_asks_of_the_frontend_and_run_nothing() -> None:
    load = rewrite("%load mod.py")
    assert load.only_asks and load.error is None
    quickref = rewrite("%quickref")
    assert quickref.only_asks
    assert "%load" in quickref.asks[0].text and "%%perl" in quickref.asks[0].text  # type: ignore[union-attr]
    # %load replaces the cell's text: with other code beside it, it is refused.
    assert "a cell of its own" in (rewrite("x = 1\n%load mod.py").error or "")


def test_a_url_that_cannot_be_read_is_an_error_that_says_so(folder: Path) -> None:
    with pytest.raises(LoadError) as failed:
        loaded("http://127.0.0.1:9/script.py", str(folder))  # nothing listens there
    assert failed.value.ename == "ValueError" and "could not be read" in failed.value.evalue
