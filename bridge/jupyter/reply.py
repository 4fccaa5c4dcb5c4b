"""The execute_reply (and its IOPub ``error``) that tells the truth about a run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.jupyter.outputs import SCRATCH, OutputRouter
from bridge.runs.request import RequestRun
from bridge.translate.errors import describe, has_traceback
from bridge.translate.traceback import RED, RESET


def error_content(
    request: RequestRun, router: OutputRouter, disabled: Callable[[str], bool]
) -> dict[str, Any] | None:
    """ename/evalue/traceback for a failed request, or None if all went well.
    ``disabled``: whether a cell is disabled in the notebook."""
    if request.lost is not None:
        return {
            "ename": "RuntimeDied",
            "evalue": request.lost,
            "traceback": [f"{RED}RuntimeDied{RESET}: {request.lost}"],
        }
    failures = request.failures()
    if not failures:
        if request.interrupted:
            return {
                "ename": "KeyboardInterrupt",
                "evalue": "execution was interrupted",
                "traceback": [f"{RED}KeyboardInterrupt{RESET}: execution was interrupted"],
            }
        skipped = request.unexplained()
        if skipped:
            return _not_run(skipped, request, router, disabled)
        return None
    cell, error = failures[0]
    described = describe(error, router.label)
    view = router.view(cell)
    own = cell in request.roots or cell == SCRATCH
    evalue = described.evalue
    lines: list[str] = []
    if not own:
        evalue = f"{router.label(cell)} failed: {evalue}"
        lines.append(
            f"{RED}{router.label(cell)}, which re-ran because of this cell, failed:{RESET}"
        )
    if view is not None and view.traceback and has_traceback(error):
        lines.extend(view.traceback)
    else:
        lines.append(f"{RED}{described.ename}{RESET}: {described.evalue}")
    others = {c for c, _ in failures[1:] if c != cell}
    if others:
        names = ", ".join(router.label(c) for c in sorted(others))
        lines.append(f"{RED}Also failed in this run:{RESET} {names}")
    return {"ename": described.ename, "evalue": evalue, "traceback": lines}


def _not_run(
    skipped: list[str], request: RequestRun, router: OutputRouter, disabled: Callable[[str], bool]
) -> dict[str, Any]:
    """Executed cells marimo skipped without an error item: disabled ones
    (marimo's cell config, theirs or an ancestor's), or, should marimo ever
    skip one for no reason, that said plainly."""
    cells = ", ".join(router.label(c) for c in sorted(skipped))
    if all(c in request.disabled or disabled(c) for c in skipped):
        ename = "CellDisabled"
        evalue = (
            f"marimo did not run {cells}: it is disabled, or reads from a disabled "
            "cell (marimo's cell config); enable it to run it"
        )
    else:
        ename, evalue = "CellNotRun", f"marimo did not run {cells} and gave no reason"
    return {"ename": ename, "evalue": evalue, "traceback": [f"{RED}{ename}{RESET}: {evalue}"]}


def rerun_summary(request: RequestRun, router: OutputRouter) -> str | None:
    """Which dependents this request re-ran and how each ended."""
    dependents = request.dependents_ran()
    if not dependents:
        return None
    failed = {cell for cell, _ in request.failures()}
    parts = [f"{router.label(cell)} {'✗ failed' if cell in failed else '✓'}" for cell in dependents]
    return "↻ re-ran: " + ", ".join(parts)


def convert_hint(notebook: Path | None) -> str:
    """Said once per kernel, with its first MultipleDefinitionError: the way
    over for a notebook written for ipykernel (bridge/convert)."""
    if notebook is not None:
        new = notebook.with_name(f"{notebook.stem}-marimo.ipynb")
        command = f"python -m bridge convert {notebook} -o {new}"
    else:
        command = "python -m bridge convert NOTEBOOK.ipynb -o NEW.ipynb"
    return (
        "Hint: this notebook looks written for another kernel (ipykernel), where a "
        "later cell may define a name again; in marimo each name has one defining "
        "cell. To bring it over, renaming such names the way marimo's own importer "
        f"does (the original is kept): {command}"
    )
