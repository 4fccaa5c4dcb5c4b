"""A cell printing without end: what the bridge keeps and sends stays bounded."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.jupyter.outputs import OutputRouter
from bridge.jupyter.request_messages import STREAM_LIMIT, RequestContext
from bridge.jupyter.views import CONSOLE_LIMIT
from bridge.notebook.cells import CellRegistry
from bridge.notebook.last_outputs import MAX_CONSOLE_CHARS, LastOutputs
from bridge.runs.request import RequestRun
from bridge.runtime.messages import CellOp, CellOutput

CHUNK = 1_000_000


def _chunk(cell: str, text: str, channel: str = "stdout") -> CellOp:
    return CellOp(cell_id=cell, console=[CellOutput(channel, "text/plain", text)])


def test_last_outputs_keep_the_tail_of_a_flood_by_size() -> None:
    last = LastOutputs()
    for i in range(30):
        last.feed(_chunk("a", str(i % 10) * 300_000))
    last.feed(_chunk("a", "y" * 3 * MAX_CONSOLE_CHARS))
    kept = last._console["a"]
    assert len(kept) == 1 and kept[0].data == "y" * MAX_CONSOLE_CHARS
    last.feed(_chunk("a", "z"))
    assert sum(len(i.data) for i in last._console["a"]) == MAX_CONSOLE_CHARS


def _flood(anchored: bool, chunks: int) -> list[tuple[str, dict[str, Any]]]:
    sent: list[tuple[str, dict[str, Any]]] = []

    async def run() -> None:
        cells = CellRegistry()
        router = OutputRouter(lambda kind, content, parent: sent.append((kind, content)), cells)
        cell = cells.claim("while True: print('x')", "flood" if anchored else None, "In[1]")
        loop = asyncio.get_running_loop()
        request = RequestRun("m1", {cell.marimo_id}, router.publish, loop)
        context = RequestContext(parent={}, silent=False, execution_count=1, anchored=anchored)
        router.begin(request, context)
        for i in range(chunks):
            router.publish(request, _chunk(cell.marimo_id, str(i % 10) * CHUNK))
        router.end(request)

    asyncio.run(run())
    return sent


def test_id_less_flood_is_coalesced_capped_and_told() -> None:
    sent = _flood(anchored=False, chunks=25)
    streams = [c for kind, c in sent if kind == "stream"]
    stdout = "".join(c["text"] for c in streams if c["name"] == "stdout")
    stderr = [c["text"] for c in streams if c["name"] == "stderr"]
    assert len(stdout) == STREAM_LIMIT
    # One message for what came within the throttle, then the two notices.
    assert len(streams) == 3
    assert "output limit reached" in stderr[0]
    assert "output truncated: 15.0 MB more not shown" in stderr[1]


def test_anchored_flood_keeps_the_tail_and_says_how_much_was_cut() -> None:
    sent = _flood(anchored=True, chunks=5)
    updates = [c["data"]["text/plain"] for kind, c in sent if kind == "update_display_data"]
    console = next(u for u in updates if u)
    first, rest = console.split("\n", 1)
    assert first == "… 4.0 MB of earlier output not shown"
    assert rest == "4" * CONSOLE_LIMIT
