"""Reactive runs through the real kernel: replies wait, outputs land in place."""

from __future__ import annotations

from helpers import Notebook, execute


def test_rerun_updates_dependent_display_before_reply_and_idle(kc) -> None:
    nb = Notebook()
    assert nb.run(kc, "A", "x = 1").status == "ok"
    assert nb.run(kc, "B", "y = x + 1; y").status == "ok"
    assert nb.shown("B") == "2"

    result = nb.run(kc, "A", "x = 10")

    assert result.status == "ok"
    assert nb.shown("B") == "11"  # B's own place shows its new value
    updates = [
        m
        for m in result.of_type("update_display_data")
        if m["content"]["data"].get("text/plain") == "11"
    ]
    assert updates, "B's new value was not published inside A's request"
    # Published before A's reply and before A's idle.
    assert updates[0]["header"]["date"] <= result.reply["header"]["date"]
    assert result.outputs.index(updates[0]) < len(result.outputs)
    assert "re-ran" in nb.shown("A") and "In[2]" in nb.shown("A")


def test_downstream_failure_is_an_error_reply_naming_the_dependent(kc) -> None:
    nb = Notebook()
    nb.run(kc, "A", "x = 1")
    nb.run(kc, "B", "z = 1 / (x - 10)")

    result = nb.run(kc, "A", "x = 10")

    assert result.status == "error"
    assert result.content["ename"] == "ZeroDivisionError"
    assert "In[2]" in result.content["evalue"]  # names the failing cell
    # With a cellId the failure is told in displays a later run replaces,
    # not as an error output, which would stay for good.
    assert result.of_type("error") == []
    # A says which dependent failed, and how; B shows its own traceback.
    assert "re-ran because of this cell, failed" in nb.shown("A")
    assert "ZeroDivisionError" in nb.shown("A") and "ZeroDivisionError" in nb.shown("B")
    # Fixing the root again clears B's error from B's place.
    assert nb.run(kc, "A", "x = 3").status == "ok"
    assert "ZeroDivisionError" not in nb.shown("B")


def test_a_healed_cell_shows_its_latest_run_only(kc) -> None:
    """A cell whose own request failed is healed by an upstream fix: its
    error goes, and its new value shows, with no word of the earlier run."""
    nb = Notebook()
    nb.run(kc, "A", "d = 0")
    failed = nb.run(kc, "B", "r = 10 / d\nr")
    assert failed.status == "error" and failed.content["ename"] == "ZeroDivisionError"
    assert failed.of_type("error") == []  # the traceback is in B's value display
    assert "ZeroDivisionError" in nb.shown("B") and "Traceback" in nb.shown("B")
    assert "In[2]" in nb.shown("B")  # frames name the cell as the prompt does
    assert nb.run(kc, "A", "d = 4").status == "ok"
    assert nb.shown("B").strip() == "2.5"

    # Without a cellId (nbclient, papermill) the error output stays the rule.
    plain = execute(kc, "1 / 0")
    assert [m["content"]["ename"] for m in plain.of_type("error")] == ["ZeroDivisionError"]


def test_state_setter_rerun_of_reader_is_inside_the_request(kc) -> None:
    execute(kc, "import marimo as mo\nget_v, set_v = mo.state(0)", cell_id="S")
    first = execute(kc, "v = get_v()\nprint('v is', v)", cell_id="R")
    assert "v is 0" in str(first.outputs)

    result = execute(kc, "set_v(42)", cell_id="W")

    # The reader re-ran after the setter's cell returned, and its output came
    # before this request's reply.
    assert result.status == "ok"
    assert any("v is 42" in str(m["content"]) for m in result.outputs)


def test_state_reader_failure_fails_the_setter_request(kc) -> None:
    execute(kc, "import marimo as mo\nget_v, set_v = mo.state(1)", cell_id="S")
    execute(kc, "w = 10 / get_v()", cell_id="R")
    result = execute(kc, "set_v(0)", cell_id="W")
    assert result.status == "error"
    assert result.content["ename"] == "ZeroDivisionError"


def test_multiple_definitions_then_deleted_cells_heals(kc) -> None:
    assert execute(kc, "x = 1", cell_id="A").status == "ok"
    result = execute(kc, "x = 2", cell_id="B")
    assert result.status == "error"
    assert result.content["ename"] == "MultipleDefinitionError"
    # Names both cells: B is the executed one (In[2]), A is In[1].
    assert "'x'" in result.content["evalue"] and "In[1]" in result.content["evalue"]

    healed = execute(kc, "print(x)", cell_id="C", deleted=["B", "B", "unknown-id"])
    assert healed.status == "ok"
    assert "1" in healed.text()


