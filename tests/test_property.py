"""Random request sequences against a real kernel keep the notebook whole.

Each hypothesis example starts one kernel with its twin in a fresh folder
(sometimes on an existing twin, whose cells the runtime then holds pending,
unrun), and sends 5 to 12 random steps:

* run: a cell from a small pool of codes defining and reading ``a``, ``b``,
  ``c``, some failing (ZeroDivisionError, NameError, a syntax error, a name
  defined twice), with a cellId from a small pool or none;
* delete: a cell run with JupyterLab's ``deletedCells`` (ids from the pool,
  one unknown);
* interrupt: an ``interrupt_request`` on the control channel while a cell
  sleeps (or, sent at once, maybe before it starts: it may then finish);
  and one while nothing runs;
* scratchpad: ``%%scratch`` code, and code mode creating a cell (code mode
  refuses a syntax error or a name defined twice; then the document must
  be unchanged, else it gains that one cell, at the end);
* bad: a request with a malformed cellId or deletedCells (refused).

After every step these invariants are checked:

1. Every request is answered within ``STEP_TIMEOUT``; none reports a dead
   runtime (``RuntimeDied``, ``RuntimeStartError``) and none is
   ``aborted`` (each is sent only after the previous reply).
2. The document and the runtime agree on the cells. Let D be the bridge's
   document (the ``notebook_cells`` a scratchpad request carries), G the
   runtime graph's cells and P the cells it holds pending (registered
   without running: loaded from the twin, not yet needed by a run). Then G
   and P are disjoint, every cell of G and of P is in D with the same code,
   and every cell of D in neither is one marimo cannot compile (a syntax
   error: marimo keeps it in the notebook, not in the graph).
3. The twin parses as a marimo notebook, and once the writer has caught up
   its cells' codes, in order, are D's.
4. Nothing is lost: each cellId last run with code X (and not deleted
   since) has a cell with code X in D, and a refused request changes
   nothing (D is as before it).

Set ``BRIDGE_PROPERTY_EXAMPLES`` to run more examples, randomly; by default
the 20 examples are derandomized, so CI runs the same sequences each time.
Shrinking is off: each example costs a kernel start, and the failing
sequence is printed as it was found.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import Result, collect, execute, send_execute, wait_until
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

from bridge.notebook.document import CellState
from bridge.twin import pyfile

STEP_TIMEOUT = 30
EXAMPLES = int(os.environ.get("BRIDGE_PROPERTY_EXAMPLES", "20"))

IDS = ["lab-1", "lab-2", "lab-3"]
CODES = [
    "a = 1",
    "a = 2",
    "b = a + 1",
    "c = b * 2",
    "print(a, b)",
    "d = 1 / 0",
    "e = undefined_name",
    "f = (",
    "a = 5\nb = 6",
    "",
]
# A twin the kernel may start on: its cells are pending in the runtime.
TWIN_CODES = ["a = 1", "b = a + 1", "print(b)", "t = ("]
SLEEP = "__import__('time').sleep(2)"  # defines nothing: any number may exist

MARK = "@@state@@"
PROBE = f'''%%scratch
import json as _json
from marimo._messaging.notebook.document import get_current_document as _document
from marimo._runtime.context import get_context as _context
_kernel = _context()._kernel
print("{MARK}" + _json.dumps({{
    "document": [[str(c.id), c.code] for c in _document().cells],
    "graph": {{str(k): v.code for k, v in _kernel.graph.cells.items()}},
    "pending": {{str(k): r.code for k, r in _kernel._uninstantiated_execution_requests.items()}},
}}))
'''
CODE_MODE = """%%scratch
import marimo._code_mode as cm
async with cm.get_context() as ctx:
    ctx.create_cell({code!r})
