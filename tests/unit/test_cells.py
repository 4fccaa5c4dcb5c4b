"""Cell identity and the names a cell defines."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.notebook.cells import Cell, CellRegistry
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


# -- the indexed claim answers as the scan it replaced ---------------------
# The registry once found the cell an id-less request stands for by a pass
# over every cell (O(cells) per request); it keeps indexes now. ScanRegistry
# is that pass, kept as the specification the indexes must match.


class ScanRegistry:
    def __init__(self) -> None:
        self.by_marimo: dict[str, Cell] = {}
        self.by_jupyter: dict[str, Cell] = {}
        self.made = 0

    def new_id(self) -> str:
        self.made += 1
        return f"c{self.made}"

    def claim(self, code: str, jupyter_id: str | None, label: str) -> Cell:
        cell = self.by_jupyter.get(jupyter_id) if jupyter_id is not None else None
        defs = defined_names(code)
        if cell is None:
            cell = self.match(code, defs, idless=jupyter_id is None)
        if cell is None:
            cell = Cell(marimo_id=self.new_id(), jupyter_id=None)
            self.by_marimo[cell.marimo_id] = cell
        if jupyter_id is not None and cell.jupyter_id is None:
            cell.jupyter_id = jupyter_id
            self.by_jupyter[jupyter_id] = cell
        cell.code, cell.defs, cell.label, cell.claimed = code, defs, label, True
        return cell

    def match(self, code: str, defs: frozenset[str], idless: bool) -> Cell | None:
        waiting = [
            c for c in self.by_marimo.values() if not c.claimed and (idless or c.jupyter_id is None)
        ]
        for cell in waiting:
            if cell.code.strip() == code.strip():
                return cell
        if not defs:
            return None
        for cell in waiting:
            if cell.defs == defs:
                return cell
        if idless:
            for cell in self.by_marimo.values():
                if cell.jupyter_id is None and cell.defs == defs:
                    return cell
        return None

    def adopt(self, marimo_id: str, code: str) -> None:
        self.by_marimo[marimo_id] = Cell(
            marimo_id, None, code=code, defs=defined_names(code), claimed=False
        )

    def bind(self, jupyter_id: str, marimo_id: str) -> None:
        cell = self.by_marimo.get(marimo_id)
        if cell is not None and cell.jupyter_id is None and jupyter_id not in self.by_jupyter:
            cell.jupyter_id = jupyter_id
            self.by_jupyter[jupyter_id] = cell

    def set_code(self, marimo_id: str, code: str) -> None:
        cell = self.by_marimo.get(marimo_id)
        if cell is not None:
            cell.code, cell.defs = code, defined_names(code)

    def forget(self, marimo_id: str) -> None:
        cell = self.by_marimo.pop(marimo_id, None)
        if cell is not None and cell.jupyter_id is not None:
            self.by_jupyter.pop(cell.jupyter_id, None)

    def forget_jupyter(self, jupyter_id: str) -> None:
        cell = self.by_jupyter.pop(jupyter_id, None)
        if cell is not None:
            self.by_marimo.pop(cell.marimo_id, None)

    def jupyter_ids(self) -> dict[str, str]:
        return {c.marimo_id: j for j, c in self.by_jupyter.items()}


class CountingRegistry(CellRegistry):
    """The real registry, with ids both registries give alike."""

    def __init__(self) -> None:
        super().__init__()
        self.made_ids = 0

    def _new_id(self) -> str:
        self.made_ids += 1
        return f"c{self.made_ids}"


# Few codes, so that codes and names collide often: the cases a claim decides.
CODES = ["x = 1", " x = 1 ", "x = 2", "x, y = 1, 2", "y = 3", "print(1)", "", "def f(): pass"]
JUPYTER_IDS = [None, None, "j1", "j2", "j3"]
OPERATION = st.one_of(
    st.tuples(st.just("claim"), st.sampled_from(CODES), st.sampled_from(JUPYTER_IDS)),
    st.tuples(st.just("adopt"), st.sampled_from(CODES), st.none()),
    st.tuples(st.just("bind"), st.integers(0, 8), st.sampled_from(["j1", "j2", "j3"])),
    st.tuples(st.just("set_code"), st.integers(0, 8), st.sampled_from(CODES)),
    st.tuples(st.just("forget"), st.integers(0, 8), st.none()),
    st.tuples(st.just("forget_jupyter"), st.sampled_from(["j1", "j2", "j3"]), st.none()),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(OPERATION, max_size=30))
def test_claims_match_the_scan_they_replace(operations: list[tuple[Any, Any, Any]]) -> None:
    spec, real = ScanRegistry(), CountingRegistry()
    adopted = 0
    for name, first, second in operations:
        known = list(spec.by_marimo)
        if name == "claim":
            expected = spec.claim(first, second, "In[1]").marimo_id
            assert real.claim(first, second, "In[1]").marimo_id == expected
        elif name == "adopt":
            adopted += 1
            spec.adopt(f"t{adopted}", first)
            real.adopt(f"t{adopted}", first)
        elif name == "forget_jupyter":
            spec.forget_jupyter(first)
            real.forget_jupyter(first)
        elif known:
            marimo_id = known[first % len(known)]
            if name == "bind":
                spec.bind(second, marimo_id)
                real.bind(second, marimo_id)
            elif name == "set_code":
                spec.set_code(marimo_id, second)
                real.set_code(marimo_id, second)
            else:
                spec.forget(marimo_id)
                real.forget(marimo_id)
        assert real.jupyter_ids() == spec.jupyter_ids()
        assert real.unclaimed() == any(not c.claimed for c in spec.by_marimo.values())
        assert len(real) == len(spec.by_marimo)


def test_an_idless_update_of_a_name_is_a_new_cell_not_a_replacement() -> None:
    """``a += 2`` after ``a = 24`` (a notebook written for ipykernel, run by
    nbclient): replacing the first cell would leave ``a`` undefined; a cell
    of its own is marimo's MultipleDefinitionError, which says why."""
    registry = CellRegistry()
    first = registry.claim("a = 24", None, "In[1]")
    for update in ("a += 2", "a = a + 2", "a = sorted([a])"):
        assert registry.claim(update, None, "In[2]").marimo_id != first.marimo_id, update
    again = registry.claim("n = 1", None, "In[3]")
    assert registry.claim("n = 2", None, "In[4]").marimo_id == again.marimo_id
    # A cell that binds the name before updating it stands alone: run twice,
    # or changed, it replaces itself.
    loop = registry.claim("total = 0\nfor v in range(3):\n    total += v", None, "In[5]")
    same = registry.claim("total = 0\nfor v in range(3):\n    total += v", None, "In[6]")
    assert same.marimo_id == loop.marimo_id
    changed = registry.claim("total = 1\nfor v in range(2):\n    total += v", None, "In[7]")
    assert changed.marimo_id == loop.marimo_id
    counter = registry.claim("k = 0", None, "In[8]")
    assert registry.claim("k += 1", None, "In[9]").marimo_id != counter.marimo_id
