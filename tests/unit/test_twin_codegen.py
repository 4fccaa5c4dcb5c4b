"""bridge/twin/codegen_speedup.py: the twin's text is marimo's own, faster.

The replacement gives marimo's ``to_functiondef`` only the variables a cell
refers to or defines. On random notebooks (names defined, read, annotated,
redefined, functions and classes, the setup cell) the rendered file must be
byte for byte what marimo's unwrapped codegen writes; the fingerprints fail
loudly when an upgrade changes the code the argument rests on.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager

import marimo
from hypothesis import example, given, settings
from hypothesis import strategies as st
from marimo._ast import codegen

from bridge.notebook.document import CellState
from bridge.runtime.speedups import applies
from bridge.twin import codegen_speedup, pyfile

# sha256 of the source each function had when the replacement was written.
FINGERPRINTS = {
    "to_functiondef": "d2ed0a5c846ec5ad",  # the two reads of variable_data
    "to_annotated_string": "3e5b0a277e9f3cb4",  # looks up names in refs only
    "serialize_cell": "4feca4d558157543",  # the one caller, and what it passes
}


def _fingerprinted(name: str) -> object:
    """marimo's own function (the replacement keeps it as ``__wrapped__``)."""
    function = getattr(codegen, name)
    return getattr(function, "__wrapped__", function)


def _fingerprint(name: str) -> str:
    source = inspect.getsource(_fingerprinted(name))  # type: ignore[arg-type]
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def test_marimo_still_has_the_codegen_the_replacement_was_read_against() -> None:
    assert applies(marimo.__version__)
    changed = {k: _fingerprint(k) for k, v in FINGERPRINTS.items() if _fingerprint(k) != v}
    assert not changed, (
        "marimo changed codegen that bridge/twin/codegen_speedup.py relies on: read the "
        f"new source, re-run these tests, then record the new fingerprints: {changed}"
    )
    assert codegen_speedup.install()
    assert codegen.to_functiondef is not _fingerprinted("to_functiondef")


@contextmanager
def marimos_own() -> Iterator[None]:
    """marimo's codegen as shipped, for the duration (the twin installs the
    replacement once, at its first render, so it stays out meanwhile)."""
    assert codegen_speedup.install()
    wrapped = codegen.to_functiondef
    codegen.to_functiondef = wrapped.__wrapped__  # type: ignore[attr-defined]
    try:
        yield
    finally:
        codegen.to_functiondef = wrapped


# Each name is defined by one cell only (``a1`` by cell 1): where cells
# define the same name, marimo's own codegen picks the annotation of one of
# them by the iteration order of a set of statuses, so its text varies from
# one render to the next and cannot be compared.
BASES = st.sampled_from(["a", "Model"])
ANY = st.builds(lambda base, cell: f"{base}{cell}", BASES, st.integers(0, 3))


def line(cell: int) -> st.SearchStrategy[str]:
    own = BASES.map(lambda base: f"{base}{cell}")
    return st.one_of(
        st.builds(lambda n, m: f"{n} = {m} + 1", own, ANY),
        st.builds(lambda n: f"{n} = 1", own),
        st.builds(lambda n, m: f"{n}: {m} = None", own, ANY),
        st.builds(lambda n: f"{n}: 'list[int]' = []", own),
        st.builds(lambda n, m: f"def f{cell}(x: {m}) -> {n}:\n    return x", own, ANY),
        st.builds(lambda m: f"class K{cell}:\n    field: {m}", ANY),
        st.builds(lambda m: f"print({m})", ANY),
        st.just("import os"),
        st.just("def (broken"),
    )


@st.composite
def notebooks(draw: st.DrawFn) -> list[str]:
    count = draw(st.integers(1, 4))
    return ["\n".join(draw(st.lists(line(i), max_size=3))) for i in range(count)]


@settings(max_examples=200, deadline=None)
@given(notebooks(), st.booleans())
@example(["a0: 'list[int]' = []", "b1 = a0 + 1"], False)  # a ref's annotation
@example(["def f0(x: Model1) -> a0:\n    return x", "Model1 = int"], True)
def test_the_twin_is_the_text_marimo_writes(codes: list[str], setup: bool) -> None:
    cells = [CellState(f"c{i}", code) for i, code in enumerate(codes)]
    if setup:
        cells.insert(0, CellState(pyfile.SETUP_ID, "import math\nlimit: int = 3"))
    faster = pyfile.render(cells, None)
    with marimos_own():
        shipped = pyfile.render(cells, None)
    assert faster == shipped
