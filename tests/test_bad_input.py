"""Bad input is answered and nothing is lost.

Each test defines cells, sends one kind of malformed or hostile request to a
real kernel (with its twin), checks the answer, then checks that the kernel
still runs cells, that the variables defined before are still there and
that the twin is still a marimo notebook holding the notebook's cells.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import TIMEOUT, Result, collect, execute, wait_until
from jupyter_client.blocking.client import BlockingKernelClient

from bridge.jupyter.validate import MAX_CELL_ID
from bridge.twin import pyfile

BASE = ["base = 41", "total = base + 1"]
CHECK = "print(base, total)"


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    return {"MARIMO_BRIDGE_NOTEBOOK": str(tmp_path / "nb.ipynb")}


_parsed: dict[tuple[Path, int, int], list[str]] = {}


def codes(twin: Path) -> list[str]:
    """The twin's cell codes (parsed once per version: a twin here may be MBs)."""
    try:
        stat = twin.stat()
    except FileNotFoundError:
        return []
    key = (twin, stat.st_mtime_ns, stat.st_size)
    if key not in _parsed:
        text = twin.read_text(encoding="utf-8")
        _parsed[key] = [c.code for c in pyfile.parse(text, lambda: "").cells]
    return _parsed[key]


def prepare(kc: BlockingKernelClient, tmp_path: Path) -> int:
    """Two cells as JupyterLab runs them; the execution count reached."""
    count = 0
    for index, code in enumerate(BASE):
        result = execute(kc, code, cell_id=f"lab-{index}")
        assert result.status == "ok", result.content
        count = int(result.content["execution_count"])
    wait_until(lambda: codes(tmp_path / "nb.py") == BASE, what="the twin")
    return count


def nothing_lost(kc: BlockingKernelClient, tmp_path: Path, extra: tuple[str, ...] = ()) -> Result:
    """The kernel runs a cell, sees the old variables, and the twin is whole."""
    result = execute(kc, CHECK, cell_id="lab-check")
    assert result.status == "ok", result.content
    assert "41 42" in result.text()
    expected = [*BASE, *extra, CHECK]
    wait_until(lambda: codes(tmp_path / "nb.py") == expected, what=f"the twin to hold {expected}")
    return result


def no_reply(kc: BlockingKernelClient, msg_id: str, wait: float = 1.0) -> bool:
    """True if no shell reply to ``msg_id`` arrives within ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            m = kc.get_shell_msg(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            return True
        if m["parent_header"].get("msg_id") == msg_id:
            return False
    return True


def iopub_of(kc: BlockingKernelClient, msg_id: str, timeout: float = TIMEOUT) -> list[str]:
    """The IOPub message types parented to ``msg_id``, up to its idle."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(m["msg_type"])
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return seen


def send(kc: BlockingKernelClient, msg_type: str, content: Any, metadata: Any = None) -> str:
    """A request through the client's own session (any JSON-encodable content)."""
    # The session sends a str as already-packed JSON; it packs only dicts.
    msg = kc.session.msg(msg_type, content if isinstance(content, dict) else json.dumps(content))
    if metadata is not None:
        msg["metadata"] = metadata
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def send_frames(
    kc: BlockingKernelClient,
    content: bytes,
    metadata: bytes = b"{}",
    header: dict[str, Any] | None = None,
) -> str:
    """A signed execute_request whose frames are given as raw bytes.

    The client's session cannot encode a lone surrogate or invalid UTF-8;
    a peer that is not jupyter_client can send both.
    """
    head = kc.session.msg_header("execute_request")
    head.update(header or {})
    parts = [json.dumps(head, default=str).encode(), b"{}", metadata, content]
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", kc.session.sign(parts), *parts])
    return str(head["msg_id"])


def request(code: Any = "marker = 1", **content: Any) -> dict[str, Any]:
    return {"code": code, "silent": False, "store_history": True, **content}


# -- execute_requests ipykernel cannot read ---------------------------------
UNREADABLE: dict[str, tuple[Any, Any, str]] = {
    # name: (content, metadata, words the reply must hold)
    "no code": ({"silent": False, "store_history": True}, {}, "has no 'code'"),
    "code is a number": (request(5), {}, "'code' must be a string, not a number"),
    "code is a list": (request(["x = 1"]), {}, "'code' must be a string, not a list"),
    "code is null": (request(None), {}, "'code' must be a string, not null"),
    "content is a list": (["x = 1"], {}, "content is a list, not an object"),
    "content is a string": ("x = 1", {}, "content is a string, not an object"),
    "metadata is a list": (request(), ["lab-x"], "metadata is a list, not an object"),
    "silent is a string": (request(silent="yes"), {}, "'silent' must be true or false"),
    "store_history is a number": (request(store_history=1), {}, "'store_history' must be true"),
    "stop_on_error is null": (request(stop_on_error=None), {}, "'stop_on_error' must be true"),
}


