"""EarlyStartMixin's hand-offs, with stand-ins for the kernel around it.

The end-to-end behaviour (IOPub order with early start) is in
tests/test_message_flow.py; these are the paths a real kernel rarely takes.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bridge.jupyter.early_start import EarlyStartMixin
from bridge.jupyter.run_all import RunAllTracker
from bridge.jupyter.session import KernelSession


class Runtime:
    alive = True


class Base:
    def set_parent(self, ident: Any, parent: Any, channel: str = "shell") -> None:
        self.parent = parent


class Kernel(EarlyStartMixin, Base):
    def __init__(self, plan: Any) -> None:
        self._started = None
        self._held = None
        self._last_parent = None
        self._run_all = RunAllTracker()
        self._aborting = False
        self.execution_count = 0
        self.log = logging.getLogger("test")
        self.session = KernelSession(key=b"0123456789abcdef")
        self._runtime = None
        self._plan = plan
        self.dispatched: list[Any] = []

    def _ready_runtime(self) -> Runtime:
        return Runtime()

    def _dispatch(self, notes: list[Any]) -> None:
        self.dispatched.extend(notes)


def request(msg_id: str, code: str = "x = 1") -> dict[str, Any]:
    return {
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": "s"},
        "content": {"code": code, "silent": False, "store_history": True},
        "metadata": {"cellId": "lab-1"},
    }


def test_a_plan_that_raises_is_raised_again_by_do_execute() -> None:
    def plan(*args: Any) -> Any:
        raise ValueError("the twin could not be read")

    kernel = Kernel(plan)
    kernel.set_parent([b"id"], request("m1"))
    kernel._held = kernel._held or []
    kernel._held.append("a note")
    with pytest.raises(ValueError, match="twin"):
        kernel._take_started("m1")
    assert kernel._held is None and kernel.dispatched == ["a note"]


def test_nothing_starts_while_aborting_or_for_a_refused_request() -> None:
    planned: list[Any] = []
    kernel = Kernel(lambda *args: planned.append(args))
    kernel._aborting = True
    kernel.set_parent([b"id"], request("m1"))
    kernel._aborting = False
    kernel.set_parent([b"id"], request("m2", code="x = 1\x00"))
    assert planned == [] and kernel._held is None


def test_restoring_the_running_parent_does_not_start_it_again() -> None:
    planned: list[Any] = []
    kernel = Kernel(lambda *args: planned.append(args) or "plan")
    kernel.set_parent([b"id"], request("m1"))
    kernel.set_parent([b"id"], {"header": {"msg_id": "c1", "msg_type": "complete_request"}})
    kernel.set_parent([b"id"], request("m1"))
    assert len(planned) == 1
    assert planned[0][-1] == 1  # the execution count ipykernel is about to give
