"""bench/results.json: each benchmark merges its own section into it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parent / "results.json"


def save(section: str, rows: Any) -> Path:
    results = json.loads(PATH.read_text()) if PATH.exists() else {}
    results[section] = rows
    PATH.write_text(json.dumps(results, indent=2) + "\n")
    return PATH
