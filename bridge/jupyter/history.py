"""The code this kernel ran, answered the way IPython's history does.

Only this process's session is known (session 1; 0 and negative numbers
are relative to it, as in IPython). Outputs are not logged, as IPython's
default ``db_log_output = False``: the output form carries None.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

SESSION = 1


@dataclass(frozen=True)
class Entry:
    line: int  # the execution count of the request
    code: str


class History:
    def __init__(self) -> None:
        self._entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, line: int, code: str) -> None:
        self._entries.append(Entry(line, code))

    def codes(self) -> list[str]:
        """Each distinct code once, at its latest run: the notebook as run."""
        latest = {e.code: e.line for e in self._entries}
        return sorted(latest, key=latest.__getitem__)

    def tail(self, n: int | None) -> list[Entry]:
        if n is None:
            return list(self._entries)
        return self._entries[-n:] if n > 0 else []

    def range(self, session: int | None, start: int | None, stop: int | None) -> list[Entry]:
        """Lines ``start <= line < stop`` of a session (``stop`` None: to the end)."""
        number = session or 0
        if number <= 0:
            number += SESSION
        if number != SESSION:
            return []
        low = 1 if start is None else start
        return [e for e in self._entries if e.line >= low and (stop is None or e.line < stop)]

    def search(self, pattern: str | None, n: int | None, unique: bool) -> list[Entry]:
        """Glob match over whole inputs (``*``, ``?``, ``[...]``; case-sensitive).

        ``unique`` keeps the latest run of each input; ``n`` the latest n.
        """
        glob = "*" if pattern is None else pattern
        found = [e for e in self._entries if fnmatchcase(e.code, glob)]
        if unique:
            latest = {e.code: e for e in found}
            found = sorted(latest.values(), key=lambda e: e.line)
        if n is not None:
            found = found[-n:] if n > 0 else []
        return found

    def query(
        self,
        hist_access_type: str,
        output: bool = False,
        session: int | None = None,
        start: int | None = None,
        stop: int | None = None,
        n: int | None = None,
        pattern: str | None = None,
        unique: bool = False,
    ) -> dict[str, Any]:
        """history_reply content for a history_request's fields."""
        if hist_access_type == "tail":
            entries = self.tail(n)
        elif hist_access_type == "range":
            entries = self.range(session, start, stop)
        elif hist_access_type == "search":
            entries = self.search(pattern, n, unique)
        else:
            entries = []
        history: list[tuple[Any, ...]] = [
            (SESSION, e.line, (e.code, None) if output else e.code) for e in entries
        ]
        return {"status": "ok", "history": history}
