"""jupyter_client's Session, with small flat dicts packed by msgspec.

Every message the kernel sends packs a header, the request's header as its
parent, and metadata: small flat dicts whose date goes through json.dumps'
Python fallback for datetimes. Six messages a request make that a
noticeable share of the kernel's time. msgspec writes the same JSON for
such dicts (strings, numbers, booleans, null, timezone-aware dates as ISO
8601 with ``Z``; only the spacing differs); anything else (outputs, any
float, anything nested) goes through jupyter_client's packer as before, so
user data is encoded exactly as ipykernel encodes it (NaN included).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec
from jupyter_client.session import Session

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
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._json_pack = self.pack  # jupyter_client's packer, checked by its __init__
        self.pack = self._pack

    def _pack(self, obj: Any) -> bytes:
        if type(obj) is dict:
            packed = flat_json(obj)
            if packed is not None:
                return packed
        return self._json_pack(obj)
