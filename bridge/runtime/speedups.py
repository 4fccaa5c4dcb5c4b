"""Three of marimo's per-run costs that do not depend on the cell, made O(1).

Applied in the runtime process by the launcher (``bridge.runtime.child``),
before marimo's kernel starts, and only for the marimo versions this package
pins (``MARIMO_RANGE``): each replaces a private marimo function, so another
version runs marimo's own code untouched. Each answers exactly as the
function it replaces (tests/test_speedups.py checks that on random notebooks
with hypothesis, and fails loudly when an upgrade changes the original).
Both are candidates for upstreaming (docs/speed.md).

* **Entry points read once.** Every cell run asks
  ``marimo._entrypoints.registry.get_entry_points("marimo.cell.executor")``
  (``resolve_executor``), which reads the metadata of every installed
  distribution from disk: about 8-13 ms with this project's own venv, more
  in a data-science environment. The answer is kept, keyed by ``sys.path``
  and the modification times of its site-packages folders: installing or
  removing a package (``%pip install`` in a cell) changes its folder, so the
  next run reads them again.
* **Referring cells by index.** ``edges.get_referring_cells(name,
  "python", topology)`` scans every cell of the notebook for each name a
  run defines. An index from name to the cells that refer to it, kept by the
  topology's ``add_node`` and ``remove_node``, answers the same set; a cell
  the topology no longer holds (``reorder_nodes`` may drop one) is filtered
  out by identity, so the index can never answer a cell the scan would not.
  marimo calls it for every name of the notebook after each edit (its
  variables notification), so the scan made an edit-run O(cells²).
* **Imported modules by index.** ``ModuleRegistry.modules()`` (twice per
  edit, to tell which imports went missing) walks every cell's imports; the
  same index, by module, answers it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

# The marimo versions whose functions these replace, read and tested.
MARIMO_RANGE = ((0, 25, 2), (0, 26, 0))


def applies(version: str) -> bool:
    try:
        parts = tuple(int(p) for p in version.split(".")[:3])
    except ValueError:
        return False
    low, high = MARIMO_RANGE
    return low <= parts < high


def install() -> list[str]:
    """Apply each replacement for a supported marimo; the names applied."""
    import marimo

    if not applies(marimo.__version__):
        return []
    cache_entry_points()
    index_referring_cells()
    index_modules()
    return ["entry points read once", "referring cells by index", "modules by index"]


# -- entry points ------------------------------------------------------------
_SITE_DIRS = ("site-packages", "dist-packages")


def _path_stamp() -> tuple[tuple[str, int], ...]:
    """What says the installed distributions may have changed: the list of
    folders on sys.path, and the modification time of those pip installs
    into (site-packages). Not of the others: the notebook's own folder
    changes at every save of the twin, and would empty the cache each run."""
    stamp = []
    for entry in sys.path:
        mtime = 0
        if os.path.basename(entry.rstrip(os.sep)) in _SITE_DIRS:
            try:
                mtime = os.stat(entry).st_mtime_ns
            except OSError:
                mtime = -1
        stamp.append((entry, mtime))
    return tuple(stamp)


def cached(read: Callable[[str], Any]) -> Callable[[str], Any]:
    """``read(group)``, kept until a folder on sys.path changes."""
    kept: dict[str, tuple[tuple[tuple[str, int], ...], Any]] = {}

    def get_entry_points(group: str) -> Any:
        stamp = _path_stamp()
        hit = kept.get(group)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = read(group)
        kept[group] = (stamp, value)
        return value

    get_entry_points.__wrapped__ = read  # type: ignore[attr-defined]
    return get_entry_points


def cache_entry_points() -> None:
    from marimo._entrypoints import registry

    read: Any = registry.get_entry_points
    registry.get_entry_points = cached(read)  # type: ignore[assignment]


# -- referring cells -----------------------------------------------------------
_INDEX = "_bridge_refs_index"
_MODULES = "_bridge_modules_index"
Index = dict[str, dict[Any, Any]]  # name -> {cell id: the cell (for identity)}


def _index(topology: Any, key: str = _INDEX) -> Index:
    index: Index | None = topology.__dict__.get(key)
    if index is None:
        index = {}
        for cell_id, cell in topology._cells.items():
            for name in _names(cell, key):
                index.setdefault(name, {})[cell_id] = cell
        topology.__dict__[key] = index
    return index


def _names(cell: Any, key: str) -> set[str]:
    return set(cell.refs) if key == _INDEX else set(cell.imported_namespaces)


def _add(topology: Any, cell_id: Any, cell: Any) -> None:
    for key in (_INDEX, _MODULES):
        index = _index(topology, key)
        for name in _names(cell, key):
            index.setdefault(name, {})[cell_id] = cell


def _remove(topology: Any, cell_id: Any, cell: Any) -> None:
    for key in (_INDEX, _MODULES):
        index = _index(topology, key)
        for name in _names(cell, key):
            holders = index.get(name)
            if holders is not None and holders.get(cell_id) is cell:
                del holders[cell_id]
                if not holders:
                    del index[name]


def _present(topology: Any, holders: dict[Any, Any]) -> set[Any]:
    """The holders the topology still holds, the same cell object."""
    cells: dict[Any, Any] = topology._cells
    return {cid for cid, cell in holders.items() if cells.get(cid) is cell}


def index_referring_cells() -> None:
    from marimo._runtime.dataflow import edges
    from marimo._runtime.dataflow.topology import MutableGraphTopology

    original_add = MutableGraphTopology.add_node
    original_remove = MutableGraphTopology.remove_node
    original_referring = edges.get_referring_cells

    def add_node(self: Any, cell_id: Any, cell: Any) -> None:
        original_add(self, cell_id, cell)
        _add(self, cell_id, cell)

    def remove_node(self: Any, cell_id: Any) -> None:
        cell = self._cells.get(cell_id)
        original_remove(self, cell_id)
        if cell is not None:
            _remove(self, cell_id, cell)

    def get_referring_cells(name: Any, language: Any, topology: Any) -> set[Any]:
        if language != "python" or not isinstance(topology, MutableGraphTopology):
            return original_referring(name, language, topology)
        readers = _index(topology).get(name)
        return _present(topology, readers) if readers else set()

    get_referring_cells.__wrapped__ = original_referring  # type: ignore[attr-defined]
    add_node.__wrapped__ = original_add  # type: ignore[attr-defined]
    remove_node.__wrapped__ = original_remove  # type: ignore[attr-defined]
    MutableGraphTopology.add_node = add_node  # type: ignore[method-assign]
    MutableGraphTopology.remove_node = remove_node  # type: ignore[method-assign]
    edges.get_referring_cells = get_referring_cells


def index_modules() -> None:
    """Apply after index_referring_cells (whose add_node keeps this index)."""
    from marimo._runtime.dataflow.topology import MutableGraphTopology
    from marimo._runtime.packages.module_registry import ModuleRegistry

    original_modules = ModuleRegistry.modules

    def modules(self: Any) -> set[str]:
        topology = getattr(self.graph, "topology", self.graph)
        if not isinstance(topology, MutableGraphTopology):
            return original_modules(self)
        index = _index(topology, _MODULES)
        return {name for name, holders in index.items() if _present(topology, holders)}

    modules.__wrapped__ = original_modules  # type: ignore[attr-defined]
    ModuleRegistry.modules = modules  # type: ignore[method-assign]
