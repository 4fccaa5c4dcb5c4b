"""``%psearch`` (``*int*?``, ``?a*``): the names a wildcard matches, as IPython finds them.

IPython searches the cell's namespace and the builtins with its wildcard
module (``IPython.utils.wildcard``) and pages the sorted names. Here the
search runs in the runtime, where the names are (marimo's globals), with
the same module, and prints them. The twin keeps the line as a comment:
it is a question to the kernel, not a step of the notebook.
"""

from __future__ import annotations

import builtins
import getopt
import shlex
from typing import Any

from bridge.ipython.replacement import Replacement, Unsupported

_NAMESPACES = ("user_local", "user_global", "builtin")


def magic(args: str) -> Replacement:
    """``%psearch [-i|-c] [-a] [-l] [-s NS] [-e NS] PATTERN [TYPE]``."""
    _parse(args)  # a bad line is the cell's error, before any run
    call = f"__import__('bridge.ipython.psearch', fromlist=['_']).search(globals(), {args!r})"
    return Replacement(setup=[call], twin=f"pass  # %psearch {args.strip()}")


def _parse(args: str) -> tuple[dict[str, list[str]], list[str]]:
    try:
        opts, rest = getopt.getopt(shlex.split(args), "cias:e:l")
    except (ValueError, getopt.GetoptError) as exc:
        raise Unsupported(f"%psearch {args}: {exc}") from exc
    options: dict[str, list[str]] = {}
    for flag, value in opts:
        options.setdefault(flag[1], []).append(value)
    for namespace in options.get("s", []) + options.get("e", []):
        if namespace not in _NAMESPACES:
            raise Unsupported(
                f"%psearch: invalid namespace <{namespace}>; "
                f"valid names: {', '.join(_NAMESPACES)}"
            )
    if "l" not in options and len(rest) not in (1, 2):
        raise Unsupported("%psearch needs a PATTERN and at most an object TYPE")
    return options, rest


def search(namespace: dict[str, Any], args: str) -> None:
    """In the runtime: print what IPython's ``%psearch args`` pages."""
    from IPython.utils.wildcard import list_namespace, typestr2type

    options, rest = _parse(args)
    if "l" in options:
        print("\n".join(sorted(typestr2type)))
        return
    pattern, kind = rest[0], rest[1] if len(rest) == 2 else "all"
    # IPython's default: case-sensitive (its wildcards_case_sensitive is True).
    ignore_case = "i" in options and "c" not in options
    tables = {"user_local": namespace, "user_global": namespace, "builtin": vars(builtins)}
    # The cell's locals are its globals here: each namespace is searched once.
    searched = {id(tables[n]): tables[n] for n in _NAMESPACES if n not in options.get("e", [])}
    found: set[str] = set()
    for table in searched.values():
        found.update(
            list_namespace(table, kind, pattern, ignore_case=ignore_case, show_all="a" in options)
        )
    print("\n".join(sorted(found)))