def test_a_request_ipykernel_cannot_read_gets_an_error_reply(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    """One kernel takes every case in turn: each leaves it as it was."""
    count = prepare(kc, tmp_path)
    for case, (content, metadata, words) in UNREADABLE.items():
        result = collect(kc, send(kc, "execute_request", content, metadata))
        assert result.status == "error", case
        assert result.content["ename"] == "InvalidRequest", case
        assert words in result.content["evalue"], case
        assert result.content["execution_count"] == count, case  # nothing ran or counted
        assert [m["content"]["ename"] for m in result.of_type("error")] == ["InvalidRequest"]
        after = nothing_lost(kc, tmp_path)
        count += 1
        assert after.content["execution_count"] == count, case


def test_lone_surrogate_in_the_code_is_refused(kc: BlockingKernelClient, tmp_path: Path) -> None:
    prepare(kc, tmp_path)
    # json.dumps escapes the surrogate as \ud800: valid JSON, no valid text.
    content = json.dumps(request("marker = '\ud800'")).encode()
    result = collect(kc, send_frames(kc, content))
    assert result.status == "error"
    assert "lone surrogate U+D800 at character 10" in result.content["evalue"]
    nothing_lost(kc, tmp_path)
    assert execute(kc, "marker = 2", cell_id="lab-m").status == "ok"  # marker was never defined


def test_invalid_utf8_bytes_are_replaced_as_jupyter_client_reads_them(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    prepare(kc, tmp_path)
    content = b'{"code": "raw = \'\xff\xfe\'\\nprint(ascii(raw))", "silent": false}'
    result = collect(kc, send_frames(kc, content, metadata=b'{"cellId": "lab-raw"}'))
    assert result.status == "ok", result.content
    assert "'\\ufffd\\ufffd'" in result.text()
    nothing_lost(kc, tmp_path, ("raw = '\ufffd\ufffd'\nprint(ascii(raw))",))


def test_unreadable_frames_are_dropped_and_the_kernel_goes_on(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    """As ipykernel: a message that cannot be decoded has no parent to answer."""
    prepare(kc, tmp_path)
    not_json = send_frames(kc, b"\xff\xfe not json")
    surrogate_header = send_frames(kc, b'{"code": "1"}', header={"msg_id": "\ud800"})
    assert no_reply(kc, not_json)
    assert no_reply(kc, surrogate_header)
    nothing_lost(kc, tmp_path)


# -- execute_requests that reach do_execute but must not run ----------------
REFUSED: dict[str, tuple[Any, Any, str]] = {
    # name: (cellId, deletedCells, words the reply must hold)
    "cellId is a number": (5, None, "metadata.cellId must be a string, not a number"),
    "cellId is a list": (["lab-0"], None, "metadata.cellId must be a string, not a list"),
    "cellId is an object": ({"id": "lab-0"}, None, "must be a string, not an object"),
    "cellId is a boolean": (True, None, "must be a string, not a boolean"),
    "cellId is 1 MB": ("c" * 2**20, None, f"1048576 characters long; at most {MAX_CELL_ID}"),
    "deletedCells is a string": ("lab-m", "lab-0", "must be a list of cell ids, not a string"),
    "deletedCells is an object": ("lab-m", {"lab-0": 1}, "list of cell ids, not an object"),
    "deletedCells is a number": ("lab-m", 0, "must be a list of cell ids, not a number"),
    "deletedCells holds a number": ("lab-m", ["lab-0", 1], "item 1 is a number"),
    "deletedCells holds a list": ("lab-m", [["lab-0"]], "item 0 is a list"),
}


def test_malformed_cell_metadata_gets_an_error_reply_and_changes_nothing(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    prepare(kc, tmp_path)
    for case, (cell_id, deleted, words) in REFUSED.items():
        result = execute(kc, "marker = 1", cell_id=cell_id, deleted=deleted)
        assert result.status == "error", case
        assert result.content["ename"] == "InvalidRequest", case
        assert words in result.content["evalue"], case
        assert "the request was not run" in result.content["evalue"], case
        # No deletion happened (lab-0 defines base): nothing_lost sees base.
        nothing_lost(kc, tmp_path)
    # marker was never defined: another cell may define it.
    assert execute(kc, "marker = 2", cell_id="lab-m2").status == "ok"


def test_nul_bytes_in_code_are_a_syntax_error_kept_out_of_the_notebook(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    prepare(kc, tmp_path)
    result = execute(kc, "marker = 1\x00", cell_id="lab-nul")
    assert result.status == "error"
    assert result.content["ename"] == "SyntaxError"
    assert "cannot contain null bytes (at character 10)" in result.content["evalue"]
    nothing_lost(kc, tmp_path)  # the twin never holds the NUL (it could not be read back)
    assert execute(kc, "marker = 2", cell_id="lab-nul").status == "ok"


def test_code_of_10_mb(kc: BlockingKernelClient, tmp_path: Path) -> None:
    prepare(kc, tmp_path)
    code = "blob = '" + "x" * (10 * 2**20) + "'\nsize = len(blob)"
    assert execute(kc, code, cell_id="lab-big").status == "ok"
    result = execute(kc, "print(size)")
    assert result.status == "ok" and "10485760" in result.text()
    nothing_lost(kc, tmp_path, (code, "print(size)"))


DEEP: dict[str, tuple[str, str]] = {
    # name: (code, the error Python's compiler gives)
    "100,000 open parentheses": ("(" * 100_000, "SyntaxError"),
    "1+(1+(1+...)) 10^5 deep": ("1+(" * 100_000 + "1" + ")" * 100_000, "SyntaxError"),
    "1+1+...+1, 10^5 terms": ("deep = " + "+".join(["1"] * 100_000), "RecursionError"),
    "a.b.b... 10^5 deep": ("deep = base" + ".real" * 100_000, "RecursionError"),
    "f()()()... 10^5 calls": ("deep = base" + "()" * 100_000, "RecursionError"),
    "-(-(... 10^5 unary minus": ("deep = " + "-" * 100_000 + "1", "MemoryError"),
}


@pytest.mark.parametrize("case", list(DEEP))
def test_deeply_nested_code_fails_as_a_cell_and_kills_nothing(
    kc: BlockingKernelClient, tmp_path: Path, case: str
) -> None:
    """Neither the bridge (which parses every cell) nor the runtime dies.

    The cell stays in the notebook like any cell with a syntax error: the
    twin keeps it as an unparsable cell, its code verbatim.
    """
    prepare(kc, tmp_path)
    code, ename = DEEP[case]
    runs: list[Callable[[], Result]] = [
        lambda: execute(kc, code, cell_id="lab-deep"),
        lambda: execute(kc, code),  # id-less
        lambda: execute(kc, "%%scratch\n" + code),
    ]
    for run in runs:
        result = run()
        assert result.status == "error"
        assert result.content["ename"] == ename, result.content
    nothing_lost(kc, tmp_path, (code, code))


def test_code_too_deep_for_marimos_analysis_keeps_the_twin_saving(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    """A few hundred terms: Python parses it, marimo's codegen cannot walk it.

    Whatever the runtime makes of it, the twin keeps saving every change.
    """
    prepare(kc, tmp_path)
    code = "deep = " + "+".join(["1"] * 600)
    execute(kc, code, cell_id="lab-deep")
    nothing_lost(kc, tmp_path, (code,))
    assert execute(kc, "later = 1", cell_id="lab-later").status == "ok"
    wait_until(lambda: codes(tmp_path / "nb.py")[-1] == "later = 1", what="a later save")


# -- other requests ----------------------------------------------------------
def test_missing_optional_fields_take_ipykernels_defaults(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    count = prepare(kc, tmp_path)
    result = collect(kc, send(kc, "execute_request", {"code": "print(base + 1)"}))
    assert result.status == "ok" and "42" in result.text()
    assert result.content["execution_count"] == count + 1  # not silent: counted
    nothing_lost(kc, tmp_path, ("print(base + 1)",))


HANDLER_FAILS: list[tuple[str, Any]] = [
    ("complete_request", {}),
    ("inspect_request", {"code": "base"}),
    ("is_complete_request", {}),
    ("history_request", {"hist_access_type": "tail", "n": "ten"}),
    ("comm_info_request", ["not", "an", "object"]),
]


def test_a_request_whose_handler_fails_gets_an_error_reply(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    """ipykernel logs such a failure and sends nothing; a client would wait forever."""
    prepare(kc, tmp_path)
    for msg_type, content in HANDLER_FAILS:
        msg_id = send(kc, msg_type, content)
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["msg_type"] == msg_type.replace("_request", "_reply")
        assert reply["content"]["status"] == "error", msg_type
        assert reply["content"]["ename"] == "InvalidRequest"
        assert f"could not handle this {msg_type}" in reply["content"]["evalue"]
        nothing_lost(kc, tmp_path)


def test_shutdown_request_without_restart_is_answered_and_shuts_nothing(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    prepare(kc, tmp_path)
    msg = kc.session.msg("shutdown_request", {})
    kc.control_channel.send(msg)
    reply = kc.get_control_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    assert reply["content"]["status"] == "error"
    nothing_lost(kc, tmp_path)


def test_unknown_message_types_are_ignored_as_ipykernel_does(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    """No reply (the protocol has none for them), busy and idle on IOPub."""
    prepare(kc, tmp_path)
    shell = send(kc, "frobnicate_request", {"code": "base = 0"})
    assert iopub_of(kc, shell) == ["status", "status"]
    assert no_reply(kc, shell)
    control = kc.session.msg("frobnicate_request", {})
    kc.control_channel.send(control)
    assert iopub_of(kc, control["header"]["msg_id"]) == ["status", "status"]
    with pytest.raises(queue.Empty):
        kc.get_control_msg(timeout=1.0)
    nothing_lost(kc, tmp_path)
