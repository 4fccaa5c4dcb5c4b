"""Notebooks written for ipykernel, run under both kernels and compared.

Used by tests/test_corpus.py (a few notebooks, asserted) and bench/corpus.py
(``make corpus``: every notebook of a folder, as a table). Each notebook
runs top to bottom with nbclient (``allow_errors``), once under ipykernel
(``python3``) and once under this kernel, as it is and after ``python -m
bridge convert``. Per code cell:

* *agree*: both succeed or both fail;
* a failure here where ipykernel succeeded is put down to marimo's rules
  (a name defined twice, a cell not run because its input failed, a
  cycle, a cell reading a name several cells define, a dependent re-run by
  a redefinition failing, a name only a refused ``import *`` would have
  bound), to IPython syntax (a magic this kernel does not run), or to
  something else;
* a *lost output*: a cell that succeeded under both but shows fewer
  figures, no value where ipykernel showed one, or no text where
  ipykernel printed some.
"""

from __future__ import annotations

import ast
import copy
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from bridge.notebook.analysis import names

RULES = {
    "MultipleDefinitionError",
    "AncestorRaised",
    "AncestorPrevented",
    "CycleError",
    "ImportStarError",
    "SetupCellError",
}


@dataclass
class Cell:
    source: str
    failed: str | None  # the ename, None when it succeeded
    evalue: str = ""
    figures: int = 0
    value: bool = False  # an execute_result
    rich: int = 0  # display_data and execute_result outputs
    text: bool = False


@dataclass
class Comparison:
    cells: int = 0
    agree: int = 0
    causes: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    # (source, what differs) of each cell that disagrees or lost an output.
    details: list[tuple[str, str]] = field(default_factory=list)

    @property
    def agree_share(self) -> float:
        return self.agree / self.cells if self.cells else 1.0


def run(notebook: dict[str, Any], kernel: str, folder: Path, timeout: int = 120) -> list[Cell]:
    """Run a notebook top to bottom (a copy) and read each code cell."""
    nb = nbformat.from_dict(copy.deepcopy(notebook))
    nb.metadata.pop("kernelspec", None)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        allow_errors=True,
        timeout=timeout,
        # A cell past the timeout is interrupted and counts as failed; the
        # notebook goes on (ipykernel's line-by-line %mprun of a million
        # calls takes minutes).
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(folder)}},
    )
    # The reply says whether a cell failed: IPython's UsageError (a magic it
    # does not know) is a line on stderr, with no error output.
    replies: dict[int, dict[str, Any]] = {}

    def executed(cell_index: int, execute_reply: dict[str, Any], **_: Any) -> None:
        replies[cell_index] = execute_reply.get("content", {})

    client.on_cell_executed = executed
    client.execute(env={**os.environ, "MARIMO_BRIDGE_TWIN": "0"})
    return [_read(c, replies.get(i, {})) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _read(cell: Any, reply: dict[str, Any]) -> Cell:
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.output_type == "error"]
    rich = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    failed = errors[0].ename if errors else None
    if failed is None and reply.get("status") == "error":
        failed = str(reply.get("ename") or "Error")
    return Cell(
        source=cell.source,
        failed=failed,
        evalue=errors[0].evalue if errors else str(reply.get("evalue") or ""),
        figures=sum(1 for o in rich if any(k.startswith("image/") for k in o.data)),
        value=any(o.output_type == "execute_result" for o in outputs),
        rich=len(rich),
        text=any(o.output_type == "stream" and o.text.strip() for o in outputs),
    )


def cause(
    cell: Cell, shared: frozenset[str] = frozenset(), starred: frozenset[str] = frozenset()
) -> str:
    """Why this kernel failed a cell ipykernel ran. ``shared``: the names
    several cells of the notebook define, or that a cell marimo refused
    (a star import) defines; a cell reading one of them sees whichever
    definition marimo kept, or none, which is marimo's rule at work.
    ``starred``: the names a star import marimo refused would have bound."""
    if cell.failed in RULES:
        return "marimo's rules"
    if cell.failed == "NameError" and "expected to be defined in" in cell.evalue:
        return "marimo's rules"
    missing = re.search(r"name '(\w+)' is not defined", cell.evalue)
    if cell.failed == "NameError" and missing and missing.group(1) in starred | shared:
        # Read through a string (``eval('df1')``) or in a function, a name
        # marimo refused to define: a star import's, or one several cells define.
        return "marimo's rules"
    found = names(cell.source)
    if found is not None and (found.refs | _names_in_strings(cell.source)) & shared:
        return "marimo's rules"
    if re.match(r"Cell In\[\d+\] failed: ", cell.evalue):
        # The cell ran; a cell reading what it (re)defined re-ran and failed.
        return "marimo's rules"
    if cell.failed in ("UsageError", "SyntaxError") and any(
        line.lstrip().startswith(("%", "!")) or line.rstrip().endswith("?")
        for line in cell.source.splitlines()
    ):
        return "IPython syntax"
    return "other"


