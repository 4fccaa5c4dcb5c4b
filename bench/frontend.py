"""A kernel's answers read as a frontend reads them: both sockets, as they arrive.

JupyterLab handles each message as it comes off the websocket, and nbclient
polls IOPub in a task of its own while it waits for the reply. A client that
first blocks on the shell reply and only then reads IOPub (jupyter_client's
blocking helpers used one after the other) would decode every output after
the reply has come, and time its own decoding instead of the kernel's work.
The benchmarks wait with ``wait`` for every row, ipykernel's too.
"""

from __future__ import annotations

import queue
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.blocking.client import BlockingKernelClient

# JupyterLab's request shape, as the tests send it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import send_execute

__all__ = ["Answer", "execute", "send_execute", "wait", "warm_completion"]


@dataclass
class Answer:
    reply: dict[str, Any] | None = None
    idle: bool = False
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return None if self.reply is None else self.reply["content"].get("status")


def wait(kc: BlockingKernelClient, msg_ids: list[str], timeout: float = 600) -> list[Answer]:
    """Until every request has its reply and its idle status."""
    answers = {msg_id: Answer() for msg_id in msg_ids}
    left = len(answers)
    poller = zmq.Poller()
    channels = {
        kc.shell_channel.socket: kc.shell_channel,
        kc.iopub_channel.socket: kc.iopub_channel,
    }
    for socket in channels:
        poller.register(socket, zmq.POLLIN)
    deadline = time.monotonic() + timeout
    while left:
        ready = poller.poll(max(1, int((deadline - time.monotonic()) * 1000)))
        if not ready and time.monotonic() >= deadline:
            raise TimeoutError(f"{left} of {len(answers)} requests unanswered after {timeout} s")
        for socket, _ in ready:
            channel = channels[socket]
            while True:
                try:
                    msg = channel.get_msg(timeout=0)
                except queue.Empty:
                    break
                answer = answers.get(msg["parent_header"].get("msg_id"))
                if answer is None:
                    continue
                before = answer.reply is not None and answer.idle
                if channel is kc.shell_channel:
                    answer.reply = msg
                elif msg["msg_type"] == "status":
                    answer.idle = answer.idle or msg["content"]["execution_state"] == "idle"
                elif msg["msg_type"] != "execute_input":
                    answer.outputs.append(msg)
                if not before and answer.reply is not None and answer.idle:
                    left -= 1
    return [answers[msg_id] for msg_id in msg_ids]


def execute(
    kc: BlockingKernelClient, code: str, cell_id: str | None = None, timeout: float = 600
) -> Answer:
    return wait(kc, [send_execute(kc, code, cell_id)], timeout)[0]


def warm_completion(kc: BlockingKernelClient, timeout: float = 120) -> None:
    """One completion, answered, before anything is timed.

    The bridge warms its runtime's completion (jedi) once the kernel has
    been idle a moment, about a second of the runtime's CPU; a benchmark
    that paused would time that too. A first completion warms it instead,
    and ipykernel's jedi likewise.
    """
    msg_id = kc.complete("zi", 2)
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return
