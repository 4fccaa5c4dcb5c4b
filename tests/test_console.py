"""`jupyter console --kernel marimo` in a real terminal (pexpect).

Define a value and a dependent that prints, redefine the value: the
dependent's re-run text appears under the running prompt; a dependent's
failure is shown and the prompt comes back; Ctrl-C interrupts a long cell;
`exit` shuts the kernel and its runtime down.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import psutil
from helpers import wait_gone

CONSOLE = str(Path(sys.executable).with_name("jupyter"))
TIMEOUT = 60


def prompt(n: int) -> str:
    return rf"In \[{n}\]: "


def test_console_shows_dependents_failures_interrupts_and_exits(tmp_path: Path) -> None:
    env = {**os.environ, "MARIMO_BRIDGE_TWIN": "0", "TERM": "dumb", "COLUMNS": "200"}
    term = pexpect.spawn(
        CONSOLE,
        ["console", "--kernel", "marimo", "--simple-prompt", "--ZMQTerminalInteractiveShell.confirm_exit=False"],
        cwd=str(tmp_path), env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(50, 200),
    )
    term.logfile_read = (tmp_path / "console.log").open("w")
    try:
        term.expect(prompt(1))
        kernel = [p for p in psutil.Process(term.pid).children(recursive=True)
                  if "bridge" in " ".join(p.cmdline())]
        assert kernel, "the console started the marimo kernel"

        term.sendline("x = 1")
        term.expect(prompt(2))
        term.sendline("print('dependent sees', x * 10)")
        term.expect("dependent sees 10")
        term.expect(prompt(3))
        term.sendline("x * 100")
        term.expect(re.escape("Out[3]: 100"))
        term.expect(prompt(4))

        # Redefining x re-runs both dependents: under this prompt, the text
        # one prints and the other's new value (the console drops display
        # updates, so the kernel writes it).
        term.sendline("x = 2")
        term.expect(re.escape("── Cell In[2] re-ran ──"))
        term.expect("dependent sees 20")
        term.expect(re.escape("── Cell In[3] re-ran ──"))
        term.expect("200")
        term.expect(prompt(5))

        term.sendline("ratio = 1 / (x - 3)")
        term.expect(prompt(6))
        term.sendline("x = 3")
        term.expect(re.escape("Cell In[5], which re-ran because of this cell, failed"))
        term.expect("ZeroDivisionError")
        term.expect(prompt(7))

        term.sendline("import time; print('sleeping', flush=True); time.sleep(60)")
        term.expect(r"sleeping\r?\n")  # the cell runs: Ctrl-C goes to the kernel
        term.sendintr()
        term.expect("KeyboardInterrupt")
        term.expect(prompt(8))
        term.sendline("'still here'")
        term.expect("still here")
        term.expect(prompt(9))

        everything = [p for k in kernel for p in [k, *k.children(recursive=True)]]
        term.sendline("exit")
        term.expect(pexpect.EOF)
        for process in everything:
            assert wait_gone(process.pid, timeout=30), f"{process.cmdline()} still running"
    finally:
        term.close(force=True)
