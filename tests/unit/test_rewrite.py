"""IPython syntax as plain Python: what each idiom becomes, read statically."""

from __future__ import annotations

import pytest

from bridge.ipython.asks import Help
from bridge.ipython.rewrite import rewrite
from bridge.ipython.shell import pip_from_twin, shell_string
from bridge.notebook.defs import defined_names
from bridge.twin.script_deps import with_dependencies


@pytest.mark.parametrize(
    ("typed", "defines"),
    [
        ("%time t = f()", {"t"}),
        ("files = !ls", {"files"}),
        ("x = %pwd", {"x"}),
        ("%%time\nz = 5\nz + 1", {"z"}),
        ("%%capture cap\ny = 1", {"cap", "y"}),
        ("!ls", set()),
        ("%timeit x = 1", set()),  # timed in a function of its own, as IPython does
        ("%%timeit\nw = 1", set()),
        ("%cd /tmp", set()),
        ("%%writefile f.txt\nbody", set()),
        ("%env A=1", set()),
        ("%matplotlib inline", set()),
    ],
)
def test_names_a_magic_defines_are_definitions(typed: str, defines: set[str]) -> None:
    out = rewrite(typed)
    assert out.error is None
    compile(out.code, "cell", "exec")
    # Helpers are _private (cell-local in marimo): two such cells never clash.
    assert {n for n in defined_names(out.code) if not n.startswith("_")} == defines


def test_line_numbers_of_line_magics_are_kept() -> None:
    typed = "a = 1\n%cd /tmp\nb = 2\n!ls\nc = 3"
    assert rewrite(typed).code.split("\n")[4] == "c = 3"


def test_plain_python_and_strings_are_left_alone() -> None:
    for code in ("x = 1", "s = '%time'", "print('!ls')", "# %time x", "d = {'a?': 1}"):
        assert rewrite(code).code == code and not rewrite(code).changed


def test_kernel_directives_are_not_magics() -> None:
    for code in ("%%scratch\nx = 1", "%%run_stale"):
        assert rewrite(code).error is None and rewrite(code).code == code


def test_unknown_magics_are_errors_naming_them() -> None:
    assert "%who is not supported" in str(rewrite("%who").error)
    assert "%%cython is not supported" in str(rewrite("%%cython\n1").error)


def test_help_only_cells_run_nothing() -> None:
    assert rewrite("len?").only_asks and rewrite("len?").asks == (Help("len", 0),)
    assert rewrite("len??").asks == (Help("len", 1),)
    mixed = rewrite("x = 1\nx?")
    assert mixed.asks == (Help("x", 0),) and not mixed.only_asks
    # A line of the user's that merely looks like a rewritten one still runs.
    assert not rewrite("pass  # mine\nlen?").only_asks
    assert rewrite("# about len\nlen?").only_asks


def test_pip_install_is_a_twin_dependency_not_a_run() -> None:
    out = rewrite("%pip install -q requests 'numpy>=2'")
    assert "pip" in out.code and out.code != out.twin
    assert pip_from_twin(out.twin) == ["requests", "numpy>=2"]
    assert rewrite("!pip install requests").twin == rewrite("%pip install requests").twin
    listed = rewrite("%pip list")
    assert listed.twin.startswith("# %pip list\n") and "'pip', 'list'" in listed.twin
    assert pip_from_twin(listed.twin) == []


def test_shell_expansion_of_python_expressions() -> None:
    assert shell_string("echo {x} {y + 1}") == "f'echo {x} {y + 1}'"
    assert shell_string("awk '{print $1}' f") == repr("awk '{print $1}' f")
    assert shell_string("ls") == "'ls'"


@pytest.mark.parametrize(
    ("command", "names", "shell_gets"),
    [
        ("echo $files", {"files": ["a", "b"]}, "echo ['a', 'b']"),
        ("echo $HOME", {}, "echo $HOME"),  # no Python variable: the shell's
        ("echo $n {n + 1}", {"n": 1}, "echo 1 2"),
        ("echo $n $HOME {n}", {"n": 1}, "echo $n $HOME {n}"),  # IPython: all or nothing
        ("echo $$n", {"n": 1}, "echo $n"),
        ("echo '$n' $n", {"n": 1}, "echo '$n' 1"),  # single quotes keep a $
        ("echo $p.name", {"p": __import__("pathlib").Path("/x/y.txt")}, "echo y.txt"),
        ("awk '{print $1}' f", {}, "awk '{print $1}' f"),
        ("awk '{print $1}' $f", {"f": "data.txt"}, "awk '{print $1}' $f"),  # all as typed
        ("cp $src.csv out/", {"src": "name"}, "cp $src.csv out/"),  # no attribute csv
    ],
)
def test_dollar_names_expand_as_ipythons_var_expand(
    command: str, names: dict, shell_gets: str
) -> None:
    assert eval(shell_string(command), dict(names)) == shell_gets


