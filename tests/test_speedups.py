"""bridge/runtime/speedups.py answers exactly as the marimo code it replaces.

Property tests (hypothesis) drive marimo's own dataflow graph through random
notebooks (cells defined, edited, renamed, deleted, reordered) and compare
the index's answer with marimo's scan after every step; the entry-point
cache is compared with a fresh read, before and after a change on sys.path.
The fingerprints fail loudly when an upgrade changes a replaced function:
re-read it, re-run these tests, then update the fingerprint and the range.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
from pathlib import Path

import marimo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.runtime import speedups

NAMES = ["a", "b", "c", "d", "e", "f"]

# sha256 of each replaced function's source, as read for MARIMO_RANGE.
FINGERPRINTS = {
    "marimo._entrypoints.registry.get_entry_points": "85eb0edcd10f2453",
    "marimo._runtime.dataflow.edges.get_referring_cells": "fd819cdfd08438d6",
    "marimo._runtime.dataflow.topology.MutableGraphTopology.add_node": "f2a2ff9c54d8e72d",
    "marimo._runtime.dataflow.topology.MutableGraphTopology.remove_node": "5ceb45ecc93cac6a",
    "marimo._runtime.dataflow.topology.MutableGraphTopology.reorder_nodes": "89f62acb79fd2619",
    "marimo._runtime.packages.module_registry.ModuleRegistry.modules": "fa5931da92852e13",
}


def _original(dotted: str) -> object:
    module_name, _, attr = dotted.rpartition(".")
    try:
        owner: object = __import__(module_name, fromlist=[attr])
    except ImportError:  # a class method: the module is one level up
        module_name, _, cls = module_name.rpartition(".")
        owner = getattr(__import__(module_name, fromlist=[cls]), cls)
    value = getattr(owner, attr)
    return getattr(value, "__wrapped__", value)


def _fingerprint(dotted: str) -> str:
    source = inspect.getsource(_original(dotted))  # type: ignore[arg-type]
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    """The replacements, in this process, as the launcher installs them."""
    if not getattr(speedups, "_installed_for_tests", False):
        assert speedups.install(), "the pinned marimo is in MARIMO_RANGE"
        speedups._installed_for_tests = True  # type: ignore[attr-defined]


def test_the_installed_marimo_is_the_one_these_replacements_were_checked_against() -> None:
    assert speedups.applies(marimo.__version__), (
        f"marimo {marimo.__version__} is outside speedups.MARIMO_RANGE: the launcher "
        "runs marimo's own code; re-check the replacements and widen the range"
    )
    changed = {k: _fingerprint(k) for k, v in FINGERPRINTS.items() if _fingerprint(k) != v}
    assert not changed, (
        "marimo changed a function bridge/runtime/speedups.py replaces: read the new "
        f"source, re-run these tests, then record the new fingerprints: {changed}"
    )


# -- referring cells -------------------------------------------------------------
def _code(defines: str, refs: list[str], extra: str) -> str:
    body = " + ".join(refs) if refs else "0"
    return f"{defines} = {body}{extra}"


cell_code = st.builds(
    _code,
    st.sampled_from(NAMES),
    st.lists(st.sampled_from(NAMES), max_size=3),
    st.sampled_from(["", "\nprint(c)", "\ndef g():\n    return d", "\nimport os",
                     "\nimport os.path as p", "\nfrom json import dumps", "\nimport missing_mod_x"]),
)
step = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 9), cell_code),
    st.tuples(st.just("edit"), st.integers(0, 9), cell_code),
    st.tuples(st.just("delete"), st.integers(0, 9), st.just("")),
    st.tuples(st.just("reorder"), st.integers(0, 9), st.just("")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=25), st.randoms())
def test_referring_cells_match_marimos_scan(steps, rnd) -> None:
    from marimo._ast.compiler import compile_cell
    from marimo._runtime.dataflow import DirectedGraph, edges
    from marimo._runtime.packages.module_registry import ModuleRegistry

    scan = edges.get_referring_cells.__wrapped__
    graph = DirectedGraph()
    for kind, slot, code in steps:
        cell_id = f"cell{slot}"
        present = cell_id in graph.topology.cells
        if kind in ("add", "edit") and code:
            if present:
                graph.delete_cell(cell_id)  # an edit: marimo removes, then registers
            graph.register_cell(cell_id, compile_cell(code, cell_id=cell_id))
        elif kind == "delete" and present:
            graph.delete_cell(cell_id)
        elif kind == "reorder":
            ids = list(graph.topology.cells)
            rnd.shuffle(ids)
            graph.topology.reorder_nodes(ids)
        for name in [*NAMES, "print", "os", "g"]:
            assert graph.get_referring_cells(name, "python") == scan(
                name, "python", graph.topology
            ), (name, steps)
        registry = ModuleRegistry(graph)
        assert registry.modules() == ModuleRegistry.modules.__wrapped__(registry), steps


def test_a_cell_reorder_drops_is_not_answered() -> None:
    """marimo's reorder_nodes keeps only the ids it is given."""
    from marimo._ast.compiler import compile_cell
    from marimo._runtime.dataflow import DirectedGraph, edges

    graph = DirectedGraph()
    graph.register_cell("one", compile_cell("x = a", cell_id="one"))
    graph.register_cell("two", compile_cell("y = a", cell_id="two"))
    graph.topology.reorder_nodes(["two"])
    scan = edges.get_referring_cells.__wrapped__
    assert graph.get_referring_cells("a", "python") == {"two"} == scan("a", "python", graph.topology)


# -- entry points ---------------------------------------------------------------
def test_entry_points_are_read_again_after_an_install(tmp_path: Path) -> None:
    from marimo._entrypoints import registry

    fresh = registry.get_entry_points.__wrapped__
    group = "marimo.cell.executor"
    assert list(registry.get_entry_points(group)) == list(fresh(group))
    assert registry.get_entry_points(group) is registry.get_entry_points(group)  # kept

    # A package "installed" into a site-packages folder on sys.path, as pip does.
    site = tmp_path / "site-packages"
    site.mkdir()
    # The notebook's folder is on sys.path too (marimo puts it first).
    sys.path[:0] = [str(tmp_path), str(site)]
    try:
        registry.get_entry_points(group)
        kept = registry.get_entry_points(group)
        # Other folders changing (the notebook's, at each twin save) keep it.
        stamp = tmp_path.stat().st_mtime_ns
        (tmp_path / "nb.py").write_text("")
        os.utime(tmp_path, ns=(stamp + 10**9, stamp + 10**9))
        assert registry.get_entry_points(group) is kept
        dist = site / "probe_executor-0.1.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: probe-executor\nVersion: 0.1\n")
        (dist / "entry_points.txt").write_text(f"[{group}]\nprobe = probe_executor:make\n")
        stamp = site.stat().st_mtime_ns
        os.utime(site, ns=(stamp + 10**9, stamp + 10**9))
        names = [ep.name for ep in registry.get_entry_points(group)]
        assert "probe" in names
        assert names == [ep.name for ep in fresh(group)]
    finally:
        sys.path.remove(str(site))
        sys.path.remove(str(tmp_path))
