"""Keeps the marimo twin in step with the notebook document.

Decides which file is the twin and whether the kernel may write it, loads an
existing twin as the starting document, and hands every change of the
document to the writer. What the user must act on (a file it will not touch,
a failed save) waits in ``notices()`` for the next request's output. That no
path is known is no such thing: nbclient, papermill and consoles never name
one, and a line in every first output would change output notebooks; it is
said in the banner (``describe``) and once in the kernel's log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from bridge.notebook.document import CellState, Document
from bridge.twin import location, order, pyfile
from bridge.twin.writer import Snapshot, TwinWriter

NO_PATH = (
    "this kernel does not know the notebook's path, so no marimo twin (.py) is "
    f"written; set {location.NOTEBOOK_ENV} to enable it"
)


class TwinKeeper:
    def __init__(self, env: Mapping[str, str], connection_file: str | None) -> None:
        self._env = env
        self.enabled = location.enabled(env)
        self.notebook: Path | None = (
            location.from_launch(env, connection_file) if self.enabled else None
        )
        self.path: Path | None = None
        self.document: Document | None = None
        self.writer: TwinWriter | None = None
        # Cells loaded from the twin, with the Jupyter ids the .ipynb gives them.
        self.loaded: list[CellState] = []
        self.bindings: dict[str, str] = {}  # Jupyter id -> cell id
        self._notices: list[str] = []
        self._settled = False  # the "which file" question is answered
        # A path from the environment whose folder is not on this machine: a
        # kernel started by a gateway on another host. No twin then.
        self.elsewhere: str | None = None
        if self.notebook is not None and not self.notebook.parent.is_dir():
            self.elsewhere = (
                f"the notebook's folder {self.notebook.parent} is not on this machine "
                "(a kernel on another host, behind a gateway?), so no marimo twin is written"
            )
            self.notebook = None

    def describe(self) -> str:
        """For the banner: where the twin is written, or why it is not."""
        if not self.enabled:
            return f"no marimo twin ({location.SWITCH_ENV}=0)"
        if self.path is not None:
            return f"marimo twin: {self.path}"
        if self.notebook is not None:
            twin = location.twin_path(self.notebook, self._env)
            if self._settled:  # opened, and refused: the first output says why
                return f"no marimo twin: {twin} is not written"
            return f"marimo twin: {twin}"  # still being opened
        if self.elsewhere is not None:
            return f"no marimo twin: {self.elsewhere}"
        return f"no marimo twin: the notebook's path is not known (set {location.NOTEBOOK_ENV})"

    # -- start -----------------------------------------------------------
    def load(self, new_id: Callable[[], str]) -> None:
        """Create the document, from the twin when there is one (off-loop)."""
        self.document = Document()
        if self.notebook is not None:
            self._open(self.notebook, new_id)

    def discover(self, code: str, new_id: Callable[[], str], runtime_empty: bool) -> bool:
        """Learn the path from VS Code's startup code; True if cells were loaded."""
        if not self.enabled or self.notebook is not None or self._settled:
            return False
        found = location.from_vscode(code)
        if found is None:
            return False
        self.notebook = found
        if not runtime_empty:
            self._settled = True
            self._notices.append(
                f"the notebook path ({found}) became known after cells had run; "
                "restart the kernel to keep its marimo twin"
            )
            return False
        self._open(found, new_id)
        return bool(self.loaded)

    def _open(self, notebook: Path, new_id: Callable[[], str]) -> None:
        assert self.document is not None
        self._settled = True
        path = location.twin_path(notebook, self._env)
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
        except (OSError, UnicodeDecodeError) as exc:
            self._notices.append(f"{path} could not be read ({exc}); it will not be written")
            return
        template = None
        if text is not None:
            try:
                twin = pyfile.parse(text, new_id)
            except pyfile.NotMarimoNotebook:
                self._notices.append(
                    f"{path} exists and is not a marimo notebook; it is left "
                    "untouched and no marimo twin is written"
                )
                return
            template = twin.ir
            self.loaded = twin.cells
            self.document = Document(twin.cells)
            self._bind(notebook)
        self.path = path
        self.writer = TwinWriter(
            path, text, order.NotebookReader(notebook), partial(pyfile.render, template=template)
        )

    def _bind(self, notebook: Path) -> None:
        nb_cells = order.read_cells(notebook)
        if not nb_cells:
            return
        codes = [(c.id, None, c.code) for c in self.loaded]
        for cell_id, index in order.align(codes, nb_cells).items():
            jupyter_id = nb_cells[index].id
            if jupyter_id is not None:
                self.bindings[jupyter_id] = cell_id

    # -- changes -----------------------------------------------------------
    def save(self, jupyter_ids: Callable[[], dict[str, str]]) -> None:
        """Hand the document's current state to the writer, if it changed.

        Called on every request: the snapshot (and ``jupyter_ids()``, cell
        id -> Jupyter id) is built only when there is something to save.
        """
        if self.writer is None or self.document is None:
            return
        if self.document.version == self.writer.saved_version:
            return
        self.writer.submit(Snapshot(self.document.version, self.document.states(), jupyter_ids()))

    def notices(self, first_visible: bool, log: Callable[[str], None]) -> list[str]:
        """What to tell the user in this request's output; ``log`` gets
        what belongs in the kernel's log."""
        if first_visible and self.enabled and not self._settled and self.notebook is None:
            self._settled = True
            log(self.elsewhere or NO_PATH)
        if self.writer is not None:
            failure = self.writer.take_failure()
            if failure is not None:
                self._notices.append(f"the marimo twin was not saved: {failure}")
        out, self._notices = self._notices, []
        return out

    def close(self, timeout: float = 5.0) -> None:
        if self.writer is not None:
            self.writer.close(timeout)

