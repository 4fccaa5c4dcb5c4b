"""Widget interactions sent to the runtime one at a time, bursts merged.

marimo merges the UI commands waiting in its queue into one run with one
``completed-run``, so two of them in flight at once could not be told apart
by the run correlator; and a slider dragged at 60 events a second must not
queue hundreds of runs. So one interaction runs at a time, and while it
does, the next changes of the same widget merge into the one waiting: the
last value of each trait wins, and every comm_msg that took part is answered
once the run carrying its value has finished.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# Sends a command to the runtime as a run published under the given parent,
# at once; what it returns is done once that run has completed (or was lost).
Run = Callable[[Any, dict[str, Any]], Awaitable[None]]
# The command for a (merged) state; the state is None for one that cannot merge.
Command = Callable[[dict[str, Any] | None], Any]


@dataclass
class _Interaction:
    """One command for the runtime, and the comm_msgs it answers.

    ``state`` is the part later interactions with the same ``key`` may merge
    into; None when it cannot merge (a custom message, binary values).
    """

    key: str
    state: dict[str, Any] | None
    command: Command
    parent: dict[str, Any]
    done: asyncio.Future[None]


class Interactions:
    def __init__(self, run: Run, log: logging.Logger) -> None:
        self._run = run
        self._log = log
        self._waiting: list[_Interaction] = []  # the first one is running
        self._running: asyncio.Future[None] | None = None

    def interact(
        self, key: str, state: dict[str, Any] | None, command: Command, parent: dict[str, Any]
    ) -> asyncio.Future[None]:
        """Queue a command; sent at once when none runs. Its future is done
        once its run is (cancelled when the runtime is lost)."""
        last = self._waiting[-1] if len(self._waiting) > 1 else None
        if last is not None and last.key == key and last.state is not None and state is not None:
            last.state.update(state)
            last.parent = parent  # display updates go to the newest request
            return last.done
        done = asyncio.get_running_loop().create_future()
        self._waiting.append(_Interaction(key, state, command, parent, done))
        if self._running is None:
            self._start_next()
        return done

    def lost(self) -> None:
        """The runtime is gone: nothing waiting will run."""
        for waiting in self._waiting:
            waiting.done.cancel()
        self._waiting.clear()
        self._running = None

    def _start_next(self) -> None:
        # Sent now, not a loop turn later: the runtime starts sooner.
        while self._waiting:
            interaction = self._waiting[0]
            try:
                running = asyncio.ensure_future(
                    self._run(interaction.command(interaction.state), interaction.parent)
                )
            except Exception:
                self._log.warning(
                    "%s: the interaction could not run", interaction.key, exc_info=True
                )
                self._finished(interaction)
                continue
            self._running = running
            running.add_done_callback(functools.partial(self._ran, interaction=interaction))
            return
        self._running = None

    def _ran(self, ran: asyncio.Future[None], *, interaction: _Interaction) -> None:
        if not ran.cancelled() and ran.exception() is not None:
            self._log.warning(
                "%s: the interaction failed", interaction.key, exc_info=ran.exception()
            )
        self._finished(interaction)
        self._start_next()

    def _finished(self, interaction: _Interaction) -> None:
        if self._waiting and self._waiting[0] is interaction:
            self._waiting.pop(0)
        if not interaction.done.done():
            interaction.done.set_result(None)


async def settled(done: asyncio.Future[None]) -> None:
    """Wait for an interaction's run; a lost runtime is told elsewhere."""
    try:
        await asyncio.shield(done)
    except asyncio.CancelledError:
        pass
