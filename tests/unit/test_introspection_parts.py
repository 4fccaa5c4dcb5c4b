"""The pure parts of completion, inspection, is_complete and history."""

from __future__ import annotations

import json

import pytest

from bridge.jupyter.docs import (
    Source,
    complete_reply,
    definition_source,
    find_option,
    inspect_reply,
    split_info,
)
from bridge.jupyter.history import SESSION, History
from bridge.jupyter.syntax import Target, is_complete, name_at_cursor
from bridge.runtime.completion import quick_answer
from bridge.runtime.messages import CompletionOption, CompletionResult, decode

# Shapes recorded from marimo 0.25.2's completion of a notebook function.
SIGNATURE_HTML = (
    '<div class="language-python3 codehilite"><pre><span></span><code>'
    '<span class="k">def</span><span class="w"> </span><span class="nf">my_function</span>'
    '<span class="p">(</span><span class="n">x</span><span class="p">,</span> '
    '<span class="n">y</span><span class="o">=</span><span class="mi">1</span>'
    '<span class="p">)</span> <span class="o">-&gt;</span> <span class="nb">int</span>\n'
    "</code></pre></div>"
)
FUNCTION_INFO = (
    SIGNATURE_HTML + "\n\n<div class='external-docs'><div class=\"document\">\n"
    "<p>Add y to x.</p>\n<p>Longer   text\nhere.</p>\n</div>\n</div>"
)


def result(*options: CompletionOption, prefix: int = 0) -> CompletionResult:
    return CompletionResult(completion_id="c1", prefix_length=prefix, options=list(options))


# -- messages ----------------------------------------------------------------
def test_completion_result_decodes_to_its_own_type() -> None:
    raw = json.dumps(
        {
            "op": "completion-result",
            "completion_id": "abc",
            "prefix_length": 2,
            "options": [{"name": "path", "type": "statement", "completion_info": ""}],
        },
        separators=(",", ":"),
    ).encode()
    note = decode(raw)
    assert isinstance(note, CompletionResult)
    assert note.completion_id == "abc" and note.options[0].name == "path"
    assert not hasattr(note, "run_id")  # nothing the correlator could route by


