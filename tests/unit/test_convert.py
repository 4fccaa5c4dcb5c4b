"""bridge/convert/from_ipykernel.py without a kernel: what it changes and
keeps, and the private marimo transforms it calls."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import nbformat
import pytest

from bridge.__main__ import main
from bridge.convert.from_ipykernel import convert
from bridge.convert.masks import mask, unmask


def test_marimos_transforms_are_where_and_in_the_order_we_call_them() -> None:
    from marimo._convert.common.comment_preserver import CommentPreserver
    from marimo._convert.ipynb import to_ir

    order = inspect.getsource(to_ir._transform_sources)
    assert order.index("transform_remove_duplicate_imports,") < order.index(
        "transform_duplicate_definitions,"
    )
    assert "comment_preserver(base_transform)" in order
    assert callable(CommentPreserver([""]))


def notebook() -> dict:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("import numpy as np\nx = np.arange(4)  # first\nx"),
        nbformat.v4.new_code_cell("x = [-1, 0, 1]\nprint(x)"),
        nbformat.v4.new_code_cell("import numpy as np\n%timeit sorted(x)\n!echo {x}"),
        nbformat.v4.new_code_cell("%time y = len(x)\ny"),
        nbformat.v4.new_code_cell(
            "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2, 3]})\nlimit = 2\n"
            "df.query('a < @limit')"
        ),
        nbformat.v4.new_code_cell(
            "limit = 3\ndf = df.query('a < @limit')\npd.eval('df + limit')"
        ),
        nbformat.v4.new_raw_cell("raw text"),
    ]
    nb.cells[1].metadata["tags"] = ["keep"]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="old")]
    nb.cells[1].execution_count = 3
    return nb


def test_names_defined_twice_are_renamed_in_code_magics_and_expression_strings() -> None:
    original = notebook()
    converted, report = convert(original)
    code = [c["source"] for c in converted["cells"] if c["cell_type"] == "code"]
    assert code[0] == original.cells[1].source  # the first definition keeps its name
    assert code[1] == "x_1 = [-1, 0, 1]\nprint(x_1)"
    assert code[2] == "%timeit sorted(x_1)\n!echo {x_1}"  # repeated import removed
    assert code[3] == "%time y = len(x_1)\ny"
    assert code[4] == original.cells[5].source
    assert code[5] == (
        "limit_1 = 3\ndf_1 = df.query('a < @limit_1')\npd.eval('df_1 + limit_1')"
    )
    assert report.lines() == [
        "cell 2: x -> x_1",
        "cell 6: df -> df_1",
        "cell 6: limit -> limit_1",
        "cell 3: repeated import of np removed",
    ]
    # Everything else is kept; outputs are cleared; the kernel is this one.
    assert [c["cell_type"] for c in converted["cells"]] == [c.cell_type for c in original.cells]
    assert [c["id"] for c in converted["cells"]] == [c.id for c in original.cells]
    assert converted["cells"][1]["metadata"] == {"tags": ["keep"]}
    assert converted["cells"][1]["outputs"] == [] and converted["cells"][1]["execution_count"] is None
    assert converted["cells"][7]["source"] == "raw text"
    assert converted["metadata"]["kernelspec"]["name"] == "marimo"
    assert original.cells[2].source == "x = [-1, 0, 1]\nprint(x)"  # the input is untouched


def test_a_notebook_that_runs_here_keeps_its_cells() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport math  # the one import"),
        nbformat.v4.new_code_cell("r = 2\n!echo {r}\nmath.pi * r ** 2"),
        nbformat.v4.new_code_cell("%%bash\necho {r} $r"),
    ]
    converted, report = convert(nb)
    assert [c["source"] for c in converted["cells"]] == [c.source for c in nb.cells]
    assert report.cells_changed == 0 and report.lines() == []


@pytest.mark.parametrize(
    "line",
    ["%time y = f(x)", "!echo {x} $x", "z = !ls {x}", "x?", "%lprun -f x x(1)",
     "for i in range(2):\n    %timeit -n 10 x.sort()", "%sx echo {x}"],
)
def test_ipython_lines_are_masked_as_python_and_come_back_renamed(line: str) -> None:
    masked = mask(line)
    compile(masked.source, "<masked>", "exec")
    assert unmask(masked.source, masked) == line
    renamed = unmask(masked.source.replace("x", "x_1"), masked)
    assert "x_1" in renamed and renamed.replace("x_1", "x") == line


def test_the_command_refuses_to_overwrite_and_keeps_the_original(tmp_path: Path, capsys) -> None:
    old = tmp_path / "old.ipynb"
    nbformat.write(nbformat.from_dict(notebook()), old)
    before = old.read_bytes()

    assert main(["convert", str(old)]) == 1  # neither -o nor --in-place
    assert "-o NEW.ipynb, or --in-place" in capsys.readouterr().err
    taken = tmp_path / "taken.ipynb"
    taken.write_text("mine")
    assert main(["convert", str(old), "-o", str(taken)]) == 1
    assert taken.read_text() == "mine"

    assert main(["convert", str(old), "-o", str(tmp_path / "new.ipynb")]) == 0
    said = capsys.readouterr().out
    assert "cell 2: x -> x_1" in said and "Wrote" in said
    assert old.read_bytes() == before
    assert json.loads((tmp_path / "new.ipynb").read_text())["metadata"]["kernelspec"]["name"] == "marimo"

    assert main(["convert", str(old), "--in-place"]) == 0
    assert (tmp_path / "old.ipynb.orig").read_bytes() == before
    assert "x_1" in old.read_text()
    assert main(["convert", str(old), "--in-place"]) == 0  # again: a second backup
    assert (tmp_path / "old.ipynb.orig").read_bytes() == before
    assert (tmp_path / "old.ipynb.orig.1").exists()
    assert main(["convert", str(tmp_path / "missing.ipynb"), "-o", str(tmp_path / "x.ipynb")]) == 1


def _converted(*cells: str) -> tuple[list[str], list[str]]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    converted, report = convert(nb)
    return [c["source"] for c in converted["cells"]], report.lines()


def test_what_timeit_assigns_stays_its_own() -> None:
    """%timeit runs its statement in a scope of its own: not a definition."""
    code, _ = _converted("L = [3, 1, 2]", "%timeit L = sorted(range(100))", "x = 1", "x = 2\nprint(L)")
    assert code[1] == "%timeit L = sorted(range(100))"
    assert code[3] == "x_1 = 2\nprint(L)"


def test_quoted_column_names_in_expression_strings_are_not_renamed() -> None:
    code, _ = _converted(
        "import pandas as pd\ndf = pd.DataFrame({'a': [1]})\na = 1",
        "a = 2\npd.eval(\"df['a'] + a\")",
    )
    assert code[1] == "a_1 = 2\npd.eval(\"df['a'] + a_1\")" or code[1] == (
        "a_1 = 2\npd.eval('df[\\'a\\'] + a_1')"
    ), code[1]


def test_strings_a_notebook_helper_evaluates_are_renamed_with_their_names() -> None:
    """The Python Data Science Handbook's ``display('x', 'pd.concat([x, y])')``
    evaluates its strings; a helper that does not, keeps them as they are."""
    helper = (
        "class display:\n    def __init__(self, *args):\n        self.args = args\n"
        "    def _repr_html_(self):\n        return ''.join(repr(eval(a)) for a in self.args)\n"
        "def label(*names):\n    return ', '.join(names)"
    )
    code, _ = _converted(
        helper,
        "x = [1, 2]\ny = [3]",
        "x = 'frame'\ny = 'other'\ndisplay('x', 'y', 'x + y')\nlabel('x', 'y')",
    )
    assert code[2] == (
        "x_1 = 'frame'\ny_1 = 'other'\ndisplay('x_1', 'y_1', 'x_1 + y_1')\nlabel('x', 'y')"
    ), code[2]


def test_a_cell_whose_ipython_cannot_take_the_renaming_is_kept_and_reported() -> None:
    code, lines = _converted(
        "x = 1",
        "x = 2\n%time for i in range(3): x += i",
        's = """\nReally?\n"""\n%time q = 1\nx = 3',
    )
    assert code[1] == "x = 2\n%time for i in range(3): x += i"
    assert code[2] == 's = """\nReally?\n"""\n%time q = 1\nx = 3'
    assert any(line.startswith("cell 2: its names left as written") for line in lines)
    assert any(line.startswith("cell 3: its names left as written") for line in lines)


def test_a_star_import_becomes_the_names_the_notebook_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """marimo refuses ``import *``; convert writes out what it binds (the
    module's ``__all__``, or its public names), keeping those the notebook
    reads (free names, as marimo sees them: not parameters, not a cell's own
    names), IPython lines included."""
    (tmp_path / "helpers_mod.py").write_text("def double(x):\n    return 2 * x\n\n_hidden = 1\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from math import *  # everything\nfrom helpers_mod import *"),
        nbformat.v4.new_code_cell("%time r = sqrt(16)\nlog(8, 2) + double(r)"),
        nbformat.v4.new_code_cell("e = 5\ne + pi"),
        nbformat.v4.new_code_cell("from os.path import *"),
        nbformat.v4.new_code_cell("from no_such_module_here import *"),
    ]
    converted, report = convert(nb, tmp_path)
    code = [c["source"] for c in converted["cells"]]
    assert code[0] == (
        "from math import log, pi, sqrt  # everything\nfrom helpers_mod import double"
    )
    assert code[1] == nb.cells[1].source
    assert code[2] == "e = 5\ne + pi"  # its own e, which it reads after binding it
    assert code[3] == "import os.path as _os_path  # was: from os.path import * (no name of it is used)"
    assert code[4] == nb.cells[4].source
    assert "cell 1: from math import * -> the 3 names of it the notebook reads" in report.lines()
    assert "cell 5: from no_such_module_here import * -> kept (no_such_module_here does not import here)" in report.lines()
    # What convert wrote is Python marimo accepts: no star import is left to refuse.
    namespace: dict = {}
    monkeypatch.syspath_prepend(str(tmp_path))
    exec(code[0], namespace)
    assert namespace["log"](8, 2) == 3 and namespace["double"](2) == 4


def test_pasted_prompts_are_taken_off_so_the_cell_is_renamed_too() -> None:
    code, lines = _converted(
        "for i in range(3):\n    pass",
        "In [1]: for i in range(10):\n   ...:     print(i, end=' ')\n   ...:",
        ">>> i = 5\n>>> i",
    )
    assert code[1].rstrip() == "for i_1 in range(10):\n    print(i_1, end=' ')"
    assert code[2] == "i_2 = 5\ni_2"
    assert "cell 2: pasted prompts taken off" in lines and "cell 3: pasted prompts taken off" in lines
