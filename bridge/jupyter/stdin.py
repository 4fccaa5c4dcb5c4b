"""``input()`` and ``getpass()`` in a cell: Jupyter's stdin channel.

A cell asking for input reaches the bridge as a console item on marimo's
``stdin`` channel. When the request allowed stdin, an ``input_request`` goes
to the frontend on the stdin socket, and its ``input_reply`` is the cell's
answer; otherwise the cell gets EOF at once. ipykernel waits for the reply
inside the cell's thread; here the event loop must stay free (outputs,
interrupts, other cells' completions), so the wait runs on a worker thread,
the only one that touches the stdin socket.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import zmq

log = logging.getLogger(__name__)

POLL_MS = 50


class InputBroker:
    def __init__(self, session: Any, socket: Any) -> None:
        self._session = session
        self._socket = socket
        self._cancel: threading.Event | None = None
        # (parent, ident) of the request whose cells may ask; None: they get EOF.
        self.asker: tuple[dict[str, Any], Any] | None = None

    @property
    def waiting(self) -> bool:
        return self._cancel is not None

    async def ask(
        self, prompt: str, password: bool, parent: dict[str, Any], ident: Any
    ) -> str | None:
        """The frontend's answer; None if cancelled (interrupt, request over)."""
        cancel = threading.Event()
        self._cancel = cancel
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, self._request, prompt, password, parent, ident, cancel
            )
        finally:
            if self._cancel is cancel:
                self._cancel = None

    def allow(self, parent: dict[str, Any], ident: Any) -> None:
        """The running request allowed stdin: its cells' prompts go to its frontend."""
        self.asker = (parent, ident)

    def end(self) -> None:
        """The request is over: no more prompts for it, a pending one cancelled."""
        self.asker = None
        self.cancel()

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _request(
        self,
        prompt: str,
        password: bool,
        parent: dict[str, Any],
        ident: Any,
        cancel: threading.Event,
    ) -> str | None:
        # Stale replies (to a cancelled request) must not answer this one.
        while True:
            try:
                self._socket.recv_multipart(zmq.NOBLOCK)
            except zmq.ZMQError:
                break
        content = {"prompt": prompt, "password": password}
        self._session.send(self._socket, "input_request", content, parent, ident=ident)
        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        while not cancel.is_set():
            if not poller.poll(POLL_MS):
                continue
            try:
                _ident, reply = self._session.recv(self._socket, mode=zmq.NOBLOCK)
            except Exception:
                log.warning("invalid input_reply ignored", exc_info=True)
                continue
            if reply is None:
                continue
            value = reply.get("content", {}).get("value", "")
            return value if isinstance(value, str) else str(value)
        return None
