"""A Jupyter widget manager's side of the protocol, for tests and benches.

It reads comm_open, comm_msg and comm_close on IOPub as JupyterLab's widget
manager (``@jupyter-widgets/base-manager``) does, keeping each model's state,
and sends comm messages on the shell channel as it does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import helpers
from helpers import TIMEOUT, Notebook, Result
from jupyter_client.blocking.client import BlockingKernelClient


@dataclass
class Models:
    """The widget models the frontend knows, by comm id."""

    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    opened_with: dict[str, dict[str, Any]] = field(default_factory=dict)  # message metadata

    def feed(self, messages: list[dict[str, Any]]) -> None:
        for m in messages:
            c = m["content"]
            if m["msg_type"] == "comm_open" and c.get("target_name") == "jupyter.widget":
                self.state[c["comm_id"]] = dict(c["data"]["state"])
                self.opened_with[c["comm_id"]] = dict(m["metadata"])
            elif m["msg_type"] == "comm_msg" and c["comm_id"] in self.state:
                data = c["data"]
                if data.get("method") in ("update", "echo_update"):
                    self.state[c["comm_id"]].update(data["state"])
            elif m["msg_type"] == "comm_close":
                self.state.pop(c["comm_id"], None)
                self.closed.append(c["comm_id"])

    def named(self, model_name: str) -> list[str]:
        """The ids of the open models of one kind (``IntSliderModel``), oldest first."""
        return [i for i, s in self.state.items() if s.get("_model_name") == model_name]

    def one(self, model_name: str) -> str:
        found = self.named(model_name)
        assert len(found) == 1, f"{model_name}: {found}"
        return found[0]


def send_comm(
    kc: BlockingKernelClient,
    msg_type: str,
    content: dict[str, Any],
    buffers: list[bytes] | None = None,
    **header: Any,
) -> str:
    msg = kc.session.msg(msg_type, content)
    msg["header"].update(header)
    kc.session.send(kc.shell_channel.socket, msg, buffers=buffers)
    return str(msg["header"]["msg_id"])


def until_idle(kc: BlockingKernelClient, msg_id: str, timeout: float = TIMEOUT) -> Result:
    """The IOPub messages of a request that has no reply (comm_msg), to its idle."""
    outputs, idle = helpers.until_idle(kc, msg_id, time.monotonic() + timeout)
    return Result({"content": {"status": "ok"}}, outputs, idle)


def until_all_idle(
    kc: BlockingKernelClient, msg_ids: list[str], timeout: float = TIMEOUT
) -> list[dict[str, Any]]:
    """Every IOPub message until each of ``msg_ids`` has had its idle."""
    deadline = time.monotonic() + timeout
    waiting = set(msg_ids)
    seen: list[dict[str, Any]] = []
    while waiting:
        m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        seen.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            waiting.discard(m["parent_header"].get("msg_id"))
    return seen


def drain(kc: BlockingKernelClient, quiet: float = 1.0) -> list[dict[str, Any]]:
    """Every IOPub message until none has come for ``quiet`` seconds."""
    seen: list[dict[str, Any]] = []
    while True:
        try:
            seen.append(kc.get_iopub_msg(timeout=quiet))
        except Exception:
            return seen


def set_value(
    kc: BlockingKernelClient,
    models: Models,
    nb: Notebook,
    comm_id: str,
    state: dict[str, Any],
    cell: str = "",
) -> Result:
    """The user changes a widget: JupyterLab's update, then what it shows."""
    msg_id = send_comm(
        kc,
        "comm_msg",
        {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}},
    )
    result = until_idle(kc, msg_id)
    models.feed(result.outputs)
    nb.cells.setdefault(cell, [])  # outputs that no cell's display holds
    nb.apply(cell, result)
    return result


def click(kc: BlockingKernelClient, models: Models, nb: Notebook, comm_id: str) -> Result:
    """A click on an ipywidgets Button: its custom message."""
    msg_id = send_comm(
        kc,
        "comm_msg",
        {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}},
    )
    result = until_idle(kc, msg_id)
    models.feed(result.outputs)
    nb.cells.setdefault("", [])
    nb.apply("", result)
    return result
