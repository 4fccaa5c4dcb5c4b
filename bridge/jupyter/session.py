"""jupyter_client's Session, with the kernel's own headers packed by msgspec.

Every message the kernel sends packs a header, the request's header as its
parent, and metadata: small flat dicts whose date goes through json.dumps'
Python fallback for datetimes. Six messages a request make that a
noticeable share of the kernel's time. msgspec writes the same JSON for
such dicts (strings, numbers, booleans, null, timezone-aware dates as ISO
8601 with ``Z``); anything else, and every content, goes through
jupyter_client's packer as before, so user data is encoded exactly as
ipykernel encodes it (NaN included).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec
from jupyter_client.session import DELIM, Session

_ENCODER = msgspec.json.Encoder()
_PLAIN = frozenset((str, int, bool, type(None)))


def flat_json(value: dict[str, Any]) -> bytes | None:
    """``value`` as JSON if it is a flat dict msgspec writes as json.dumps
    would (up to spacing); None otherwise."""
    for item in value.values():
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind is datetime and item.utcoffset() == timezone.utc.utcoffset(None):
            continue  # msgspec writes ...Z, as jupyter_client's json_default
        return None
    try:
        return _ENCODER.encode(value)
    except Exception:  # a lone surrogate, an int past 64 bits: the slow path says so
        return None


class KernelSession(Session):
    def _pack_part(self, part: Any) -> bytes:
        if type(part) is dict:
            packed = flat_json(part)
            if packed is not None:
                return packed
        return self.pack(part)

    def serialize(
        self, msg: dict[str, Any], ident: list[bytes] | bytes | None = None
    ) -> list[bytes]:
        # jupyter_client's Session.serialize, with _pack_part for the three
        # small parts.
        content = msg.get("content", {})
        if content is None:
            content = self.none
        elif isinstance(content, dict):
            content = self.pack(content)
        elif isinstance(content, bytes):
            pass  # already packed (a relayed message)
        elif isinstance(content, str):
            content = content.encode("utf8")
        else:
            raise TypeError(f"Content incorrect type: {type(content)}")
        real_message = [
            self._pack_part(msg["header"]),
            self._pack_part(msg["parent_header"]),
            self._pack_part(msg["metadata"]),
            content,
        ]
        to_send: list[bytes] = []
        if isinstance(ident, list):
            to_send.extend(ident)
        elif ident is not None:
            to_send.append(ident)
        to_send.append(DELIM)
        to_send.append(self.sign(real_message))
        to_send.extend(real_message)
        return to_send
