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
  (bridge/ipython/display.py), and a failing rich representation falling
  back to the next, as IPython's formatter does (bridge/ipython/fallback.py).

* Two of marimo's per-run costs made O(1) (speedups.py), for the marimo
  versions they were checked against.

* A run of several requested cells (Run All batching) stops at the first
  that fails, as Jupyter's stop_on_error does (stop_on_error.py).

* matplotlib figures as Jupyter's inline backend shows them: each figure a
  cell leaves open is shown at its end (figures.py), and 3D axes work
  whatever the import order.

* ``get_ipython()``, with the calls notebooks make on IPython's shell
  (bridge/ipython/shell_object.py).

* IPython's history names (``_``, ``Out[3]``, ``In[3]``, ``_i``), kept
  for the cells Jupyter requests ran (output_history.py).

* A printing flood waits for the bridge, as a program writing to a full
  pipe does, instead of piling up in memory (console_flow.py).

* pygments' lexers and formatters imported before any thread starts
  (``import_self_replacing_modules``).

* parso's cache of parsed modules read and written so that a runtime killed
  mid-write cannot break completion for good (parso_cache.py).
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

from bridge.ipython import display, fallback, shell_object
from bridge.runtime import (
    console_flow,
    figures,
    output_history,
    parso_cache,
    speedups,
    stop_on_error,
)
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


# Packages that swap themselves for another object in ``sys.modules`` at the
# end of their own import (pygments' lazy loaders). CPython's ``from m import
# x`` that waited on another thread's import of ``m`` still holds the object
# it found before waiting, the one swapped out, and fails with "cannot import
# name". In the runtime, marimo's completion thread (docstrings rendered as
# markdown) and a cell's traceback (highlighted by pygments) can both make
# the first import: seen in CI as "marimo encountered an internal error"
# where a ZeroDivisionError belonged. Imported here, before marimo starts
# any thread, they are never imported twice at once. About 7 ms.
SELF_REPLACING_MODULES = ("pygments.lexers", "pygments.formatters")


def import_self_replacing_modules() -> None:
    import importlib

    for name in SELF_REPLACING_MODULES:
        importlib.import_module(name)


def main() -> None:
    prefix = os.environ.pop(PREFIX_ENV, None)
    if prefix is None:
        sys.exit("bridge.runtime.child: started without the bridge's private channel")
    use_prefix(prefix)
    import_self_replacing_modules()
    parso_cache.install()
    install_eof_reply()
    install_interrupt_guard()
    display.install()
    shell_object.install()
    fallback.install()
    console_flow.install()
    figures.install()
    stop_on_error.install()
    output_history.install()
    # MARIMO_BRIDGE_SPEEDUPS=0 runs marimo's own code (to compare, or to rule
    # the replacements out when something looks wrong).
    if os.environ.get("MARIMO_BRIDGE_SPEEDUPS", "1") != "0":
        speedups.install()
    from marimo._ipc.launch_kernel import main as launch_kernel

    launch_kernel()


if __name__ == "__main__":
    main()
