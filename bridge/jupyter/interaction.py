"""A widget interaction as a run of its own, published under its comm_msg.

The cells it re-runs update their displays in place, as the dependents of an
execute request do (outputs.py); the comm_msg's idle comes after the run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from bridge.jupyter.outputs import OutputRouter
from bridge.jupyter.request_messages import RequestContext
from bridge.jupyter.runtime_host import RuntimeHost
from bridge.runs.request import RequestRun


class InteractionRuns:
    def __init__(self, router: OutputRouter, host: RuntimeHost, log: logging.Logger) -> None:
        self._router = router
        self._host = host
        self._log = log

    def run(self, command: Any, parent: dict[str, Any], execution_count: int) -> Awaitable[None]:
        """Send ``command`` now when the runtime is up; done when its run is."""
        runtime = self._host.ready()
        if runtime is None or not runtime.alive:
            return self._later(command, parent, execution_count)
        request = RequestRun(
            parent["header"]["msg_id"], set(), self._router.publish, asyncio.get_running_loop()
        )
        context = RequestContext(
            parent=parent,
            silent=False,
            execution_count=execution_count,
            anchored=False,
            eager=True,
        )
        self._router.begin(request, context)
        self._host.send(runtime, request, command)
        return self._done(request)

    async def _later(self, command: Any, parent: dict[str, Any], execution_count: int) -> None:
        await self._host.ensure()
        await self.run(command, parent, execution_count)

    async def _done(self, request: RequestRun) -> None:
        try:
            await request.done
        finally:
            self._router.end(request)
        failures = request.failures()
        if failures:
            failed = ", ".join(sorted({self._router.label(cell) for cell, _ in failures}))
            self._log.info("widget interaction: %s failed", failed)
