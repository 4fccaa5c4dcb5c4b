"""The twin's PEP 723 script dependencies, kept up to date with ``%pip install``.

A cell's ``%pip install x`` is saved as a marker (bridge/ipython/magics.py);
the packages it names belong in the file's ``# /// script`` block, where
``uv run nb.py`` and ``marimo edit --sandbox`` install them. Only additions
are made: a dependency the user wrote stays, in the user's words.
"""

from __future__ import annotations

import json
import re
from typing import Any


def _loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: marimo's own TOML library
        import tomlkit

        return dict(tomlkit.loads(text).unwrap())
    return tomllib.loads(text)


_BLOCK = re.compile(r"^# /// script\s*$\n(?P<body>(?:^#(?: .*)?$\n)*?)^# ///\s*$", re.M)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _name(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else requirement.lower()


def with_dependencies(header: str, packages: list[str]) -> str:
    """``header`` (the text above the notebook's code) with ``packages`` in its
    script block; unchanged if they are all there or the block is not TOML."""
    if not packages:
        return header
    match = _BLOCK.search(header)
    if match is None:
        return _block(packages) + header
    lines = match.group("body").splitlines()
    toml = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in lines)
    try:
        metadata = _loads(toml)
    except Exception:  # not TOML: not ours to fix
        return header
    current = metadata.get("dependencies", [])
    if not isinstance(current, list):
        return header
    known = {_name(str(d)) for d in current}
    missing = [p for p in dict.fromkeys(packages) if _name(p) not in known]
    if not missing:
        return header
    deps = [*map(str, current), *missing]
    array = ["# dependencies = [", *(f"#     {json.dumps(d)}," for d in deps), "# ]"]
    kept = _without_dependencies(lines)
    body = "\n".join([*kept, *array]) + "\n"
    return header[: match.start("body")] + body + header[match.end("body") :]


def _without_dependencies(lines: list[str]) -> list[str]:
    """The block's lines with its ``dependencies`` array taken out."""
    out: list[str] = []
    inside = False
    for line in lines:
        content = line[1:].strip()
        if not inside and content.startswith("dependencies") and "=" in content:
            inside = "[" in content and "]" not in content.split("[", 1)[1]
            continue
        if inside:
            if content.startswith("]"):
                inside = False
            continue
        out.append(line)
    return out


def _block(packages: list[str]) -> str:
    deps = "\n".join(f"#     {json.dumps(p)}," for p in dict.fromkeys(packages))
    return f"# /// script\n# dependencies = [\n{deps}\n# ]\n# ///\n"
