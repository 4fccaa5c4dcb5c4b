"""How ``make corpus`` puts down a failure here where ipykernel succeeded
(tests/corpus.py): marimo's rules only when the cell reads a name marimo
would not define, however it reads it."""

from __future__ import annotations

from corpus import Cell, cause, shared_names


def test_a_name_read_through_a_string_that_several_cells_define_is_marimos_rule() -> None:
    cells = [
        Cell("x = [1, 2, 3]", None),
        Cell("x = make_df('AB', [0, 1])", "MultipleDefinitionError"),
        Cell("display('x', 'pd.concat([x, y])')", "TypeError"),
    ]
    shared = shared_names(cells)
    assert "x" in shared
    assert cause(cells[2], shared) == "marimo's rules"
    # A string that reads no such name is not: the column 'AB' is no variable.
    assert cause(Cell("df['AB'].sum()", "KeyError"), shared) == "other"


def test_a_name_defined_by_a_refused_star_import_cell_is_marimos_rule() -> None:
    cells = [
        Cell("from sympy import *\nx, y = symbols('x y')", "ImportStarError"),
        Cell("e = x + 2*y", "NameError", evalue="name 'x' is not defined"),
        Cell("len(q)", "NameError", evalue="name 'q' is not defined"),
    ]
    shared = shared_names(cells)
    assert cause(cells[1], shared) == "marimo's rules"
    assert cause(cells[2], shared) == "other"
