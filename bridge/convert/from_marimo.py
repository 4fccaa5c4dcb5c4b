"""``python -m bridge convert nb.py``: a marimo notebook as a Jupyter notebook.

Writes ``nb.ipynb`` beside it, for this kernel, with one code cell per marimo
cell in file order (markdown cells stay ``mo.md`` code cells, as in marimo).
Opened in JupyterLab or VS Code, ``nb.py`` is then that notebook's twin: the
kernel loads it, finds each cell by its code, and writes changes back in
place, keeping names, configs and order.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from bridge.twin import pyfile

KERNELSPEC = {"name": "marimo", "display_name": "marimo (reactive Python)", "language": "python"}


class ConvertError(Exception):
    pass


def to_ipynb(source: Path, target: Path | None = None, force: bool = False) -> Path:
    target = target or source.with_suffix(".ipynb")
    if target.exists() and not force:
        raise ConvertError(f"{target} exists; pass --force to replace it")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConvertError(f"cannot read {source}: {exc}") from exc
    try:
        twin = pyfile.parse(text, lambda: "")
    except pyfile.NotMarimoNotebook as exc:
        raise ConvertError(f"{source} is not a marimo notebook: {exc}") from exc
    target.write_text(json.dumps(notebook(twin), indent=1) + "\n", encoding="utf-8")
    return target


def notebook(twin: pyfile.Twin) -> dict[str, Any]:
    cells: list[dict[str, Any]] = []
    for cell in twin.cells:
        meta: dict[str, Any] = {}
        config = {k: v for k, v in cell.config.items() if v is not None and v is not False}
        if cell.name != "_" or config:
            # For people reading the .ipynb; the twin itself keeps both.
            meta["marimo"] = {"name": cell.name, **({"config": config} if config else {})}
        cells.append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": uuid.uuid4().hex[:12],
                "metadata": meta,
                "outputs": [],
                "source": cell.code,
            }
        )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python", "file_extension": ".py"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
