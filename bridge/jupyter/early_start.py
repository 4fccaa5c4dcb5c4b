"""Start a request's run in the runtime before ipykernel's busy and execute_input.

ipykernel takes up an execute_request in this order: decode, ``set_parent``,
publish busy, publish execute_input, call ``do_execute``. The two messages
cost about a quarter of a millisecond, and the runtime would sit idle
through them. So the run starts at ``set_parent``: the commands go to the
runtime first and the messages go out while it works. Nothing is published
early: what the runtime sends back is held until ``do_execute`` has made
the request's place (its placeholders), then handled in order.

A request that ipykernel would not hand to ``do_execute`` as it is, or that
is answered without a run (admission.py), or any request while the runtime
is not up yet, is not started early; ``do_execute`` plans it as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.jupyter.admission import admitted
from bridge.jupyter.outputs import RequestContext
from bridge.jupyter.run_all import RunAllTracker
from bridge.runs.request import RequestRun
from bridge.runtime.client import RuntimeClient
from bridge.runtime.messages import Notification, Other


@dataclass
class Planned:
    """A request recorded and sent to the runtime, not yet shown."""

    request: RequestRun
    context: RequestContext
    replay: str | None  # a cell whose earlier run this request shows (Run All)
    # ``obj?`` lines of the cell: help shown as pager payloads in the reply.
    pinfo: tuple[tuple[str, int], ...] = ()

    @property
    def msg_id(self) -> str:
        return str(self.context.parent["header"]["msg_id"])


@dataclass
class Failed:
    """A request whose early start raised: do_execute raises it again."""

    msg_id: str
    error: Exception


class EarlyStartMixin:
    # Set up by MarimoKernel.__init__ (and ipykernel's Kernel).
    _run_all: RunAllTracker
    _started: Planned | Failed | None
    _held: list[Notification | Other] | None
    _last_parent: str | None
    _aborting: bool
    execution_count: int
    log: Any
    session: Any

    # MarimoKernel's and RuntimeHostMixin's (declared only: a body here
    # could shadow them).
    _plan: Any
    _ready_runtime: Any
    _dispatch: Any
    _runtime: RuntimeClient | None

    def set_parent(self, ident: Any, parent: Any, channel: str = "shell") -> None:
        super().set_parent(ident, parent, channel)  # type: ignore[misc]
        if channel == "shell" and isinstance(parent, dict):
            header = parent.get("header")
            if isinstance(header, dict) and header.get("msg_type") == "execute_request":
                # Taken up, even if ipykernel aborts it: no longer waiting.
                self._run_all.started(str(header.get("msg_id")))
            self._start_early(parent)

    def _start_early(self, parent: dict[str, Any]) -> None:
        header = parent.get("header")
        if not isinstance(header, dict) or header.get("msg_type") != "execute_request":
            return
        msg_id = header.get("msg_id")
        # set_parent also restores the running request's parent (after a
        # completion answered during its run): that one has started already.
        if msg_id == self._last_parent:
            return
        self._last_parent = msg_id
        self._abandon_started()
        if self._aborting:
            return  # dispatch_shell aborts it (stop_on_error)
        runtime = self._ready_runtime()
        if runtime is None or not runtime.alive:
            return
        request = admitted(self.session, parent)
        if request is None:
            return
        # The count ipykernel is about to give it (IntrospectionMixin: only
        # requests that store history count).
        counted = not request.silent and request.store_history
        count = self.execution_count + (1 if counted else 0)
        self._runtime = runtime
        self._held = []
        try:
            self._started = self._plan(runtime, parent, request, count)
        except Exception as exc:
            # Raised from do_execute instead, where the request gets its error
            # reply (an exception here would end it unanswered).
            self._started = Failed(str(msg_id), exc)

    def _take_started(self, msg_id: str) -> Planned | None:
        """The plan of this request if it was started early, else None."""
        started = self._started
        if started is None or started.msg_id != msg_id:
            self._abandon_started()
            return None
        self._started = None
        if isinstance(started, Failed):
            self._release_held()
            raise started.error
        return started

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held:
            self._dispatch(held)

    def _abandon_started(self) -> None:
        """A started request that never reached do_execute: let go of what it holds.

        Not expected (every check ipykernel makes is made before starting);
        its run's outputs are then shown as a run of no request's.
        """
        if self._started is not None:
            self.log.warning("an early-started request never reached do_execute")
            self._started = None
        self._release_held()