"""


@dataclass(frozen=True)
class Step:
    kind: str
    code: str = ""
    cell_id: str | None = None
    deleted: tuple[str, ...] = ()
    delay: float = 0.0  # before an interrupt: 0 may catch the cell before it starts


cell_ids = st.one_of(st.none(), st.sampled_from(IDS))
steps = st.one_of(
    st.builds(Step, st.just("run"), st.sampled_from(CODES), cell_ids),
    st.builds(
        Step,
        st.just("delete"),
        st.sampled_from(CODES),
        st.sampled_from(IDS),
        st.lists(st.sampled_from([*IDS, "lab-unknown"]), min_size=1, max_size=3).map(tuple),
    ),
    st.builds(
        Step,
        st.just("interrupt"),
        st.just(SLEEP),
        cell_ids,
        delay=st.sampled_from([0.0, 0.02, 0.3]),
    ),
    st.just(Step("interrupt-idle")),
    st.builds(Step, st.just("scratch"), st.sampled_from(["print(a)", "q = 1"])),
    st.builds(Step, st.just("code-mode"), st.sampled_from(["g = 7", "h = a + 1", "k = ("])),
    st.sampled_from([Step("bad-cell-id", "m = 1"), Step("bad-deleted", "m = 1", "lab-1")]),
)


def compiles(code: str) -> bool:
    """Whether marimo can register ``code`` as a cell (as its runtime does)."""
    from marimo._ast.compiler import compile_cell
    from marimo._internal.ids import CellId_t

    try:
        compile_cell(code, cell_id=CellId_t("probe"))
    except SyntaxError:
        return False
    return True


def twin_codes(path: Path) -> list[str]:
    """The twin's cell codes; raises if it is not a marimo notebook."""
    if not path.exists():
        return []
    return [c.code for c in pyfile.parse(path.read_text(encoding="utf-8"), lambda: "").cells]


