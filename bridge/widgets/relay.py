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

Interactions are sent to the runtime one at a time. marimo merges UI
commands waiting in its queue into one run, with one ``completed-run``,
so two in its queue at once could not be told apart; and a slider dragged
at 60 events a second must not queue hundreds of runs. While one runs, the
next updates of the same model merge (the last value of each trait wins),
and the comm_msgs they came in are answered (idle) when the run carrying
their value has finished.
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
# Runs a command in the runtime as a run published under the given parent;
# returns once that run has completed (or was lost).
Run = Callable[[Any, dict[str, Any]], Awaitable[None]]


@dataclass
class _Interaction:
    """One command for the runtime, and the comm_msgs it answers.

    ``state`` is the part later interactions with the same ``key`` may
    merge into (the last value of each trait wins); None when it cannot
    merge (a custom message, binary values).
    """

    key: str
    state: dict[str, Any] | None
    command: Callable[[dict[str, Any] | None], Any]
    parent: dict[str, Any]
    done: asyncio.Future[None]


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
        self._relay._send(msg_type, content, self._relay.parent, blobs, metadata or {})


class WidgetRelay:
    def __init__(self, send: Send, run: Run, log: logging.Logger) -> None:
        self._send = send
        self._run = run
        self._log = log
        self._models: dict[str, ModelState] = {}
        self._controls: set[str] = set()
        self._waiting: list[_Interaction] = []
        self._pump: asyncio.Task[None] | None = None
        # Widgets made in this process: ipywidgets finds their comms through
        # the comm package, whose two functions a kernel is meant to replace.
        self._local = CommManager()
        comm.create_comm = lambda *args, **kwargs: _KernelComm(self, *args, **kwargs)
        comm.get_comm_manager = lambda: self._local
        # The request being handled: local widgets' messages go out under it,
        # and the interactions they start are what it waits for.
        self.parent: dict[str, Any] = {}
        self._started: list[asyncio.Future[None]] | None = None

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

    def __len__(self) -> int:
        return len(self._models)

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
        for waiting in self._waiting:
            waiting.done.cancel()
        self._waiting.clear()

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

    async def comm_msg(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        content = parent.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("comm_id"), str):
            self._log.warning("comm_msg without a comm_id: ignored")
            return
        comm_id: str = content["comm_id"]
        buffers = [bytes(b) for b in parent.get("buffers") or []]
        try:
            message = read_frontend_message(content.get("data"))
        except msgspec.ValidationError as exc:
            self._log.warning("comm_msg for %s ignored: %s", comm_id, exc)
            return
        if comm_id in self._controls:
            if isinstance(message, CommRequestStates):
                self._send_all_states(comm_id, parent)
            else:
                self._log.warning("comm_msg on the widget control comm ignored: %r", message)
            return
        local = self._local.comms.get(comm_id)
        if local is not None:
            await self._handle_local(local, parent)
            return
        model = self._models.get(comm_id)
        if model is None:
            # Expected after a re-run closed it while the frontend still sent.
            self._log.warning("comm_msg for unknown widget %s ignored", comm_id)
            return
        if isinstance(message, CommRequestState):
            state, paths, blobs = model.full()
            data = {"method": "update", "state": state, "buffer_paths": paths}
            self._send("comm_msg", {"comm_id": comm_id, "data": data}, parent, blobs, {})
            return
        if isinstance(message, CommRequestStates):
            self._log.warning("request_states on widget %s ignored", comm_id)
            return
        size = sum(len(b) for b in buffers) + len(msgspec.json.encode(message))
        if size > MAX_MESSAGE_BYTES:
            self._log.warning(
                "comm_msg for widget %s ignored: %d bytes, over the %d allowed",
                comm_id,
                size,
                MAX_MESSAGE_BYTES,
            )
            return
        if isinstance(message, CommUpdate):
            model.merge(
                {k: v for k, v in message.state.items() if k not in KERNEL_ONLY},
                message.buffer_paths,
                buffers,
            )
        await self._settled(self._model_interaction(comm_id, message, buffers, parent))

    # -- interactions, one at a time -------------------------------------------
    async def _handle_local(self, local: BaseComm, parent: dict[str, Any]) -> None:
        """ipywidgets handles the message itself: a value that does not fit
        its trait raises, and the widget keeps its last good value."""
        self.parent, self._started = parent, []
        try:
            local.handle_msg(parent)
            data = parent["content"].get("data")
            state = data.get("state") if isinstance(data, dict) else None
            if isinstance(state, dict):
                _set_back(getattr(local, "owner", None), state)
        except Exception as exc:
            self._log.warning("comm_msg for widget %s refused: %s", local.comm_id, exc)
        finally:
            started, self._started = self._started, None
            self.parent = {}
        for done in started:
            await self._settled(done)

    def interact_here(
        self,
        key: str,
        state: dict[str, Any] | None,
        command: Callable[[dict[str, Any] | None], Any],
    ) -> None:
        """An interaction started by the comm_msg being handled (a local
        widget's value changed): that request waits for its run."""
        done = self.interact(key, state, command, self.parent)
        if self._started is not None:
            self._started.append(done)

    def _model_interaction(
        self,
        model_id: str,
        message: CommUpdate | CommCustom,
        buffers: list[bytes],
        parent: dict[str, Any],
    ) -> asyncio.Future[None]:
        if isinstance(message, CommUpdate) and not buffers and not message.buffer_paths:
            return self.interact(
                f"model:{model_id}",
                dict(message.state),
                lambda state: model_command(model_id, CommUpdate(state=state or {}), []),
                parent,
            )
        return self.interact(
            f"model:{model_id}", None, lambda _: model_command(model_id, message, buffers), parent
        )

    def interact(
        self,
        key: str,
        state: dict[str, Any] | None,
        command: Callable[[dict[str, Any] | None], Any],
        parent: dict[str, Any],
    ) -> asyncio.Future[None]:
        """Queue a command for the runtime; its future is done once its run is.

        An interaction waiting behind the running one takes in the next
        with the same ``key`` (a slider dragged on), so a burst of events
        costs one run per run's time, not one run per event.
        """
        last = self._waiting[-1] if len(self._waiting) > 1 else None
        if last is not None and last.key == key and last.state is not None and state is not None:
            last.state.update(state)
            last.parent = parent  # display updates go to the newest request
            return last.done
        done = asyncio.get_running_loop().create_future()
        self._waiting.append(_Interaction(key, state, command, parent, done))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._drain())
        return done

    async def _settled(self, done: asyncio.Future[None]) -> None:
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            pass  # the runtime went away; its loss is told elsewhere

    async def _drain(self) -> None:
        while self._waiting:
            interaction = self._waiting[0]
            try:
                await self._run(interaction.command(interaction.state), interaction.parent)
            except Exception:
                self._log.warning(
                    "%s: the interaction could not run", interaction.key, exc_info=True
                )
            finally:
                if self._waiting and self._waiting[0] is interaction:
                    self._waiting.pop(0)
                if not interaction.done.done():
                    interaction.done.set_result(None)

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
