"""The widget relay's Jupyter side: its messages on IOPub, the comm requests
on the shell channel, and comm_msgs read before ipykernel publishes busy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipykernel.kernelbase import Kernel

from bridge.jupyter.run_all import unpacked
from bridge.widgets.interactions import Run
from bridge.widgets.relay import WidgetRelay


class WidgetFace:
    def __init__(
        self, kernel: Kernel, latest_parent: Callable[[], dict[str, Any]], run: Run
    ) -> None:
        self._kernel = kernel
        self._latest_parent = latest_parent
        self.relay = WidgetRelay(self.send, run, kernel.log)
        kernel.shell_handlers.update(self.relay.handlers)
        kernel.shell_handlers["comm_info_request"] = self.comm_info_request

    def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        parent: dict[str, Any],
        buffers: list[bytes],
        metadata: dict[str, Any],
    ) -> None:
        """One comm message on IOPub; with no parent, under the latest request."""
        kernel = self._kernel
        assert kernel.session is not None
        frames: list[bytes | memoryview[bytes]] = list(buffers)
        kernel.session.send(
            kernel.iopub_socket,
            msg_type,
            content,
            parent=parent or self._latest_parent(),
            ident=kernel._topic(msg_type),
            buffers=frames or None,
            metadata=metadata or None,
        )

    def peek(self, found: dict[str, Any]) -> None:
        """A comm_msg peeked at before ipykernel handles it (run_all.peek):
        its interaction goes to the runtime now (relay.early)."""
        parent = unpacked(self._kernel.session, found)
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
        session = self._kernel.session
        assert session is not None
        session.send(stream, "comm_info_reply", {"status": "ok", "comms": comms}, parent, ident)