def _names_in_strings(source: str) -> set[str]:
    """The names read by the string literals of a cell that are Python
    expressions: what ``eval('x')`` in a notebook's helper reads
    (``display('df1', 'pd.concat([df1, df2])')``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                expression = ast.parse(node.value.strip(), mode="eval")
            except (SyntaxError, ValueError):
                continue
            found.update(n.id for n in ast.walk(expression) if isinstance(n, ast.Name))
    return found


def shared_names(cells: list[Cell]) -> frozenset[str]:
    """The names more than one code cell defines (marimo's analysis), and
    those of cells marimo refused to run for a star import."""
    counts: Counter[str] = Counter()
    refused: set[str] = set()
    for cell in cells:
        found = names(cell.source)
        if found is not None:
            counts.update(found.defs)
        elif cell.failed == "ImportStarError":
            # marimo's analysis refuses the cell; Python's names what it binds.
            refused.update(_bound(cell.source))
    return frozenset(name for name, n in counts.items() if n > 1) | refused


def _bound(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        node.id for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }


def star_names(cells: list[Cell], folder: Path | None) -> frozenset[str]:
    """What the star imports marimo refused (ImportStarError) would have bound."""
    from bridge.convert.stars import exports

    found: set[str] = set()
    for cell in cells:
        if cell.failed != "ImportStarError":
            continue
        for module in re.findall(r"^from\s+([\w.]+)\s+import\s+\*", cell.source, re.M):
            found.update(exports(module, folder) or [])
    return frozenset(found)


def compare(
    reference: list[Cell], here: list[Cell], folder: Path | None = None
) -> Comparison:
    result = Comparison(cells=len(reference))
    shared = shared_names(here)
    starred = star_names(here, folder)
    for ref, cell in zip(reference, here, strict=True):
        if (ref.failed is None) == (cell.failed is None):
            result.agree += 1
        elif ref.failed is None:
            why = cause(cell, shared, starred)
            result.causes[why] += 1
            result.details.append((cell.source, f"[{why}] {cell.failed}: {cell.evalue[:120]}"))
            continue
        else:
            result.causes["only ipykernel failed"] += 1
            result.details.append((cell.source, f"ipykernel: {ref.failed}"))
            continue
        if ref.failed is not None:
            continue
        lost = []
        if cell.figures < ref.figures:
            lost.append(f"{ref.figures - cell.figures} figure(s)")
        if ref.value and not (cell.value or cell.rich):
            lost.append("the value")
        if ref.text and not cell.text:
            lost.append("printed text")
        if lost:
            result.lost += 1
            result.details.append((cell.source, "lost " + ", ".join(lost)))
    return result


@dataclass
class Outcome:
    name: str
    as_is: Comparison
    converted: Comparison


def both_ways(path: Path, timeout: int = 120) -> Outcome:
    """ipykernel on the notebook; this kernel on it and on its conversion."""
    from bridge.convert.from_ipykernel import convert

    notebook = nbformat.read(path, as_version=4)
    if not any(c.cell_type == "code" for c in notebook.cells):
        return Outcome(path.name, Comparison(), Comparison())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        reference = run(notebook, "python3", _beside(path, folder / "ipykernel"), timeout)
        as_is = run(notebook, "marimo", _beside(path, folder / "as-is"), timeout)
        converted, _ = convert(dict(notebook), path.parent)
        after = run(converted, "marimo", _beside(path, folder / "converted"), timeout)
    return Outcome(
        path.name, compare(reference, as_is, path.parent), compare(reference, after, path.parent)
    )


def _beside(notebook: Path, folder: Path) -> Path:
    """A folder to run in that sees what the notebook's folder holds (its
    data files), while what the run writes stays out of it."""
    folder.mkdir(parents=True)
    for entry in notebook.parent.iterdir():
        if entry.suffix != ".ipynb":
            (folder / entry.name).symlink_to(entry.resolve())
    return folder
