"""Widget models between the runtime and Jupyter frontends, as comms.

The kernel owns one ``WidgetRelay``. It is told every model the runtime
opens, updates, messages or closes (``on_model``), and sends each to the
frontends as ``comm_open``/``comm_msg``/``comm_close`` on IOPub. It serves
the frontends' comm messages on the shell channel (``handlers``): a model's
update or custom message goes to the runtime as marimo's ``ModelCommand``,
whose run (the cells that read a ``mo.ui.anywidget``, ipywidgets'
``observe`` callbacks) is published like any other, under that comm_msg.

A frontend that (re)connects asks for the models it does not know, all at
once on ``jupyter.widget.control`` or one by one with ``request_state``
after ``comm_info``; the relay keeps each model's whole state to answer.

Widgets made in the kernel's own process (marimo's UI elements, see
elements.py) are ipywidgets objects whose comms live here too. Interactions
go to the runtime one at a time (interactions.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import comm
import msgspec
from comm.base_comm import BaseComm, CommManager

from bridge.runtime.messages import ModelClose, ModelCustom, ModelLifecycle, ModelOpen
from bridge.widgets.interactions import Interactions, Run, settled
from bridge.widgets.protocol import (
    CONTROL_TARGET,
    KERNEL_ONLY,
    PROTOCOL_VERSION,
    WIDGET_TARGET,
    CommCustom,
    CommRequestState,
    CommRequestStates,
    CommUpdate,
    ModelState,
    esm_source,
    model_command,
    read_frontend_message,
)

_VERSION = {"version": PROTOCOL_VERSION}

# A frontend's message larger than this (state and buffers) is refused: a
# widget's value is small, and the runtime would hold every copy.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024

# (msg_type, content, parent, buffers, metadata) on IOPub; an empty parent
# means the latest request's.
Send = Callable[[str, dict[str, Any], dict[str, Any], list[bytes], dict[str, Any]], None]


class _KernelComm(BaseComm):
    """A comm of a widget made in the kernel's own process (elements.py)."""

    def __init__(self, relay: WidgetRelay, *args: Any, **kwargs: Any) -> None:
        self._relay = relay
        self.owner: Any = None  # the widget, once it listens (on_msg)
        super().__init__(*args, **kwargs)

    def on_msg(self, callback: Any) -> None:
        super().on_msg(callback)
        # ipywidgets listens with its widget's bound _handle_msg.
        self.owner = getattr(callback, "__self__", None)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: list[Any] | None = None,
        **keys: Any,
    ) -> None:
        content = {"comm_id": self.comm_id, "data": data or {}}
        if msg_type == "comm_open":
            content["target_name"] = keys.get("target_name") or self.target_name
        blobs = [bytes(b) for b in buffers or []]
        self._relay.send_local(msg_type, content, blobs, metadata or {})


@dataclass
class _Taken:
    """A comm_msg handled: the interactions it started, what it sends back."""

    started: list[asyncio.Future[None]]
    held: list[tuple[str, dict[str, Any], list[bytes], dict[str, Any]]]


