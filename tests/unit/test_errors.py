"""marimo errors and tracebacks in plain words."""

from __future__ import annotations

from bridge.translate.errors import describe, is_stop
from bridge.translate.traceback import traceback_lines


def label(cell: str) -> str:
    return {"a": "Cell In[1]", "b": "Cell In[2]"}.get(cell, f"Cell {cell}")


def test_every_marimo_error_type_has_a_clear_message() -> None:
    cases = {
        "exception": (
            {
                "msg": "division by zero",
                "exception_type": "ZeroDivisionError",
                "raising_cell": None,
            },
            "ZeroDivisionError",
            "division by zero",
        ),
        "interruption": ({}, "KeyboardInterrupt", "interrupted"),
        "multiple-defs": ({"name": "x", "cells": ["a"]}, "MultipleDefinitionError", "Cell In[1]"),
        "cycle": (
            {"edges_with_vars": [["a", ["p"], "b"], ["b", ["q"], "a"]]},
            "CycleError",
            "Cell In[1] -(p)-> Cell In[2]",
        ),
        "setup-refs": ({"edges_with_vars": [["a", ["p"], "b"]]}, "SetupCellError", "setup"),
        "import-star": ({"msg": "line 1 ..."}, "ImportStarError", "import *"),
        "ancestor-prevented": (
            {"msg": "", "raising_cell": "a", "blamed_cell": "b"},
            "AncestorPrevented",
            "Cell In[1] failed",
        ),
        "ancestor-stopped": ({"msg": "", "raising_cell": "a"}, "AncestorStopped", "mo.stop"),
        "strict-exception": (
            {"msg": "ref z", "ref": "z", "blamed_cell": None},
            "StrictExecutionError",
            "ref z",
        ),
        "syntax": (
            {"msg": "line 1\n    f(\n     ^\nSyntaxError: '(' was never closed\n"},
            "SyntaxError",
            "was never closed",
        ),
        "internal": ({"error_id": "1", "msg": ""}, "MarimoInternalError", "internal"),
        "sql-error": ({"msg": "no table t", "sql_statement": "select"}, "SQLError", "no table"),
        "unknown": ({"msg": "odd", "error_type": "Weird"}, "Weird", "odd"),
    }
    for kind, (fields, ename, fragment) in cases.items():
        described = describe({"type": kind, **fields}, label)
        assert described.ename == ename, kind
        assert fragment in described.evalue, kind


def test_a_cell_marimo_could_not_compile_names_the_compilers_error() -> None:
    # marimo sends code nested too deeply for Python's compiler as an
    # "unknown" error holding the compiler's traceback.
    trace = (
        "Traceback (most recent call last):\n"
        '  File "compiler.py", line 53, in ast_compile\n'
        "RecursionError: maximum recursion depth exceeded during ast construction\n"
    )
    described = describe({"type": "unknown", "msg": trace}, lambda c: c)
    assert described.ename == "RecursionError"
    assert described.evalue == "maximum recursion depth exceeded during ast construction"
    memory = describe({"type": "unknown", "msg": "Traceback (...):\nMemoryError\n"}, str)
    assert memory.ename == "MemoryError"


def test_a_cell_not_run_for_a_failed_ancestor_names_the_name_the_cell_and_its_error() -> None:
    cause = {"type": "exception", "exception_type": "NameError", "msg": "name 'math' is not defined"}
    raised = {
        "type": "exception",
        "exception_type": "Ancestor raised",
        "msg": "An ancestor raised an exception (NameError): ",
        "raising_cell": "a",
        "names": ["data"],
        "cause": cause,
    }
    described = describe(raised, label)
    assert described.ename == "AncestorRaised"
    assert "'data'" in described.evalue and "Cell In[1]" in described.evalue
    assert "NameError: name 'math' is not defined" in described.evalue
    shared = describe({**raised, "shared": {"data": ["a", "b"]}}, label)
    assert shared.ename == "MultipleDefinitionError"
    assert "'data'" in shared.evalue and "Cell In[1], Cell In[2]" in shared.evalue
    # marimo's own item, when nothing mended it: an identifier, and the cell.
    own = {
        "type": "exception",
        "exception_type": "Ancestor raised",
        "msg": "An ancestor raised an exception (ZeroDivisionError): ",
        "raising_cell": "b",
    }
    described = describe(own, label)
    assert described.ename == "AncestorRaised"
    assert "Cell In[2]" in described.evalue and "ZeroDivisionError" in described.evalue


def test_marimos_explanation_names_the_cell_it_blames() -> None:
    error = {
        "type": "exception",
        "exception_type": "NameError",
        "msg": "Name `p` is not defined. It was expected to be defined in ",
        "raising_cell": "a",
    }
    assert describe(error, label).evalue.endswith("expected to be defined in Cell In[1]")


def test_mo_stop_is_not_a_failure() -> None:
    assert is_stop({"type": "ancestor-stopped"})
    assert not is_stop({"type": "exception"})


def test_traceback_html_to_ansi_lines_with_cell_labels() -> None:
    html = (
        '<span class="codehilite"><div class="highlight"><pre><span></span>'
        '<span class="gt">Traceback (most recent call last):</span>\n'
        '  File <span class="nb">"/tmp/marimo_1/__marimo__cell_b_.py"</span>, line '
        '<span class="m">1</span>, in <span class="n">&lt;module&gt;</span>\n'
        "    1/(x-10)\n"
        '<span class="gr">ZeroDivisionError</span>: division by zero\n</pre></div></span>'
    )
    lines = traceback_lines(html, label)
    assert any("Cell In[2], line 1, in <module>" in line for line in lines)
    assert not any("__marimo__" in line or "<span" in line for line in lines)
    assert "ZeroDivisionError: division by zero" in lines[-1]
    assert lines[-1].startswith("\x1b[")  # coloured like IPython's