# -- complete_reply -----------------------------------------------------------
def test_complete_reply_translates_options_and_kinds() -> None:
    reply = complete_reply(
        result(
            CompletionOption("my_function", "function", FUNCTION_INFO),
            CompletionOption("my_variable", "statement", "my_variable: int"),
            CompletionOption("my_variable", "statement", "my_variable: int"),
            CompletionOption("mystery", "", ""),
            prefix=3,
        ),
        cursor_pos=10,
    )
    assert reply["status"] == "ok"
    assert reply["matches"] == ["my_function", "my_variable", "mystery"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (7, 10)
    kinds = reply["metadata"]["_jupyter_types_experimental"]
    assert kinds[0] == {
        "start": 7,
        "end": 10,
        "text": "my_function",
        "type": "function",
        "signature": "(x, y=1) -> int",
    }
    assert [k["type"] for k in kinds] == ["function", "statement", "<unknown>"]
    assert kinds[1]["signature"] == ""


def test_complete_reply_drops_the_signature_tooltip_and_survives_no_answer() -> None:
    tooltip = result(CompletionOption("my_function", "tooltip", FUNCTION_INFO))
    assert complete_reply(tooltip, 12)["matches"] == []
    empty = complete_reply(None, 5)
    assert empty["status"] == "ok" and empty["matches"] == []
    assert (empty["cursor_start"], empty["cursor_end"]) == (5, 5)
    assert empty["metadata"] == {"_jupyter_types_experimental": []}


# -- inspect_reply ------------------------------------------------------------
def test_split_info_separates_signature_from_flowed_docstring() -> None:
    signature, doc = split_info(FUNCTION_INFO)
    assert signature == "def my_function(x, y=1) -> int"
    assert doc == "Add y to x.\n\nLonger text here."
    assert split_info("x: int") == (None, "x: int")
    # A docstring that opens with an example is not a signature.
    example = "<div class='external-docs'><pre>&gt;&gt;&gt; f()\n  1</pre><p>Docs.</p></div>"
    assert split_info(example) == (None, ">>> f()\n  1\n\nDocs.")
    assert split_info(None) == (None, "")


def test_inspect_reply_in_ipython_layout() -> None:
    option = find_option(
        result(CompletionOption("my_function", "function", FUNCTION_INFO)), "my_function"
    )
    content = inspect_reply("my_function", option, None, detail_level=0)
    assert content["found"] is True
    assert content["data"]["text/plain"] == (
        "Signature: my_function(x, y=1) -> int\n"
        "Docstring:\nAdd y to x.\n\nLonger text here.\n"
        "Type:      function"
    )
    assert "<p>Add y to x.</p>" in content["data"]["text/markdown"]


def test_inspect_reply_with_source_at_detail_level_one() -> None:
    option = CompletionOption("my_function", "function", FUNCTION_INFO)
    source = Source("def my_function(x, y=1) -> int:\n    return x + y", None)
    plain = inspect_reply("my_function", option, source, 1)["data"]["text/plain"]
    assert "Source:\ndef my_function(x, y=1) -> int:\n    return x + y" in plain
    assert "Docstring" not in plain
    # Detail level 0 never shows source, even when known.
    assert (
        "return x + y" not in inspect_reply("my_function", option, source, 0)["data"]["text/plain"]
    )
    from_file = inspect_reply("dumps", None, Source("def dumps(): ...", "/lib/json.py"), 1)
    assert "File:      /lib/json.py" in from_file["data"]["text/plain"]


def test_inspect_reply_for_type_hints_modules_and_nothing() -> None:
    hint = CompletionOption("answer", "statement", "answer: int")
    assert inspect_reply("answer", hint, None, 0)["data"]["text/plain"] == "Type:      int"
    module = CompletionOption("os", "module", "module os")
    assert inspect_reply("os", module, None, 0)["data"]["text/plain"] == "Type:      module"
    documented = CompletionOption("json", "module", "module json\n\n<div><p>JSON things.</p></div>")
    plain = inspect_reply("json", documented, None, 0)["data"]["text/plain"]
    assert plain == "Docstring: JSON things.\nType:      module"
    missing = inspect_reply("nothing", None, None, 0)
    assert missing == {"status": "ok", "found": False, "data": {}, "metadata": {}}
    assert find_option(result(CompletionOption("path", "tooltip", "")), "os.path") is None
    assert find_option(None, "x") is None


# -- definition_source (jedi, static) -----------------------------------------
CELLS = ['def my_function(x, y=1):\n    """Add y to x."""\n    return x + y', "import os, json"]


def source_of(code: str) -> Source | None:
    target = name_at_cursor(code, len(code))
    assert target is not None
    return definition_source(CELLS, code, target)


def test_definition_source_of_notebook_and_module_names() -> None:
    mine = source_of("my_function(1, 2)")
    assert mine == Source(CELLS[0], None)
    dumps = source_of("json.dumps")
    assert dumps is not None and dumps.text.startswith("def dumps(")
    assert dumps.file is not None and dumps.file.endswith("json/__init__.py")


def test_definition_source_refuses_to_guess() -> None:
    assert source_of("len") is None  # compiled: only a stub
    assert source_of("os.path.join") is None  # ntpath or posixpath to jedi
    assert source_of("undefined_name") is None


# -- is_complete ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("", {"status": "complete"}),
        ("x = 1", {"status": "complete"}),
        ("import os; os.pa", {"status": "complete"}),
        ("a = f(\n    1)", {"status": "complete"}),
        ("if x:\n    y = 1\n", {"status": "complete"}),
        ("if x:\n    y = 1\n\n", {"status": "complete"}),
        ("for i in range(3):", {"status": "incomplete", "indent": "    "}),
        ("if x:  # comment", {"status": "incomplete", "indent": "    "}),
        ("class A:\n    def m(self):", {"status": "incomplete", "indent": "        "}),
        ("if x:\n    y = 1", {"status": "incomplete", "indent": "    "}),
        ("x = (1 +", {"status": "incomplete", "indent": ""}),
        ("x = [\n    1,", {"status": "incomplete", "indent": "    "}),
        ("    x = 1", {"status": "invalid"}),  # marimo compiles cells undedented
        ("x = 1 + \\", {"status": "incomplete", "indent": ""}),
        ("s = '''abc", {"status": "incomplete", "indent": ""}),
        ("%%scratch\nx = (", {"status": "incomplete", "indent": ""}),
        ("%%scratch\nx = 1", {"status": "complete"}),
        ("x = )", {"status": "invalid"}),
        ("1 +* 2", {"status": "invalid"}),
        ("if x:\n  y\n z", {"status": "invalid"}),
        # IPython syntax, judged as IPython does (check_complete).
        ("%%timeit\nx = 1", {"status": "incomplete", "indent": ""}),
        ("%%timeit\nx = 1\n\n", {"status": "complete"}),
        ("%time x = 1", {"status": "complete"}),
        ("files = !ls", {"status": "complete"}),
        ("for f in x:\n    !ls", {"status": "incomplete", "indent": "    "}),
    ],
)
def test_is_complete(code: str, expected: dict[str, str]) -> None:
    assert is_complete(code) == expected


# -- name_at_cursor ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "cursor", "expected"),
    [
        ("os.pa", 5, Target("os.pa", 5)),
        ("x = len", 7, Target("len", 7)),
        ("my_function(1, ", 15, Target("my_function", 11)),
        ("my_function(1, 2)", 17, Target("my_function", 11)),
        ("f(a=1", 5, Target("f", 1)),  # the keyword is not the target
        ("np.array([1]).sum()", 4, Target("np.array", 8)),
        ("x.y(z)", 2, Target("x.y", 3)),
        ("a\nb.c", 5, Target("b.c", 5)),
        ("f(x)\ng", 5, Target("g", 6)),
        ("", 0, None),
        ("   ", 2, None),
        ("def", 3, None),
    ],
)
def test_name_at_cursor(code: str, cursor: int, expected: Target | None) -> None:
    assert name_at_cursor(code, cursor) == expected