def test_cycle_syntax_and_import_star_are_errors(kc) -> None:
    execute(kc, "p = q", cell_id="P")
    cycle = execute(kc, "q = p", cell_id="Q")
    assert cycle.status == "error" and cycle.content["ename"] == "CycleError"
    syntax = execute(kc, "def broken(:", cell_id="S")
    assert syntax.status == "error" and syntax.content["ename"] == "SyntaxError"
    star = execute(kc, "from os import *", cell_id="T")
    assert star.status == "error" and star.content["ename"] == "ImportStarError"
    # An unrelated cell is not blamed for the cycle that still exists.
    assert execute(kc, "unrelated = 1", cell_id="U").status == "ok"


def test_ancestor_failure_is_reported(kc) -> None:
    execute(kc, "a = 1", cell_id="A")
    execute(kc, "b = a + 1", cell_id="B")
    execute(kc, "c = b + 1", cell_id="C")
    result = execute(kc, "a = None", cell_id="A")
    assert result.status == "error"
    assert result.content["ename"] == "TypeError"
    assert "In[2]" in result.content["evalue"]


def test_idless_cell_with_same_names_replaces_instead_of_redefining(kc) -> None:
    assert execute(kc, "n = 1").status == "ok"
    again = execute(kc, "n = 2")
    assert again.status == "ok"  # console re-run: replaces, no MultipleDefinitionError
    shown = execute(kc, "n * 10")
    assert shown.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "20"
    # The shown value updates in place when its input changes.
    third = execute(kc, "n = 3")
    updates = third.of_type("update_display_data")
    assert updates and updates[0]["content"]["data"]["text/plain"] == "30"


def test_scratchpad_reads_notebook_and_adds_no_cell(kc) -> None:
    execute(kc, "k = 7")
    peek = execute(kc, "k * 6", store_history=False)
    assert peek.status == "ok"
    assert peek.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "42"
    scratch_def = execute(kc, "scratch_name = 1", store_history=False)
    assert scratch_def.status == "ok"
    # The scratchpad defined no cell: a real cell may define the same name.
    assert execute(kc, "scratch_name = 2").status == "ok"
    magic = execute(kc, "%%scratch\nprint(k + 1)")
    assert magic.status == "ok" and "8" in magic.text()
    assert execute(kc, "k", silent=True).outputs == []


def test_vscode_startup_code_succeeds(kc) -> None:
    startup = (
        "import os as __vsc_os\n"
        '__vsc_ipynb_file__ = "/tmp/some/notebook.ipynb"\n'
        "try:\n    import matplotlib\nexcept ImportError:\n    pass\n"
    )
    assert execute(kc, startup, store_history=False).status == "ok"
    vs_cell = "vscode-notebook-cell:/tmp/some/notebook.ipynb#W0sZmlsZQ%3D%3D"
    assert execute(kc, "vs = 1", cell_id=vs_cell, stop_on_error=False).status == "ok"
    assert execute(kc, "vs = 2", cell_id=vs_cell).status == "ok"


def test_output_appended_twice_is_one_result_updated(kc) -> None:
    result = execute(
        kc, "import marimo as mo\nmo.output.append(mo.md('one'))\nmo.output.append(mo.md('two'))"
    )
    assert len(result.of_type("execute_result")) == 1
    final = result.outputs[-1]["content"]["data"]["text/plain"]
    assert "one" in final and "two" in final


def test_console_streams_while_a_dependent_cell_runs(kc) -> None:
    nb = Notebook()
    nb.run(kc, "A", "go = 1")
    code = "import time\nprint('first', go, flush=True)\ntime.sleep(1.0)\nprint('second')"
    nb.run(kc, "B", code)
    result = nb.run(kc, "A", "go = 2")
    texts = [
        str(m["content"]["data"].get("text/plain"))
        for m in result.of_type("update_display_data")
    ]
    # The first line was shown on its own before the second was printed.
    assert any("first 2" in t and "second" not in t for t in texts)
    assert nb.shown("B").splitlines()[:2] == ["first 2", "second"]


def test_plt_show_in_a_cellid_cell_is_shown_and_updated_in_place(kc) -> None:
    nb = Notebook()
    nb.run(kc, "A", "n = 3")
    code = "import matplotlib.pyplot as plt\nplt.plot(range(n))\nplt.show()"
    nb.run(kc, "B", code)
    shown = [o["data"] for o in nb.cells["B"] if "image/png" in o["data"]]
    assert len(shown) == 1, "the figure is in B's own place"
    first = shown[0]["image/png"]
    nb.run(kc, "A", "n = 5")
    again = [o["data"] for o in nb.cells["B"] if "image/png" in o["data"]]
    assert len(again) == 1 and again[0]["image/png"] != first, "re-drawn in place"