class WidgetRelay:
    def __init__(self, send: Send, run: Run, log: logging.Logger) -> None:
        self._send = send
        self._log = log
        self._models: dict[str, ModelState] = {}
        self._controls: set[str] = set()
        self.interactions = Interactions(run, log)
        # Widgets made in this process: ipywidgets finds their comms through
        # the comm package, whose two functions a kernel is meant to replace.
        self._local = CommManager()
        comm.create_comm = lambda *args, **kwargs: _KernelComm(self, *args, **kwargs)
        comm.get_comm_manager = lambda: self._local
        # The frontend's message a local widget is handling, and what that
        # has started and sent so far (see _handle_local).
        self._handling: tuple[dict[str, Any], _Taken] | None = None
        self._early: dict[str, _Taken] = {}

    @property
    def handlers(self) -> dict[str, Callable[[Any, Any, dict[str, Any]], Awaitable[None]]]:
        """The shell handlers of the comm messages a frontend sends."""
        return {
            "comm_open": self.comm_open,
            "comm_msg": self.comm_msg,
            "comm_close": self.comm_close,
        }

    def comm_info(self, target_name: str | None) -> dict[str, dict[str, str]]:
        if target_name not in (None, WIDGET_TARGET):
            return {}
        ids = [*self._models, *self._local.comms]
        return {comm_id: {"target_name": WIDGET_TARGET} for comm_id in ids}

    # -- from the runtime ----------------------------------------------------
    def on_model(self, note: ModelLifecycle, parent: dict[str, Any]) -> None:
        model_id, message = note.model_id, note.message
        if isinstance(message, ModelClose):
            if self._models.pop(model_id, None) is not None:
                self._send("comm_close", {"comm_id": model_id, "data": {}}, parent, [], {})
            return
        if isinstance(message, ModelCustom):
            data = {"method": "custom", "content": message.content}
            self._send("comm_msg", {"comm_id": model_id, "data": data}, parent, message.buffers, {})
            return
        state = dict(message.state)
        if message.esm_spec is not None:
            esm = esm_source(message.esm_spec)
            if esm is None:
                self._log.warning(
                    "widget %s: its ESM is at %s, which no Jupyter frontend can load",
                    model_id,
                    message.esm_spec.url,
                )
            else:
                state["_esm"] = esm
        if isinstance(message, ModelOpen):
            self._models[model_id] = ModelState({})
            self._models[model_id].merge(state, message.buffer_paths, message.buffers)
            content = {
                "comm_id": model_id,
                "target_name": WIDGET_TARGET,
                "data": {"state": state, "buffer_paths": message.buffer_paths},
            }
            self._send("comm_open", content, parent, message.buffers, _VERSION)
            return
        known = self._models.get(model_id)
        if known is None:
            return  # closed meanwhile
        known.merge(state, message.buffer_paths, message.buffers)
        data = {"method": "update", "state": state, "buffer_paths": message.buffer_paths}
        self._send("comm_msg", {"comm_id": model_id, "data": data}, parent, message.buffers, {})

    def runtime_lost(self, parent: dict[str, Any]) -> None:
        """The runtime is gone, and every model with it: close their comms."""
        for model_id in list(self._models):
            self._send("comm_close", {"comm_id": model_id, "data": {}}, parent, [], {})
        self._models.clear()
        # Messages read early stay for their handlers, whose waits are over.
        self.interactions.lost()

    # -- from a frontend -----------------------------------------------------
    async def comm_open(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        content = parent.get("content")
        comm_id = content.get("comm_id") if isinstance(content, dict) else None
        target = content.get("target_name") if isinstance(content, dict) else None
        if not isinstance(comm_id, str):
            self._log.warning("comm_open without a comm_id: ignored")
            return
        if target == CONTROL_TARGET:
            self._controls.add(comm_id)
            return
        # Models are made by the kernel's code only; as ipykernel does with a
        # target it does not know, the comm is closed at once.
        self._log.warning("comm_open for target %r: no such comm target here", target)
        self._send("comm_close", {"comm_id": comm_id, "data": {}}, parent, [], {})

    async def comm_close(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        content = parent.get("content")
        comm_id = content.get("comm_id") if isinstance(content, dict) else None
        if isinstance(comm_id, str):
            self._controls.discard(comm_id)
        # A frontend closing a model's comm closes only its view of it: the
        # model lives in the runtime until its cell re-runs.

    def early(self, parent: dict[str, Any]) -> None:
        """A comm_msg, before ipykernel publishes busy for it: an update or a
        custom message goes to the runtime now (as execute requests do, see
        early_start.py); what it sends back waits for ``comm_msg``."""
        taken = self._take(parent, early=True)
        if taken is not None:
            self._early[str(parent["header"]["msg_id"])] = taken

    async def comm_msg(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        taken = self._early.pop(str(parent["header"].get("msg_id")), None)
        if taken is None:
            taken = self._take(parent, early=False)
        if taken is None:
            return
        for msg_type, content, buffers, metadata in taken.held:
            self._send(msg_type, content, parent, buffers, metadata)
        for done in taken.started:
            await settled(done)

    def _take(self, parent: dict[str, Any], early: bool) -> _Taken | None:
        """Handle a frontend's comm_msg as far as it can be without waiting.

        None, when ``early``: a message answered with a message of its own
        (``request_state``), which must come after busy: for the handler.
        """
        nothing = _Taken([], [])
        content = parent.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("comm_id"), str):
            self._log.warning("comm_msg without a comm_id: ignored")
            return nothing
        comm_id: str = content["comm_id"]
        buffers = [bytes(b) for b in parent.get("buffers") or []]
        try:
            message = read_frontend_message(content.get("data"))
        except msgspec.ValidationError as exc:
            self._log.warning("comm_msg for %s ignored: %s", comm_id, exc)
            return nothing
        if isinstance(message, (CommRequestState, CommRequestStates)):
            return None if early else self._answer(comm_id, message, parent)
        if comm_id in self._controls:
            self._log.warning("comm_msg on the widget control comm ignored: %r", message)
            return nothing
        size = sum(len(b) for b in buffers) + len(msgspec.json.encode(message))
        if size > MAX_MESSAGE_BYTES:
            self._log.warning(
                "comm_msg for widget %s ignored: %d bytes, over the %d allowed",
                comm_id,
                size,
                MAX_MESSAGE_BYTES,
            )
            return nothing
        local = self._local.comms.get(comm_id)
        if local is not None:
            return self._handle_local(local, parent)
        model = self._models.get(comm_id)
        if model is None:
            # Expected after a re-run closed it while the frontend still sent.
            self._log.warning("comm_msg for unknown widget %s ignored", comm_id)
            return nothing
        if isinstance(message, CommUpdate):
            model.merge(
                {k: v for k, v in message.state.items() if k not in KERNEL_ONLY},
                message.buffer_paths,
                buffers,
            )
        return _Taken([self._model_interaction(comm_id, message, buffers, parent)], [])

    def _answer(
        self, comm_id: str, message: CommRequestState | CommRequestStates, parent: dict[str, Any]
    ) -> _Taken:
        """A frontend asks for state: one model's, or every model's."""
        if comm_id in self._controls and isinstance(message, CommRequestStates):
            self._send_all_states(comm_id, parent)
            return _Taken([], [])
        model = self._models.get(comm_id)
        local = self._local.comms.get(comm_id)
        if isinstance(message, CommRequestState) and local is not None:
            return self._handle_local(local, parent)  # ipywidgets answers it
        if isinstance(message, CommRequestState) and model is not None:
            state, paths, blobs = model.full()
            data = {"method": "update", "state": state, "buffer_paths": paths}
            self._send("comm_msg", {"comm_id": comm_id, "data": data}, parent, blobs, {})
        else:
            self._log.warning("comm_msg %r for %s ignored", message, comm_id)
        return _Taken([], [])

    # -- local widgets and interactions ----------------------------------------
    def send_local(
        self, msg_type: str, content: dict[str, Any], buffers: list[bytes], metadata: dict[str, Any]
    ) -> None:
        """A local widget's message: held while a frontend's message is
        handled (ipywidgets' echo_update), so the runtime gets its command
        first and busy goes out before it."""
        if self._handling is not None:
            self._handling[1].held.append((msg_type, content, buffers, metadata))
        else:
            self._send(msg_type, content, {}, buffers, metadata)

    def _handle_local(self, local: BaseComm, parent: dict[str, Any]) -> _Taken:
        """ipywidgets handles the message itself: a value that does not fit
        its trait raises, and the widget keeps its last good value."""
        taken = _Taken([], [])
        self._handling = (parent, taken)
        try:
            local.handle_msg(parent)
            data = parent["content"].get("data")
            state = data.get("state") if isinstance(data, dict) else None
            if isinstance(state, dict):
                _set_back(getattr(local, "owner", None), state)
        except Exception as exc:
            self._log.warning("comm_msg for widget %s refused: %s", local.comm_id, exc)
        finally:
            self._handling = None
        return taken

    def interact_here(
        self,
        key: str,
        state: dict[str, Any] | None,
        command: Callable[[dict[str, Any] | None], Any],
    ) -> None:
        """An interaction started by the comm_msg being handled (a local
        widget's value changed): that request waits for its run."""
        parent, taken = self._handling or ({}, None)
        done = self.interactions.interact(key, state, command, parent)
        if taken is not None:
            taken.started.append(done)

    def _model_interaction(
        self,
        model_id: str,
        message: CommUpdate | CommCustom,
        buffers: list[bytes],
        parent: dict[str, Any],
    ) -> asyncio.Future[None]:
        if isinstance(message, CommUpdate) and not buffers and not message.buffer_paths:
            return self.interactions.interact(
                f"model:{model_id}",
                dict(message.state),
                lambda state: model_command(model_id, CommUpdate(state=state or {}), []),
                parent,
            )
        return self.interactions.interact(
            f"model:{model_id}", None, lambda _: model_command(model_id, message, buffers), parent
        )

    def _send_all_states(self, comm_id: str, parent: dict[str, Any]) -> None:
        states: dict[str, Any] = {}
        paths: list[list[str | int]] = []
        blobs: list[bytes] = []
        models = dict(self._models)
        for comm_id, local in self._local.comms.items():
            owner = getattr(local, "owner", None)
            if owner is not None:
                # The controls made here hold no binary values: no buffers.
                models[comm_id] = ModelState(dict(owner.get_state()))
        for model_id, model in models.items():
            state, model_paths, model_blobs = model.full()
            states[model_id] = {
                "model_name": state.get("_model_name"),
                "model_module": state.get("_model_module"),
                "model_module_version": state.get("_model_module_version"),
                "state": state,
            }
            paths.extend([model_id, *p] for p in model_paths)
            blobs.extend(model_blobs)
        data = {"method": "update_states", "states": states, "buffer_paths": paths}
        self._send("comm_msg", {"comm_id": comm_id, "data": data}, parent, blobs, {})


def _set_back(widget: Any, written: dict[str, Any]) -> None:
    """Where a widget refused what a frontend wrote (a string for a slider;
    ipywidgets logs it and keeps its value), show the frontend that value."""
    if widget is None:
        return
    keys = [k for k in written if isinstance(k, str) and widget.has_trait(k)]
    kept = widget.get_state(keys) if keys else {}
    refused = [k for k in keys if kept.get(k) != written[k]]
    if refused:
        widget.send_state(refused)
