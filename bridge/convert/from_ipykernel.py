"""A notebook written for ipykernel, brought over to run top to bottom here.

Such notebooks reuse names across cells (``x`` in one example and the
next, ``import random`` twice, ``df = df.dropna()``), which marimo forbids.
marimo's own ipynb importer renames them; this calls its transforms, in the
order it runs them (``marimo/_convert/ipynb/to_ir.py``: repeated imports
removed, then later definitions renamed with their readers, ``df`` ->
``df_1``), with marimo's comment keeper around them, on the code cells
only, and keeps everything else of the notebook: markdown and raw cells, cell
ids, tags and metadata. Outputs are cleared and the kernelspec becomes this
kernel's.

What the transforms cannot see is shown to them: IPython lines are masked
while they run (masks.py) and renamed too (``%timeit L.sort()``, ``!echo
{x}``), and so are the names inside the string literals a call evaluates
(strings.py: ``pd.eval('...')``, ``@name`` in ``.query('...')``, a
notebook helper that calls ``eval``). A notebook that already runs here comes out with its cells as
they were.

marimo's transforms are private (``marimo._convert.ipynb.to_ir``,
``marimo._convert.common.comment_preserver``): imported here only;
tests/unit/test_convert.py fails loudly if an upgrade moves them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.convert import strings
from bridge.convert.from_marimo import KERNELSPEC, ConvertError
from bridge.convert.masks import Masked, Unmaskable, mask, unmask
from bridge.convert.stars import Star, expand
from bridge.notebook.analysis import names
from bridge.twin.order import cell_source


@dataclass
class Report:
    """What the conversion changed: (cell number, old name, new name)."""

    renamed: list[tuple[int, str, str]] = field(default_factory=list)
    imports_removed: list[tuple[int, str]] = field(default_factory=list)
    # Cells left as written: their IPython lines could not take the renaming.
    kept: list[int] = field(default_factory=list)
    stars: list[Star] = field(default_factory=list)
    # Cells whose pasted prompts (``>>> ``, ``In [1]: ``) were taken off.
    prompts: list[int] = field(default_factory=list)
    cells_changed: int = 0

    def lines(self) -> list[str]:
        out = [
            f"cell {s.cell}: from {s.module} import * -> " + (
                f"the {len(s.names)} name{'s' if len(s.names) != 1 else ''} of it the "
                "notebook reads" if s.names is not None
                else f"kept ({s.module} does not import here)"
            )
            for s in self.stars
        ]
        out += [f"cell {n}: pasted prompts taken off" for n in self.prompts]
        out += [f"cell {n}: {old} -> {new}" for n, old, new in self.renamed]
        out += [f"cell {n}: repeated import of {name} removed" for n, name in self.imports_removed]
        out += [
            f"cell {n}: its names left as written (an IPython line in it could not be renamed): "
            "rename its names by hand"
            for n in self.kept
        ]
        return out


def transforms() -> list[Callable[[list[str]], list[str]]]:
    """marimo's renaming transforms, in its importer's order, each kept from
    losing comments as the importer keeps it."""
    from marimo._convert.ipynb.to_ir import (
        transform_duplicate_definitions,
        transform_remove_duplicate_imports,
    )

    return [transform_remove_duplicate_imports, transform_duplicate_definitions]


_PROMPT = re.compile(r"^[ \t]*(>>>|In \[\d+\]:)", re.M)


def without_prompts(source: str) -> str:
    """``source`` without the prompts pasted with it (``>>> ``, ``... ``,
    ``In [1]: ``, ``   ...: ``), by IPython's own cleanup transforms."""
    if not _PROMPT.search(source):
        return source
    from IPython.core.inputtransformer2 import classic_prompt, ipython_prompt

    lines = source.splitlines(keepends=True)
    plain = "".join(ipython_prompt(classic_prompt(lines)))
    return plain.rstrip("\n") + "\n" * (len(source) - len(source.rstrip("\n")))


