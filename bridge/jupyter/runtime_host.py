"""The runtime, seen from the Jupyter face: its start, its commands, its death.

The runtime starts in the background (the document it opens is the twin's),
so that kernel_info_reply does not wait for marimo's import; the first
request awaits it. Its notifications reach the loop and go to the handler
given at construction (notifications.py), or are held while a request
started early has no place for them yet (early_start.py). A runtime's death
becomes a truthful loss for the requests in flight, a notice for the next
one when none was, and a fresh runtime for the next request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from tornado import ioloop

from bridge.jupyter.records import Records
from bridge.runs.correlator import Run, Sink
from bridge.runtime.client import RuntimeClient
from bridge.runtime.launch_config import on_cell_change
from bridge.runtime.messages import Notification, Other

Notes = list[Notification | Other]


class RuntimeHost:
    def __init__(
        self,
        records: Records,
        loop: ioloop.IOLoop,
        dispatch: Callable[[Notes], None],
        started: Callable[[RuntimeClient], None],
        lost: Callable[[], None],
    ) -> None:
        """``dispatch`` gets the runtime's notifications on the loop;
        ``started`` a runtime just up; ``lost`` is called after a death, for
        the parts that keep state of the runtime (outputs, widgets)."""
        self._records = records
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._dispatch = dispatch
        self._started = started
        self._lost = lost
        self._ready: concurrent.futures.Future[RuntimeClient] | None = None
        # The runtime the latest request used (None after a death).
        self.current: RuntimeClient | None = None
        # marimo's on_cell_change ("autorun" or "lazy"), once its config is read.
        self.mode: str | None = None
        # Why the last runtime went away, told in the next request's output
        # when no request was running to hear it.
        self._loss_notice: str | None = None
        self._held: Notes | None = None

    # -- start -------------------------------------------------------------
    def start(self) -> None:
        future: concurrent.futures.Future[RuntimeClient] = concurrent.futures.Future()
        client = RuntimeClient(
            self._on_notifications,
            lambda code: self._loop.add_callback(self._died, client, code),
            loop=self._loop.asyncio_loop,  # type: ignore[attr-defined]
        )
        self._ready = future
        records = self._records
        # After a runtime death the document lives on: the new runtime gets
        # its cells, unrun, so the next run brings back what it needs.
        known = records.twin.document

        def start() -> None:
            try:
                client.spawn()  # first: the child imports marimo meanwhile
                if known is None:
                    records.load_twin()
                assert records.twin.document is not None
                client.start([(c.id, c.code) for c in records.twin.document.states()])
            except BaseException as exc:  # reported to the request that waits
                try:
                    client.stop(timeout=0.5)  # no half-started child left behind
                except BaseException:
                    # What failed the start may fail the stop too (a marimo
                    # that cannot import): the request must hear of it still.
                    pass
                finally:
                    future.set_exception(exc)
            else:
                self.mode = on_cell_change(client.config)
                future.set_result(client)
                self._loop.add_callback(self._started, client)

        threading.Thread(target=start, name="marimo-runtime-start", daemon=True).start()
        # The CreateNotebookCommand that start() sends completes like any run.
        records.correlator.expect(Run(None))

    async def ensure(self) -> RuntimeClient:
        """The runtime, started if there is none; raises if it cannot start."""
        if self._ready is None:
            self.start()
        ready = self._ready
        assert ready is not None
        if ready.done():
            # Started already: wrap_future would still cost a trip through
            # call_soon_threadsafe and another loop iteration.
            client = ready.result()
        else:
            client = await asyncio.wrap_future(ready)
        if not client.alive:
            # Died since the last request and the reader has not said so yet.
            self._died(client, client.returncode)
            return await self.ensure()
        self.current = client
        return client

    def ready(self) -> RuntimeClient | None:
        """The runtime if it is up, without waiting or starting one."""
        ready = self._ready
        if ready is not None and ready.done() and ready.exception() is None:
            return ready.result()
        return None

    def take_ready(self) -> RuntimeClient | None:
        """The runtime if it is up and alive, now the current one."""
        runtime = self.ready()
        if runtime is None or not runtime.alive:
            return None
        self.current = runtime
        return runtime

    # -- commands ----------------------------------------------------------
    def send(
        self, runtime: RuntimeClient, request: Sink, command: Any, run_id: str | None = None
    ) -> None:
        """``command`` to the runtime, its run expected for ``request``."""
        run = request.new_run(run_id)
        self._records.correlator.expect(run)
        try:
            runtime.send(command)
        except Exception as exc:
            request.on_lost(run, f"could not reach the marimo runtime: {exc}")

    def cwd(self) -> str:
        """The runtime's working directory (``%cd`` moves it); the kernel's
        while no runtime runs."""
        import psutil

        runtime = self.current
        if runtime is not None and runtime.pid is not None:
            try:
                return str(psutil.Process(runtime.pid).cwd())
            except psutil.Error:
                pass
        return os.getcwd()

    def interrupt(self) -> None:
        if self.current is not None:
            self.current.interrupt()

    def stop_now(self) -> None:
        """SIGTERM: the runtime goes with the kernel."""
        runtime = self.current or self.ready()
        if runtime is not None:
            runtime.stop(timeout=1.0)

    async def shutdown(self) -> None:
        runtime = self.current or self.ready()
        if runtime is not None:
            await asyncio.get_running_loop().run_in_executor(None, runtime.stop)
        self.current = None

    # -- its stream ----------------------------------------------------------
    def hold(self) -> None:
        """Keep the runtime's notifications until ``release``: a request
        started early has no place for them yet (early_start.py)."""
        self._held = []

    def release(self) -> None:
        held, self._held = self._held, None
        if held:
            self._dispatch(held)

    def _on_notifications(self, notes: Notes) -> None:
        # Everything happens on the loop: the client reads the runtime's
        # stream there (or, as a fallback, on a reader thread).
        if threading.get_ident() != self._loop_thread:
            self._loop.add_callback(self._on_notifications, notes)
        elif self._held is not None:
            self._held.extend(notes)
        else:
            self._dispatch(notes)

    # -- death ---------------------------------------------------------------
    def tell_loss(self, reason: str) -> None:
        """A runtime lost while no request could hear it: told by the next."""
        self._loss_notice = reason

    def take_loss_notice(self) -> str | None:
        notice, self._loss_notice = self._loss_notice, None
        return notice

    def forget_failed_start(self, reason: str) -> None:
        """The runtime could not start: the runs waiting for it are lost."""
        self._ready = None
        self._records.correlator.lose_all(reason)

    def _died(self, client: RuntimeClient, returncode: int | None) -> None:
        if self.ready() is not client:
            return  # an older runtime, already replaced, or a failed start
        if returncode is not None and returncode < 0:
            try:
                how = f"was killed by {signal.Signals(-returncode).name}"
            except ValueError:
                how = f"was killed by signal {-returncode}"
        else:
            how = f"exited with code {returncode}"
        reason = (
            f"the marimo runtime {how}; every variable of this session was lost. "
            "The notebook's cells are kept: the next request starts a fresh "
            "runtime, which re-runs the cells that request needs."
        )
        client.stop(timeout=0.5)  # close its queues; reap the process
        self.current = None
        self._ready = None
        correlator = self._records.correlator
        if len(correlator) == 0:
            self._loss_notice = reason
        correlator.lose_all(reason)
        self._lost()
