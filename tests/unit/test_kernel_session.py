"""The kernel's Session writes what jupyter_client's writes, read back the same."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from jupyter_client.session import Session

from bridge.jupyter.session import KernelSession, flat_json

KEY = b"0123456789abcdef"


def sessions() -> tuple[KernelSession, Session]:
    ours = KernelSession(key=KEY, session="kernel-session", username="kernel")
    theirs = Session(key=KEY, session="kernel-session", username="kernel")
    return ours, theirs


MESSAGES: dict[str, dict[str, Any]] = {
    "status": {"content": {"execution_state": "busy"}},
    "execute_reply": {
        "content": {"status": "ok", "execution_count": 3, "payload": [], "user_expressions": {}},
        "metadata": {
            "started": datetime(2026, 11, 21, 9, 3, 1, 5, tzinfo=timezone.utc),
            "dependencies_met": True,
            "engine": "e7f3",
            "status": "ok",
        },
    },
    "display_data": {
        "content": {"data": {"text/plain": "ünïcode ✓", "image/png": "iVBOR"}, "metadata": {}},
    },
    "display_data with NaN": {"content": {"data": {"application/json": {"x": math.nan}}}},
}


@pytest.mark.filterwarnings("ignore:Message serialization failed")
@pytest.mark.parametrize("name", list(MESSAGES))
def test_a_client_reads_the_same_message(name: str) -> None:
    ours, theirs = sessions()
    parent = theirs.msg("execute_request", {"code": "1"})
    parent["header"]["date"] = datetime(2026, 11, 21, 9, 3, tzinfo=timezone.utc)
    spec = MESSAGES[name]
    msg = ours.msg(
        name.split()[0],
        spec["content"],
        parent=parent,
        metadata=spec.get("metadata"),
    )
    frames = ours.serialize(msg, ident=b"topic")
    reference = theirs.serialize(msg, ident=b"topic")
    reader = Session(key=KEY)  # a frontend: checks the signature
    read = reader.deserialize(reader.feed_identities(frames)[1])
    expected = Session(key=KEY).deserialize(reader.feed_identities(reference)[1])
    for part in ("header", "parent_header", "metadata", "content"):
        assert read[part] == expected[part], part
    # Outputs and anything nested are packed by jupyter_client, byte for byte.
    if flat_json(spec["content"]) is None:
        assert frames[-1] == reference[-1]


def test_anything_unusual_is_left_to_jupyter_client() -> None:
    naive = datetime(2026, 11, 21, 9, 3)
    other_zone = datetime(2026, 11, 21, 9, 3, tzinfo=timezone(timedelta(hours=2)))
    assert flat_json({"date": naive}) is None
    assert flat_json({"date": other_zone}) is None
    assert flat_json({"x": math.nan}) is None
    assert flat_json({"nested": {"a": 1}}) is None
    assert flat_json({"s": "\ud800"}) is None
    assert json.loads(flat_json({"a": 1, "b": None, "c": True, "d": "x"}) or b"") == {
        "a": 1,
        "b": None,
        "c": True,
        "d": "x",
    }
