"""EarlyStart's hand-offs, with a stand-in for the runtime host.

The end-to-end behaviour (IOPub order with early start) is in
tests/test_message_flow.py; these are the paths a real kernel rarely takes.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bridge.jupyter.early_start import EarlyStart
from bridge.jupyter.session import KernelSession


class Host:
    """The runtime host as early start sees it: always up, holding notes."""

    def __init__(self) -> None:
        self.held: list[Any] | None = None
        self.dispatched: list[Any] = []

    def take_ready(self) -> Any:
        return object()

    def hold(self) -> None:
        self.held = []

    def release(self) -> None:
        held, self.held = self.held, None
        self.dispatched.extend(held or [])


def early(plan: Any) -> tuple[EarlyStart, Host]:
    host = Host()
    session = KernelSession(key=b"0123456789abcdef")
    return EarlyStart(plan, host, session, logging.getLogger("test")), host


def request(msg_id: str, code: str = "x = 1") -> dict[str, Any]:
    return {
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": "s"},
        "content": {"code": code, "silent": False, "store_history": True},
        "metadata": {"cellId": "lab-1"},
    }


def test_a_plan_that_raises_is_raised_again_by_do_execute() -> None:
    def plan(*args: Any) -> Any:
        raise ValueError("the twin could not be read")

    start, host = early(plan)
    start.taken_up(request("m1"), aborting=False, execution_count=0)
    assert host.held is not None
    host.held.append("a note")
    with pytest.raises(ValueError, match="twin"):
        start.take("m1")
    assert host.held is None and host.dispatched == ["a note"]


def test_nothing_starts_while_aborting_or_for_a_refused_request() -> None:
    planned: list[Any] = []
    start, host = early(lambda *args: planned.append(args))
    start.taken_up(request("m1"), aborting=True, execution_count=0)
    start.taken_up(request("m2", code="x = 1\x00"), aborting=False, execution_count=0)
    assert planned == [] and host.held is None


def test_restoring_the_running_parent_does_not_start_it_again() -> None:
    planned: list[Any] = []

    def plan(*args: Any) -> str:
        planned.append(args)
        return "plan"

    start, _ = early(plan)
    start.taken_up(request("m1"), aborting=False, execution_count=0)
    start.taken_up(request("m1"), aborting=False, execution_count=0)
    assert len(planned) == 1
    assert planned[0][-1] == 1  # the execution count ipykernel is about to give
