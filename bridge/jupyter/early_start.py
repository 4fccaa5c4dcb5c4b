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

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.ipython.asks import Ask
from bridge.jupyter.admission import Admitted, admitted
from bridge.jupyter.request_messages import RequestContext
from bridge.runs.request import RequestRun
from bridge.runtime.client import RuntimeClient


@dataclass
class Planned:
    """A request recorded and sent to the runtime, not yet shown."""

    request: RequestRun
    context: RequestContext
    replay: str | None  # a cell whose earlier run this request shows (Run All)
    # What the cell asks of the frontend (``obj?``, ``%quickref``): its
    # reply's payloads (bridge/ipython/asks.py).
    asks: tuple[Ask, ...] = ()

    @property
    def msg_id(self) -> str:
        return str(self.context.parent["header"]["msg_id"])


@dataclass
class Failed:
    """A request whose early start raised: do_execute raises it again."""

    msg_id: str
    error: Exception


class Host(Protocol):
    """What early start needs of the runtime host (runtime_host.py)."""

    def take_ready(self) -> RuntimeClient | None: ...
    def hold(self) -> None: ...
    def release(self) -> None: ...


Plan = Callable[[RuntimeClient, dict[str, Any], Admitted, int], Planned]


class EarlyStart:
    def __init__(self, plan: Plan, host: Host, session: Any, log: logging.Logger) -> None:
        self._plan = plan
        self._host = host
        self._session = session
        self._log = log
        self._started: Planned | Failed | None = None
        self._last_parent: str | None = None

    def taken_up(self, parent: dict[str, Any], aborting: bool, execution_count: int) -> None:
        """ipykernel's set_parent for an execute_request: plan it now if it can be."""
        msg_id = parent["header"].get("msg_id")
        # set_parent also restores the running request's parent (after a
        # completion answered during its run): that one has started already.
        if msg_id == self._last_parent:
            return
        self._last_parent = msg_id
        self._abandon()
        if aborting:
            return  # dispatch_shell aborts it (stop_on_error)
        request = admitted(self._session, parent)
        if request is None:
            return
        runtime = self._host.take_ready()
        if runtime is None:
            return
        # The count ipykernel is about to give it (kernel.execute_request:
        # only requests that store history count).
        counted = not request.silent and request.store_history
        count = execution_count + (1 if counted else 0)
        self._host.hold()
        try:
            self._started = self._plan(runtime, parent, request, count)
        except Exception as exc:
            # Raised from do_execute instead, where the request gets its error
            # reply (an exception here would end it unanswered).
            self._started = Failed(str(msg_id), exc)

    def take(self, msg_id: str) -> Planned | None:
        """The plan of this request if it was started early, else None."""
        started = self._started
        if started is None or started.msg_id != msg_id:
            self._abandon()
            return None
        self._started = None
        if isinstance(started, Failed):
            self._host.release()
            raise started.error
        return started

    def _abandon(self) -> None:
        """A started request that never reached do_execute: let go of what it holds.

        Not expected (every check ipykernel makes is made before starting);
        its run's outputs are then shown as a run of no request's.
        """
        if self._started is not None:
            self._log.warning("an early-started request never reached do_execute")
            self._started = None
        self._host.release()