class Session:
    """One kernel, the steps sent so far, and what they must have left."""

    def __init__(self, kc: BlockingKernelClient, twin: Path) -> None:
        self.kc = kc
        self.twin = twin
        self.live: dict[str, str] = {}  # cellId -> the code it last ran
        self.log: list[str] = []
        self.document: list[tuple[str, str]] = []

    def answered(self, result: Result, what: str) -> Result:
        content = result.content
        self.log.append(f"{what} -> {result.status} {content.get('ename', '')}")
        assert result.status != "aborted", self.story("a request sent after a reply was aborted")
        assert content.get("ename") not in ("RuntimeDied", "RuntimeStartError"), self.story(
            f"the runtime died: {content.get('evalue')}"
        )
        return result

    def story(self, problem: str) -> str:
        return problem + "\nsteps:\n  " + "\n  ".join(self.log)

    def send(self, step: Step) -> None:
        kc = self.kc
        if step.kind == "run":
            self.answered(
                execute(kc, step.code, cell_id=step.cell_id, timeout=STEP_TIMEOUT), repr(step)
            )
            if step.cell_id is not None:
                self.live[step.cell_id] = step.code
        elif step.kind == "delete":
            result = execute(
                kc,
                step.code,
                cell_id=step.cell_id,
                deleted=list(step.deleted),
                timeout=STEP_TIMEOUT,
            )
            self.answered(result, repr(step))
            for gone in step.deleted:
                if gone != step.cell_id:  # JupyterLab never deletes the cell it runs
                    self.live.pop(gone, None)
            assert step.cell_id is not None
            self.live[step.cell_id] = step.code
        elif step.kind == "interrupt":
            msg_id = send_execute(kc, step.code, step.cell_id)
            time.sleep(step.delay)
            kc.control_channel.send(kc.session.msg("interrupt_request", {}))
            result = self.answered(collect(kc, msg_id, STEP_TIMEOUT), repr(step))
            assert result.status == "ok" or result.content["ename"] == "KeyboardInterrupt"
            assert kc.get_control_msg(timeout=STEP_TIMEOUT)["msg_type"] == "interrupt_reply"
            if step.cell_id is not None:
                self.live[step.cell_id] = step.code
        elif step.kind == "interrupt-idle":
            kc.control_channel.send(kc.session.msg("interrupt_request", {}))
            assert kc.get_control_msg(timeout=STEP_TIMEOUT)["msg_type"] == "interrupt_reply"
            self.log.append(repr(step))
        elif step.kind == "scratch":
            self.answered(execute(kc, "%%scratch\n" + step.code, timeout=STEP_TIMEOUT), repr(step))
        elif step.kind == "code-mode":
            code = CODE_MODE.format(code=step.code)
            result = self.answered(execute(kc, code, timeout=STEP_TIMEOUT), repr(step))
            after = self.observe()
            if result.status == "ok":
                assert after[:-1] == self.document, self.story("code mode changed other cells")
                assert after[-1][1] == step.code, self.story("code mode's cell is missing")
            else:  # it refuses a syntax error or a name defined twice, and changes nothing
                assert after == self.document, self.story("code mode failed halfway")
        elif step.kind in ("bad-cell-id", "bad-deleted"):
            before = self.document
            if step.kind == "bad-cell-id":
                number: Any = 7
                result = execute(kc, step.code, cell_id=number, timeout=STEP_TIMEOUT)
            else:  # a list with a non-string: not even lab-2 may be deleted
                result = execute(kc, step.code, step.cell_id, ["lab-2", 2], STEP_TIMEOUT)
            self.answered(result, repr(step))
            assert result.content.get("ename") == "InvalidRequest", self.story("not refused")
            assert self.observe() == before, self.story("a refused request changed the document")
        else:
            raise AssertionError(step.kind)

    def observe(self) -> list[tuple[str, str]]:
        """The document, after checking it against the runtime (invariant 2)."""
        result = execute(self.kc, PROBE, timeout=STEP_TIMEOUT)
        assert result.status == "ok", self.story(f"the probe failed: {result.content}")
        text = "".join(m["content"]["text"] for m in result.of_type("stream"))
        line = next(x for x in text.splitlines() if x.startswith(MARK))
        state: dict[str, Any] = json.loads(line.removeprefix(MARK))
        document = {cell_id: code for cell_id, code in state["document"]}
        graph: dict[str, str] = state["graph"]
        pending: dict[str, str] = state["pending"]
        assert not graph.keys() & pending.keys(), self.story(f"both run and pending: {state}")
        for cell_id, code in {**graph, **pending}.items():
            assert document.get(cell_id) == code, self.story(
                f"the runtime holds {cell_id}={code!r}, the document "
                f"{document.get(cell_id)!r}: {state}"
            )
        for cell_id, code in document.items():
            if cell_id not in graph and cell_id not in pending:
                assert not compiles(code), self.story(
                    f"the document's {cell_id}={code!r} is unknown to the runtime: {state}"
                )
        return [(cell_id, code) for cell_id, code in state["document"]]

    def check(self) -> None:
        self.document = self.observe()
        codes = [code for _id, code in self.document]
        for cell_id, code in self.live.items():  # invariant 4
            assert code in codes, self.story(f"{cell_id}'s cell ({code!r}) was lost: {codes}")
        try:  # invariant 3
            wait_until(lambda: twin_codes(self.twin) == codes, timeout=STEP_TIMEOUT)
        except AssertionError:
            raise AssertionError(
                self.story(f"the twin holds {twin_codes(self.twin)}, the document {codes}")
            ) from None


@pytest.mark.timeout(900)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="BRIDGE_PROPERTY_EXAMPLES" not in os.environ,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    twin_cells=st.lists(st.sampled_from(TWIN_CODES), max_size=3),
    sequence=st.lists(steps, min_size=5, max_size=12),
)
def test_random_request_sequences_keep_document_runtime_and_twin_in_step(
    twin_cells: list[str], sequence: list[Step]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        twin = Path(folder) / "nb.py"
        if twin_cells:
            states = [CellState(id=str(i), code=code) for i, code in enumerate(twin_cells)]
            twin.write_text(pyfile.render(states, None), encoding="utf-8")
        km, kc = start_new_kernel(
            kernel_name="marimo",
            cwd=folder,
            env={**os.environ, "MARIMO_BRIDGE_NOTEBOOK": str(Path(folder) / "nb.ipynb")},
        )
        try:
            session = Session(kc, twin)
            session.log.append(f"twin at start: {twin_cells}")
            session.check()
            for step in sequence:
                session.send(step)
                session.check()
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