def convert(
    notebook: dict[str, Any], folder: Path | None = None
) -> tuple[dict[str, Any], Report]:
    """The notebook brought over (a copy), and what changed. ``folder``: the
    notebook's, where its star imports' modules are imported (stars.py)."""
    from marimo._convert.common.comment_preserver import CommentPreserver

    out = copy.deepcopy(notebook)
    code_cells = [c for c in out.get("cells", []) if c.get("cell_type") == "code"]
    as_written = [cell_source(c) for c in code_cells]
    # Pasted prompts off (as IPython takes them off to run the cell), so the
    # cell parses and its names are renamed too.
    unprompted = [without_prompts(source) for source in as_written]
    # Star imports first: what they bind is then names the transforms see.
    originals, stars = expand(unprompted, folder)
    masked = [mask(source) for source in originals]
    evaluators = strings.evaluators([m.source for m in masked])
    named = [strings.with_names(m.source, evaluators) for m in masked]
    sources = [s for s, _ in named]
    for transform in transforms():
        keep = CommentPreserver(sources)
        try:
            changed = keep(transform)(sources)
        except Exception:  # as marimo's importer: skip a transform that fails
            continue
        if len(changed) == len(sources):
            sources = changed
    report = Report(stars=stars, prompts=[
        number for number, (written, plain) in enumerate(zip(as_written, unprompted, strict=True),
                                                         start=1) if plain != written
    ])
    for number, (cell, written, original, masked_, (before, names_in_strings), after) in (
        enumerate(zip(code_cells, as_written, originals, masked, named, sources, strict=True),
                  start=1)
    ):
        text = (strings.renamed(after, names_in_strings, evaluators) if after != before
                else masked_.source)
        try:
            new = unmask(text, masked_) if after != before else original
        except Unmaskable:
            report.kept.append(number)
            new = original
        else:
            _note(report, number, masked_, text)
        if new != written:
            report.cells_changed += 1
            cell["source"] = new
    for cell in out.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    metadata = out.setdefault("metadata", {})
    metadata["kernelspec"] = dict(KERNELSPEC)
    return out, report


def convert_file(
    source: Path, output: Path | None, in_place: bool, force: bool = False
) -> tuple[Path, Report, Path | None]:
    """Convert ``source`` into ``output`` (or itself, keeping a backup):
    the path written, the report, the backup. Never writes over a file it
    was not asked to, and never loses the original."""
    if output is None and not in_place:
        raise ConvertError(
            f"say where the converted notebook goes: -o NEW.ipynb, or --in-place "
            f"(which keeps {source.name} as a backup beside it)"
        )
    if output is not None and in_place:
        raise ConvertError("-o and --in-place do not go together")
    target = source if in_place else output
    assert target is not None
    if not in_place and target.exists() and not force:
        raise ConvertError(f"{target} exists; pass --force to replace it")
    if not in_place and target.resolve() == source.resolve():
        raise ConvertError("-o names the notebook itself: use --in-place")
    try:
        raw = source.read_text(encoding="utf-8")
        notebook = json.loads(raw)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConvertError(f"cannot read {source} as a notebook: {exc}") from exc
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ConvertError(f"{source} is not a Jupyter notebook (no cells)")
    converted, report = convert(notebook, source.parent)
    backup = None
    if in_place:
        backup = _free(source.with_name(source.name + ".orig"))
        shutil.copy2(source, backup)
    text = json.dumps(converted, indent=1, ensure_ascii=False) + "\n"
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
    return target, report, backup


def _free(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``...: the first that does not exist."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def _note(report: Report, number: int, masked: Masked, text: str) -> None:
    """What the renaming did to one cell, in its names."""
    before, after = names(masked.source), names(text)
    if before is None or after is None:
        return
    gone, new = before.defs - after.defs, after.defs - before.defs
    for name in sorted(new):
        base = re.sub(r"_\d+$", "", name)
        if base in gone:
            report.renamed.append((number, base, name))
    for name in sorted(gone - {re.sub(r"_\d+$", "", n) for n in new}):
        report.imports_removed.append((number, name))
