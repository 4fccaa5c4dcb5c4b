"""Cell identity and the names a cell defines."""

from __future__ import annotations

from bridge.notebook.cells import CellRegistry
from bridge.notebook.defs import defined_names


def test_defined_names() -> None:
    code = (
        "x = 1\ny, (z, *w) = 1, 2, 3\nimport os.path\nfrom a import b as c\n"
        "def f():\n    inner = 1\nfor i in range(2):\n    pass\nif x:\n    k = 1\n"
        "_private = 3\n(n := 4)\nclass K: pass\nwith open('f') as fh: pass\n"
    )
    assert defined_names(code) == {"x", "y", "z", "w", "os", "c", "f", "i", "k", "n", "K", "fh"}
    assert defined_names("print(1)") == frozenset()
    assert defined_names("def broken(:") == frozenset()


def test_cell_id_names_one_cell_for_life() -> None:
    reg = CellRegistry()
    first = reg.claim("x = 1", "lab-1", "In[1]")
    again = reg.claim("x = 2", "lab-1", "In[2]")
    assert again is first and again.code == "x = 2"
    assert reg.claim("x = 1", "lab-2", "In[3]") is not first


def test_idless_same_defs_replace_otherwise_new() -> None:
    reg = CellRegistry()
    a = reg.claim("a = 1", None, "In[1]")
    assert reg.claim("a = 2", None, "In[2]") is a
    assert reg.claim("a = 2\nb = 1", None, "In[3]") is not a
    # No names: always a new cell.
    p1 = reg.claim("print(1)", None, "In[4]")
    assert reg.claim("print(1)", None, "In[5]") is not p1
    # A cellId cell is never claimed by an id-less request.
    lab = reg.claim("q = 1", "lab", "In[6]")
    assert reg.claim("q = 1", None, "In[7]") is not lab


def test_forget_and_labels() -> None:
    reg = CellRegistry()
    cell = reg.claim("x = 1", "lab", "In[4]")
    assert reg.label(cell.marimo_id) == "Cell In[4]"
    assert reg.forget_jupyter("lab") is cell
    assert reg.forget_jupyter("lab") is None
    assert reg.get(cell.marimo_id) is None


def test_waiting_cells_are_claimed_by_binding_then_code_then_names() -> None:
    reg = CellRegistry()
    reg.adopt("t1", "x = 1")
    reg.adopt("t2", "y = x + 1")
    reg.adopt("t3", "print(y)")
    reg.bind("lab-2", "t2")
    # Identity from the .ipynb wins over code.
    assert reg.claim("y = x + 5", "lab-2", "In[1]").marimo_id == "t2"
    # Identical code, then the same names.
    assert reg.claim("print(y)", "lab-3", "In[2]").marimo_id == "t3"
    assert reg.claim("x = 10", "lab-1", "In[3]").marimo_id == "t1"
    # Claimed now: a copy of a cell is a new cell.
    assert reg.claim("x = 10", "lab-copy", "In[4]").marimo_id not in ("t1", "t2", "t3")


def test_idless_requests_find_bound_cells_by_code_but_lab_cells_do_not() -> None:
    reg = CellRegistry()
    reg.adopt("t1", "x = 1")
    reg.bind("lab-1", "t1")
    assert reg.claim("x = 1", "other-lab-cell", "In[1]").marimo_id != "t1"
    assert reg.claim("x = 1", None, "In[2]").marimo_id == "t1"
    assert reg.jupyter_ids() == {"t1": "lab-1", reg.claim("x = 1", "other-lab-cell", "").marimo_id: "other-lab-cell"}
