"""The execute_reply (and its IOPub ``error``) that tells the truth about a run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.jupyter.outputs import SCRATCH, OutputRouter
from bridge.jupyter.records import Records
from bridge.jupyter.request_messages import RequestContext
from bridge.runs.request import RequestRun
from bridge.translate.errors import FORMATTER, describe, has_traceback
from bridge.translate.traceback import RED, RESET

Publish = Callable[[str, dict[str, Any], dict[str, Any]], None]


class Replies:
    """The execute_replies of this kernel, and what goes with them on IOPub."""

    def __init__(
        self, publish: Publish, records: Records, execution_count: Callable[[], int]
    ) -> None:
        self._publish = publish
        self._records = records
        self._execution_count = execution_count
        # Whether the last error reply may abort the waiting requests: only
        # when the executed cell itself failed (run_all.py).
        self.stop_queue = True
        # The hint at the first MultipleDefinitionError (convert_hint).
        self._convert_hinted = False

    def finish(self, request: RequestRun, context: RequestContext) -> dict[str, Any]:
        """The reply to a request whose run is over."""
        router, twin = self._records.router, self._records.twin
        document = twin.document
        error = error_content(
            request, router, lambda cell: document is not None and document.disabled(cell)
        )
        own_failure = request.own_failure()
        # A cell run with a cellId shows its failure in its value display
        # (views.py), which a later run replaces: a healed cell shows its
        # latest run only. An error output would stay for good. Without a
        # cellId, or with nothing to show it in, the error output it is
        # (papermill reads it).
        in_place = (
            context.anchored
            and bool(request.roots)
            and request.lost is None
            and bool(request.failures())
        )
        summary = rerun_summary(request, router)
        if error is not None and in_place and not own_failure:
            # Which dependent failed, and how, under the executed cell.
            summary = "\n".join([summary or "", *error["traceback"]]).strip("\n")
        if summary and context.anchored and not context.silent:
            self._publish(
                "display_data", {"data": {"text/plain": summary}, "metadata": {}}, context.parent
            )
        self.stop_queue = own_failure
        if error is not None and error["ename"] in CONVERT_HINTED:
            if not self._convert_hinted and not context.silent:
                self._convert_hinted = True
                hint = convert_hint(twin.notebook)
                error["traceback"] = [*error["traceback"], hint]
                if in_place:  # the cell's display shows the error, not the traceback
                    self.warn_raw(hint, context.parent)
        if error is None:
            return {
                "status": "ok",
                "execution_count": self._execution_count(),
                "payload": [],
                "user_expressions": {},
            }
        # A value's formatter error was shown where it happened (outputs.py).
        failures = request.failures()
        shown = bool(failures) and failures[0][1].get("type") == FORMATTER
        if not in_place and not shown:
            if context.anchored:
                for root in request.roots:
                    view = router.view(root)
                    if view is not None:
                        view.error_output_shown = True
            if not context.silent:
                self._publish("error", error, context.parent)
        return {"status": "error", "execution_count": self._execution_count(), **error}

    def error(self, ename: str, evalue: str, silent: bool, parent: dict[str, Any],
              own: bool = True) -> dict[str, Any]:
        """The error reply of a request that failed before any run. ``own``: the
        request's own failure (refused, a bad magic), which stops the queue
        like a failed cell's; otherwise the queue is left as the last run left it."""
        if own:
            self.stop_queue = True
        error = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
        if not silent:
            self._publish("error", error, parent)
        return {"status": "error", "execution_count": self._execution_count(), **error}

    def warn(self, notices: list[str], parent: dict[str, Any]) -> None:
        for notice in notices:
            self.warn_raw(f"Warning: {notice}", parent)

    def say(self, text: str, silent: bool, parent: dict[str, Any]) -> None:
        """A line on stdout, as a magic prints it."""
        if not silent:
            self._publish("stream", {"name": "stdout", "text": f"{text}\n"}, parent)

    def warn_raw(self, text: str, parent: dict[str, Any]) -> None:
        self._publish("stream", {"name": "stderr", "text": f"{text}\n"}, parent)


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
        if request.cut_short():
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
    elif error.get("type") == FORMATTER and error.get("traceback"):
        lines.extend(error["traceback"])
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


# The errors a notebook written for ipykernel meets first here.
CONVERT_HINTED = ("MultipleDefinitionError", "ImportStarError")


def convert_hint(notebook: Path | None) -> str:
    """Said once per kernel, with its first MultipleDefinitionError or
    ImportStarError: the way over for a notebook written for ipykernel
    (bridge/convert)."""
    if notebook is not None:
        new = notebook.with_name(f"{notebook.stem}-marimo.ipynb")
        command = f"python -m bridge convert {notebook} -o {new}"
    else:
        command = "python -m bridge convert NOTEBOOK.ipynb -o NEW.ipynb"
    return (
        "Hint: this notebook looks written for another kernel (ipykernel), where a "
        "later cell may define a name again and `import *` is allowed; in marimo "
        "each name has one defining cell and every import names what it binds. To "
        "bring it over, renaming such names the way marimo's own importer does and "
        f"writing star imports out (the original is kept): {command}"
    )