def test_dependencies_are_added_once_and_the_users_kept() -> None:
    header = '# /// script\n# requires-python = ">=3.11"\n# dependencies = [\n#     "Numpy",\n# ]\n# ///\n'
    out = with_dependencies(header, ["numpy", "requests"])
    assert '"Numpy"' in out and '"requests"' in out and out.count("numpy") == 0
    assert 'requires-python = ">=3.11"' in out
    assert with_dependencies(out, ["requests"]) == out
    assert with_dependencies("", ["a"]).startswith("# /// script\n# dependencies = [")


def test_exit_asks_the_frontend_to_exit() -> None:
    for code in ("exit", "quit", " exit() "):
        assert rewrite(code).ask_exit
    assert not rewrite("exit_code = 1").ask_exit


def test_a_profiler_magic_without_its_package_names_the_package(monkeypatch) -> None:
    import importlib.util

    from bridge.ipython.rewrite import _rewrite

    real = importlib.util.find_spec

    def missing(name: str, *args: object) -> object:
        return None if name in ("line_profiler", "memory_profiler") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", missing)
    _rewrite.cache_clear()
    for magic, package in (("lprun -f f f(1)", "line_profiler"), ("memit f(1)", "memory_profiler"),
                           ("mprun -f f f(1)", "memory_profiler")):
        told = rewrite(f"%{magic}")
        assert told.error is not None and f"needs the {package} package" in told.error
        assert f"%pip install {package}" in told.error
    _rewrite.cache_clear()


def test_prun_options_are_ipythons() -> None:
    from bridge.ipython.profiling import _options

    options, statement = _options("-s cumulative -s calls -l 5 -r -q f(x, -1)", "sTDl", "rq")
    assert options == {"s": ["cumulative", "calls"], "l": ["5"], "r": [], "q": []}
    assert statement == "f(x, -1)"


def test_the_profilers_extensions_load_as_built_in_magics() -> None:
    for line in ("%load_ext line_profiler", "%load_ext memory_profiler"):
        told = rewrite(line)
        assert told.error is None and told.code.startswith("pass  #"), line
    assert rewrite("%load_ext some_extension").error is not None


@pytest.mark.parametrize(
    ("typed", "as_magic"),
    [
        ("ls scripts/*.py", "%ls scripts/*.py"),
        ("cat notes.txt", "%cat notes.txt"),
        ("cd sub", "%cd sub"),
        ("pip install tqdm", "%pip install tqdm"),
    ],
)
def test_a_one_line_cell_naming_a_magic_is_that_magic_as_ipythons_automagic(
    typed: str, as_magic: str
) -> None:
    assert rewrite(typed) == rewrite(as_magic)


@pytest.mark.parametrize(
    "python", ["ls - l", "ls", "cat = 3", "cd(1)", "cat a.txt\nx = 1", "env = 3 +", "cat , x"]
)
def test_python_is_never_taken_for_automagic(python: str) -> None:
    assert rewrite(python).code == python and not rewrite(python).changed


@pytest.mark.parametrize(
    ("pasted", "runs"),
    [
        (">>> x = 1\n>>> print(x)", "x = 1\nprint(x)"),
        ("In [1]: for i in range(3):\n   ...:     print(i)", "for i in range(3):\n    print(i)"),
        (">>> # a comment\n... a, b = 0, 1", "# a comment\na, b = 0, 1"),
    ],
)
def test_a_pasted_prompt_is_taken_off_as_ipython_does(pasted: str, runs: str) -> None:
    assert rewrite(pasted).code == runs and rewrite(pasted).twin == runs


def test_a_doctest_in_a_docstring_is_left_alone() -> None:
    code = 'def f():\n    """\n    >>> f()\n    1\n    """\n    return 1'
    assert rewrite(code).code == code


def test_leading_empty_lines_keep_the_magic_and_the_line_numbers() -> None:
    out = rewrite("\n\n%time 1\n1/0")
    assert out.error is None
    assert out.code.split("\n")[3] == "1/0"


