"""marimo's pygments-HTML tracebacks to the ANSI lines Jupyter shows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

RED = "\x1b[0;31m"
GREEN = "\x1b[0;32m"
CYAN = "\x1b[0;36m"
RESET = "\x1b[0m"

_TAG = re.compile(r"<[^>]+>")
# marimo compiles each cell to a temp file named after the cell id.
_CELL_FILE = re.compile(r'File "[^"]*__marimo__cell_([A-Za-z0-9_-]+?)_\.py", line (\d+)')
_EXC_LINE = re.compile(
    r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)\b.*$|^[A-Za-z_][\w.]*:.*$"
)

Labeler = Callable[[str], str]


def traceback_lines(markup: str, label: Labeler) -> list[str]:
    """Plain lines with ANSI colour, cell temp files replaced by cell labels."""
    text = html.unescape(_TAG.sub("", markup))
    lines = text.rstrip("\n").splitlines()
    out: list[str] = []
    last = len(lines) - 1
    for i, line in enumerate(lines):
        line = _CELL_FILE.sub(lambda m: f"{label(m.group(1))}, line {m.group(2)}", line)
        if line.startswith("Traceback"):
            out.append(f"{RED}{line}{RESET}")
        elif line.lstrip().startswith(("File ", "Cell ")):
            out.append(f"{GREEN}{line}{RESET}")
        elif i == last and _EXC_LINE.match(line):
            out.append(f"{RED}{line}{RESET}")
        else:
            out.append(line)
    return out
