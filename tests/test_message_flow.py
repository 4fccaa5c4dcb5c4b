"""What a frontend sees of each request on IOPub, in the order it sees it.

The kernel sends IOPub from its own loop (no IOPub thread) and starts a
request's run in the runtime before ipykernel's busy and execute_input go
out; neither may show: every request still reads busy, execute_input, its
outputs, idle, and nothing of it comes after idle.
"""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path
from typing import Any

import zmq
from helpers import send_execute
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager


def flows(kc: BlockingKernelClient, msg_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every IOPub message of each request in arrival order, until all are idle
    and a quiet half second has passed (anything late would show up)."""
    seen: dict[str, list[dict[str, Any]]] = {m: [] for m in msg_ids}
    idle: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            if idle == set(msg_ids):
                return seen
            continue
        parent = msg["parent_header"].get("msg_id")
        if parent in seen:
            seen[parent].append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle.add(parent)
    raise AssertionError(f"no idle for {set(msg_ids) - idle}")


def replies(kc: BlockingKernelClient, msg_ids: list[str]) -> dict[str, dict[str, Any]]:
    got: dict[str, dict[str, Any]] = {}
    while len(got) < len(msg_ids):
        msg = kc.get_shell_msg(timeout=60)
        if msg["parent_header"].get("msg_id") in msg_ids:
            got[msg["parent_header"]["msg_id"]] = msg
    return got


def shape(flow: list[dict[str, Any]]) -> list[str]:
    return [
        m["msg_type"] + (f":{m['content']['execution_state']}" if m["msg_type"] == "status" else "")
        for m in flow
    ]


def test_every_request_reads_busy_input_outputs_idle(kc: BlockingKernelClient) -> None:
    cases = [
        ("lab-a", "a = 2\nprint('printed', a)\na * 21"),
        ("lab-b", "b = a + 1\nb"),  # a dependent of lab-a
        ("lab-c", "raise ValueError('boom')"),
        (None, "a + 100"),  # no cellId
    ]
    # The error must not abort the requests behind it (stop_on_error).
    sent = [send_execute(kc, code, cell_id, stop_on_error=False) for cell_id, code in cases]
    # Re-running the root also re-runs lab-b: its outputs go to its own place.
    sent.append(send_execute(kc, "a = 3\nprint('printed', a)\na * 21", "lab-a"))
    got = replies(kc, sent)
    seen = flows(kc, sent)
    for msg_id in sent:
        flow = shape(seen[msg_id])
        assert flow[:2] == ["status:busy", "execute_input"], flow
        assert flow[-1] == "status:idle" and flow.count("status:idle") == 1, flow
        count = got[msg_id]["content"]["execution_count"]
        assert seen[msg_id][1]["content"]["execution_count"] == count
    text = {m: str([x["content"] for x in seen[m][2:-1]]) for m in sent}
    assert "printed 2" in text[sent[0]] and "42" in text[sent[0]]
    assert "3" in text[sent[1]]
    assert got[sent[2]]["content"]["status"] == "error"
    assert "boom" in text[sent[2]]
    assert "102" in text[sent[3]]
    # The root's second run: its own output, and lab-b's new value (4) as an
    # update of lab-b's own display, under this request.
    assert "printed 3" in text[sent[4]] and "63" in text[sent[4]]
    updates = [m for m in seen[sent[4]] if m["msg_type"] == "update_display_data"]
    assert any("4" in str(m["content"]["data"]) for m in updates), shape(seen[sent[4]])


def test_the_first_subscriber_is_welcomed(tmp_path: Path) -> None:
    """JEP 65, as ipykernel 7: the first IOPub subscriber gets iopub_welcome
    (served on the kernel's loop here, not by an IOPub thread)."""
    km = KernelManager(kernel_name="marimo")
    km.start_kernel(cwd=str(tmp_path), env={**os.environ, "MARIMO_BRIDGE_TWIN": "0"})
    sub = zmq.Context.instance().socket(zmq.SUB)
    try:
        sub.linger = 0
        sub.connect(f"{km.transport}://{km.ip}:{km.iopub_port}")
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        # Messages sent while the kernel had not read the subscription yet
        # (its "starting" status) may come first, as with ipykernel.
        seen = []
        deadline = time.monotonic() + 30
        while "iopub_welcome" not in seen and time.monotonic() < deadline:
            if sub.poll(1000):
                _, frames = km.session.feed_identities(sub.recv_multipart())
                seen.append(km.session.deserialize(frames)["msg_type"])
        assert "iopub_welcome" in seen, seen
    finally:
        sub.close()
        km.shutdown_kernel(now=True)


def test_control_requests_have_their_status_on_iopub(kc: BlockingKernelClient) -> None:
    """Status of a control request is sent from the control thread."""
    msg = kc.session.msg("kernel_info_request")
    kc.control_channel.send(msg)
    reply = kc.get_control_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    assert shape(flows(kc, [msg["header"]["msg_id"]])[msg["header"]["msg_id"]]) == [
        "status:busy",
        "status:idle",
    ]


def test_a_subscriber_joining_during_a_flood_is_welcomed(kc: BlockingKernelClient) -> None:
    """Sends on the IOPub socket must not swallow the news of a subscription."""
    flood = send_execute(kc, "import time\nfor i in range(200_000): print(i)", "lab-flood")
    sub = zmq.Context.instance().socket(zmq.SUB)
    try:
        sub.linger = 0
        sub.connect(f"{kc.transport}://{kc.ip}:{kc.iopub_port}")
        for n in range(5):
            # A new topic each time: XPUB tells the kernel about new topics only.
            topic = f"welcome-{n}".encode()
            sub.setsockopt(zmq.SUBSCRIBE, topic)
            assert sub.poll(10_000), f"no iopub_welcome for {topic!r} while the kernel sends"
            _, frames = kc.session.feed_identities(sub.recv_multipart())
            msg = kc.session.deserialize(frames)
            assert msg["msg_type"] == "iopub_welcome"
            assert msg["content"]["subscription"] == topic.decode()
    finally:
        sub.close()
    assert replies(kc, [flood])[flood]["content"]["status"] == "ok"