@pytest.mark.parametrize(
    ("exported", "typed"),
    [
        ("get_ipython().run_line_magic('matplotlib', 'inline')", "%matplotlib inline"),
        ("get_ipython().system('echo hi')", "!echo hi"),
        ("files = get_ipython().getoutput('ls')", "files = !ls"),
        ("import os\nget_ipython().run_line_magic('time', 'os.getcwd()')", "import os\n%time os.getcwd()"),
        ("get_ipython().run_cell_magic('bash', '', 'echo hi\\n')", "%%bash\necho hi"),
        ("get_ipython().run_cell_magic('time', '', 'x = 1\\nx + 1\\n')", "%%time\nx = 1\nx + 1"),
    ],
)
def test_a_notebook_exported_to_a_script_runs_its_magics(exported: str, typed: str) -> None:
    """nbconvert and jupytext write IPython's calls for the magics."""
    assert rewrite(exported).code == rewrite(typed).code


@pytest.mark.parametrize(
    "python",
    [
        "ip = get_ipython()",
        "x = 1\n# get_ipython().system('ls')",  # a comment
        's = """\nget_ipython().system(\'ls\')\n"""',  # a string
        "if x: get_ipython().system('ls')",  # not a statement of its own line
    ],
)
def test_other_uses_of_get_ipython_are_left_as_they_are(python: str) -> None:
    """Not rewritten as magics; the runtime reads the name as its own
    ``__get_ipython__`` (shell_object.py), the twin keeps it."""
    out = rewrite(python)
    assert out.code == python.replace("x: get_ipython", "x: __get_ipython__").replace(
        "ip = get_ipython", "ip = __get_ipython__")
    assert out.twin == python and out.error is None


def test_run_gives_the_notebook_the_scripts_own_names_only(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Functions, classes and assignments; not its imports, loop variables
    or _private names, which a notebook's own cells would define again."""
    from bridge.ipython import run

    (tmp_path / "helpers.py").write_text(
        "import numpy as np\nfrom os import path\nfor i in range(2):\n    pass\n"
        "def f():\n    import json\n    return 1\nclass K:\n    pass\nvalue = f()\n_secret = 1\n"
        "if value:\n    shown = 2\n"
    )
    monkeypatch.setattr(run, "directory", lambda: str(tmp_path))
    code = rewrite("%run helpers").code  # .py added, as IPython adds it
    assert code.splitlines()[-1] == (
        "K, f, shown, value = _ran.get('K'), _ran.get('f'), _ran.get('shown'), _ran.get('value')"
    )
    assert "'helpers.py'" in code


@pytest.mark.parametrize(
    "typed",
    [
        "import os\nfrom __future__ import division\nx = 7 / 2",
        "%matplotlib inline\nfrom __future__ import print_function, division",
        "%%capture cap\nfrom __future__ import print_function\nprint(1)",
        "%%time\nfrom __future__ import (division,\n    print_function)\n3",
        "from __future__ import division; y = 1",
    ],
)
def test_a_future_import_anywhere_compiles_and_defines_nothing(typed: str) -> None:
    """IPython runs a future import after other lines; every feature but
    annotations is on in Python 3, so the import binds no name to clash."""
    rewritten = rewrite(typed)
    for code in (rewritten.code, rewritten.twin):
        compile(code, "<cell>", "exec")
        assert not defined_names(code) & {"division", "print_function"}
    if not typed.startswith("%%"):  # a cell magic's lines are counted in its own tests
        assert len(rewritten.code.split("\n")) == len(typed.split("\n"))


def test_a_future_import_python_needs_first_is_left_to_python() -> None:
    typed = "x = 1\nfrom __future__ import annotations"
    assert rewrite(typed).code == typed


@pytest.mark.parametrize(
    ("typed", "runs"),
    [
        ("_ + 1", "__history__['_'] + 1"),
        ("print(__, ___, _3, _i, _ii, _iii, _i3)",
         "print(__history__['__'], ___, __history__['_3'], __history__['_i'], "
         "__history__['_ii'], __history__['_iii'], __history__['_i3'])"),
        ("Out[3] + In[3]", "Out[3] + In[3]"),  # marimo reads these from the builtins
        ("for _ in range(3):\n    pass\n_", "for _ in range(3):\n    pass\n_"),  # the cell's own
        ("_i = 0\n_i", "_i = 0\n_i"),
        ("a._ + b_", "a._ + b_"),
        ("f'{_}'", "f'{_}'"),  # no reliable columns inside an f-string (Python 3.11)
        ("ip = get_ipython()", "ip = __get_ipython__()"),  # not a builtin libraries see
        ("if x: get_ipython().system('ls')", "if x: __get_ipython__().system('ls')"),
        ("def get_ipython():\n    pass\nget_ipython()", "def get_ipython():\n    pass\nget_ipython()"),
    ],
)
def test_history_names_are_read_from_the_runtimes_history(typed: str, runs: str) -> None:
    rewritten = rewrite(typed)
    assert rewritten.code == runs
    assert rewritten.twin == typed  # marimo has no history: the twin keeps them
