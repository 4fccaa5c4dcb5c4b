"""What the kernel knows of the notebook, shared by the parts of the kernel.

Each record is an object with its own interface (cells, runs, outputs, the
twin); this bundle only hands them around, so that a part's constructor
takes one argument instead of six, and says the one thing that concerns
them all: a cell gone from the notebook is forgotten by every record.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.jupyter.outputs import OutputRouter
from bridge.jupyter.request_messages import Send
from bridge.jupyter.run_all import RunAllTracker
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import LastOutputs
from bridge.runs.correlator import Correlator
from bridge.twin.keeper import TwinKeeper


@dataclass(frozen=True)
class Records:
    cells: CellRegistry  # which marimo cell a request runs in
    correlator: Correlator  # which run a runtime notification belongs to
    router: OutputRouter  # where a cell's outputs are shown
    last_outputs: LastOutputs  # each cell's latest output, as code mode reads it
    twin: TwinKeeper  # the notebook document and its .py file
    run_all: RunAllTracker  # which waiting requests an earlier run served

    @classmethod
    def new(cls, twin: TwinKeeper, publish: Send) -> Records:
        """Empty records for a notebook kept by ``twin``; outputs go to ``publish``."""
        cells, last_outputs = CellRegistry(), LastOutputs()
        return cls(
            cells, Correlator(), OutputRouter(publish, cells), last_outputs, twin,
            RunAllTracker(),
        )

    def forget(self, cell: str, in_document: bool = True) -> None:
        """A cell gone from the notebook: deleted by the user, or (with
        ``in_document`` False) by the runtime, whose change the document has
        applied already."""
        self.cells.forget(cell)
        self.router.forget(cell)
        self.run_all.forget(cell)
        self.last_outputs.forget(cell)
        document = self.twin.document
        if in_document and document is not None:
            document.delete(cell)

    def load_twin(self) -> None:
        """Open the document (from the twin when there is one); off the loop."""
        self.twin.load(self.cells.new_id)
        self.adopt_loaded()

    def adopt_loaded(self) -> None:
        """The cells just loaded from the twin, known by their file's names
        until a request runs them."""
        where = self.twin.path.name if self.twin.path is not None else "the twin"
        for index, cell in enumerate(self.twin.loaded, start=1):
            label = cell.name if cell.name != "_" else f"{index} of {where}"
            self.cells.adopt(cell.id, cell.code, label)
        for jupyter_id, cell_id in self.twin.bindings.items():
            self.cells.bind(jupyter_id, cell_id)