# -- history --------------------------------------------------------------------
@pytest.fixture
def history() -> History:
    h = History()
    for line, code in enumerate(["a = 1", "b = 2", "print(a)", "b = 2", "c = 3"], start=1):
        h.record(line, code)
    return h


def codes(reply: dict[str, object]) -> list[object]:
    return [entry[2] for entry in reply["history"]]  # type: ignore[attr-defined]


def test_history_tail(history: History) -> None:
    reply = history.query("tail", n=2)
    assert reply == {"status": "ok", "history": [(SESSION, 4, "b = 2"), (SESSION, 5, "c = 3")]}
    assert history.query("tail", n=1, output=True)["history"] == [(SESSION, 5, ("c = 3", None))]
    assert history.query("tail", n=0)["history"] == []
    assert len(history.query("tail", n=None)["history"]) == 5


def test_history_range(history: History) -> None:
    assert codes(history.query("range", session=SESSION, start=2, stop=4)) == ["b = 2", "print(a)"]
    assert codes(history.query("range", session=0, start=4)) == ["b = 2", "c = 3"]
    assert codes(history.query("range", session=SESSION)) == codes(history.query("tail"))
    assert history.query("range", session=-1, start=1)["history"] == []  # no earlier session


def test_history_search(history: History) -> None:
    assert codes(history.query("search", pattern="b*")) == ["b = 2", "b = 2"]
    unique = history.query("search", pattern="b*", unique=True)["history"]
    assert unique == [(SESSION, 4, "b = 2")]  # the latest run of each input
    assert codes(history.query("search", pattern="? = *", n=2)) == ["b = 2", "c = 3"]
    assert codes(history.query("search", pattern="*(*)")) == ["print(a)"]
    assert history.query("search", pattern="B*")["history"] == []  # case-sensitive glob
    assert len(history.query("search", pattern=None)["history"]) == 5
    assert history.query("unknown")["history"] == []


def test_history_codes_are_each_input_at_its_latest_run(history: History) -> None:
    assert history.codes() == ["a = 1", "print(a)", "b = 2", "c = 3"]


NOTEBOOK = ("monthly_income", "monthly_rent", "zipped", "_private_one")


@pytest.mark.parametrize(
    ("document", "names"),
    [
        ("x = monthly_", ["monthly_income", "monthly_rent"]),
        ("print(monthly_r", ["monthly_rent"]),
        ("f(a,\n  monthly_i", ["monthly_income"]),  # an open bracket
        ("y = 1\nzi", ["zip", "zipped"]),  # a builtin beside a notebook name
        ("imp", ["import"]),
        # What the cell itself binds: parameters, loop targets, imports.
        ("def f(value):\n    return va", ["value", "vars"]),
        ("for item in data:\n    ite", ["item", "iter"]),
        ("import numpy as np\nnp", ["np"]),
        ("from m import (cc as dd,\n    ee)\nd", ["dd", "def", "del", "delattr", "dict", "dir", "divmod"]),
        ("if x:\n    import numpy as np\n    np", ["np"]),  # an import in a block
        ("# numpy, as np\nimport numpy as np\nnp", ["np"]),
    ],
)
def test_the_quick_answer_completes_the_name_being_typed(document: str, names: list[str]) -> None:
    answer = quick_answer("r1", document, lambda: NOTEBOOK)
    assert answer is not None
    assert [o.name for o in answer.options] == names
    reply = complete_reply(answer, len(document))
    assert reply["matches"] == names
    typed = len(document) - reply["cursor_start"]
    assert all(name.startswith(document[-typed:]) for name in names)


def test_the_quick_answer_names_the_kinds_it_knows() -> None:
    answer = quick_answer("r1", "zi", lambda: NOTEBOOK)
    assert answer is not None
    kinds = {o.name: o.type for o in answer.options}
    assert kinds == {"zip": "class", "zipped": ""}
    assert complete_reply(answer, 2)["metadata"]["_jupyter_types_experimental"][1]["type"] == (
        "<unknown>"
    )


@pytest.mark.parametrize(
    "document",
    [
        "import os; os.pa",  # an attribute: jedi's
        "print('monthly_",  # in a string
        'x = """\nmonthly_',
        "# monthly_",  # in a comment
        "monthly_ ",  # past the name
        "qqq",  # nothing starts so
        "",
        "_priv",  # a cell's private names are its own
        "import ma",  # a module's name
        "import os, ma",
        "if x:\n    import os, ma",  # in a block
        "# a comment first\nimport os, ma",
        "from os import pa",
        "from a.b import (c,\n  d",
        "def ma",  # a name being made
        "class Zi",
        "with open(f) as fi",
    ],
)
def test_no_quick_answer_where_only_the_runtime_knows(document: str) -> None:
    assert quick_answer("r1", document, lambda: NOTEBOOK) is None
