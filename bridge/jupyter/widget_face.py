"""The widget relay's Jupyter side: its messages on IOPub, the comm requests
on the shell channel, and comm_msgs read before ipykernel publishes busy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.jupyter.iopub import IOPubSender
from bridge.jupyter.run_all import unpacked
from bridge.widgets.interactions import Run
from bridge.widgets.relay import WidgetRelay


class WidgetFace:
    def __init__(
        self,
        session: Any,
        iopub: IOPubSender,
        latest_parent: Callable[[], dict[str, Any]],
        run: Run,
        log: logging.Logger,
    ) -> None:
        self._session = session
        self._iopub = iopub
        self._latest_parent = latest_parent
        self.relay = WidgetRelay(self.send, run, log)

    @property
    def handlers(self) -> dict[str, Any]:
        """The shell handlers of comm messages, for the kernel's table."""
        return {**self.relay.handlers, "comm_info_request": self.comm_info_request}

    def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        parent: dict[str, Any],
        buffers: list[bytes],
        metadata: dict[str, Any],
    ) -> None:
        """One comm message on IOPub; with no parent, under the latest request."""
        frames: list[bytes | memoryview[bytes]] = list(buffers)
        self._iopub.send(
            msg_type, content, parent or self._latest_parent(), frames or None, metadata or None
        )

    def peek(self, found: dict[str, Any]) -> None:
        """A comm_msg peeked at before ipykernel handles it (run_all.peek):
        its interaction goes to the runtime now (relay.early)."""
        parent = unpacked(self._session, found)
        if parent is not None:  # else ipykernel says what is wrong with it
            self.relay.early(parent)

    async def comm_info_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        content = parent.get("content")
        if not isinstance(content, dict):
            raise TypeError("the content is not an object")  # an InvalidRequest reply
        target = content.get("target_name")
        if target is not None and not isinstance(target, str):
            raise TypeError("target_name is not a string")
        comms = self.relay.comm_info(target)
        reply = {"status": "ok", "comms": comms}
        self._session.send(stream, "comm_info_reply", reply, parent, ident)
