"""What the kernel says about itself: kernel_info_reply and its banner."""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Any

from bridge import __version__

IMPLEMENTATION = "marimo-bridge"

LANGUAGE_INFO: dict[str, object] = {
    "name": "python",
    "version": ".".join(map(str, sys.version_info[:3])),
    "mimetype": "text/x-python",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "pygments_lexer": "ipython3",
    "nbconvert_exporter": "python",
    "file_extension": ".py",
}


def banner(mode: str | None, twin: str) -> str:
    """``mode``: marimo's on_cell_change once known; ``twin``: where the twin is."""
    return (
        f"marimo {version('marimo')} reactive runtime in Jupyter "
        f"(marimo-bridge {__version__}, "
        f"on_cell_change={mode or 'as set in your marimo config'})\n"
        "Running a cell re-runs the cells that depend on it.\n"
        f"{twin}"
    )


def kernel_info(banner: str, help_links: Any) -> dict[str, Any]:
    # Not ipykernel's: it imports its debugger to ask whether debugpy is
    # there (0.14 s, on the way to the first kernel_info reply, and a
    # "frozen modules" warning in jupyter console's terminal), and claims
    # "debugger" when it is. This kernel has no debugger.
    return {
        "protocol_version": "5.4",
        "implementation": IMPLEMENTATION,
        "implementation_version": __version__,
        "language_info": LANGUAGE_INFO,
        "banner": banner,
        "help_links": help_links,
        "supported_features": [],
    }
