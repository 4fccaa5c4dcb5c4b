"""The runtime side of the bridge: marimo's IPC kernel launch, plus its hooks.

Run as ``python -m bridge.runtime.child``; it is ``python -m
marimo._ipc.launch_kernel`` (same stdin handshake, same queues) after three
additions, installed before marimo's kernel starts:

* The private channel: marimo's queues connect to the bridge's ``ipc://``
  sockets in a folder only this user can enter (see channel.py), never to
  TCP ports.

* EOF for ``input()``. marimo's stdin has no way to say "no input here": a
  cell's ``input()`` waits for whatever string the host sends. Jupyter
  requests may forbid stdin (``allow_stdin: false``), and then the cell must
  get EOFError at once, as ipykernel's ``\\x04`` reply gives. The hook turns
  that reply into EOFError. It patches marimo's private
  ``marimo._messaging.streams.ThreadSafeStdin`` (nothing public reaches
  stdin); tests/test_input.py fails loudly if an upgrade moves it.

* An interrupt that cannot strand a lock (interrupt_guard.py). marimo
  installs its SIGINT handler itself, from the private
  ``marimo._runtime.handlers.construct_interrupt_handler``; the hook wraps
  what it builds. tests/unit/test_interrupt_guard.py fails loudly if an
  upgrade moves it.

* ``display()`` and ``clear_output()`` as ipykernel has them
  (bridge/ipython/display.py).

* Two of marimo's per-run costs made O(1) (speedups.py), for the marimo
  versions they were checked against.
"""

from __future__ import annotations

import os
import sys

# ``python -m`` puts the current folder first on sys.path: a notebook named
# like a module (markdown.py, json.py) would shadow that module for the
# kernel's own imports. marimo's kernel puts it back
# when it starts ("" first on sys.path, as ``marimo edit`` does), so cells
# import the folder's modules.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from typing import Any

from bridge.ipython import display
from bridge.runtime import speedups
from bridge.runtime.channel import PREFIX_ENV, use_prefix
from bridge.runtime.interrupt_guard import InterruptGuard

# ipykernel's convention for "end of input" in an input_reply.
EOF_REPLY = "\x04"


def install_eof_reply() -> None:
    from marimo._messaging.streams import ThreadSafeStdin

    original = ThreadSafeStdin._readline_with_prompt

    def readline_with_prompt(self: Any, prompt: str = "", password: bool = False) -> str:
        value = original(self, prompt, password)
        if value == EOF_REPLY:
            raise EOFError("EOF when reading a line")
        return value

    ThreadSafeStdin._readline_with_prompt = readline_with_prompt  # type: ignore[method-assign]


def install_interrupt_guard() -> None:
    from marimo._runtime import handlers

    original = handlers.construct_interrupt_handler

    def construct_interrupt_handler() -> Any:
        return InterruptGuard(original())

    handlers.construct_interrupt_handler = construct_interrupt_handler


def main() -> None:
    prefix = os.environ.pop(PREFIX_ENV, None)
    if prefix is None:
        sys.exit("bridge.runtime.child: started without the bridge's private channel")
    use_prefix(prefix)
    install_eof_reply()
    install_interrupt_guard()
    display.install()
    # MARIMO_BRIDGE_SPEEDUPS=0 runs marimo's own code (to compare, or to rule
    # the replacements out when something looks wrong).
    if os.environ.get("MARIMO_BRIDGE_SPEEDUPS", "1") != "0":
        speedups.install()
    from marimo._ipc.launch_kernel import main as launch_kernel

    launch_kernel()


if __name__ == "__main__":
    main()
