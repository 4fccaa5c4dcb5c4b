"""Completion, inspection, is_complete, history and comm_info, as a frontend sees them."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import collect, execute, logged_kernel, runtime_process
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

REPLY_TIMEOUT = 30


def reply_to(
    kc: BlockingKernelClient, msg_id: str, timeout: float = REPLY_TIMEOUT
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def complete(kc: BlockingKernelClient, code: str, cursor_pos: int | None = None) -> dict[str, Any]:
    msg_id = kc.complete(code, len(code) if cursor_pos is None else cursor_pos)
    return dict(reply_to(kc, msg_id)["content"])


def inspect(kc: BlockingKernelClient, code: str, detail_level: int = 0) -> dict[str, Any]:
    msg_id = kc.inspect(code, len(code), detail_level)
    return dict(reply_to(kc, msg_id)["content"])


def kinds(content: dict[str, Any]) -> dict[str, str]:
    return {t["text"]: t["type"] for t in content["metadata"]["_jupyter_types_experimental"]}


FUNCTION = '''def my_function(x, y=1):
    """Add y to x.

    The sum is returned.
    """
    return x + y
'''


def test_completion_offers_notebook_names_with_their_kind(kc: BlockingKernelClient) -> None:
    assert execute(kc, "my_variable = 1").status == "ok"
    assert execute(kc, FUNCTION).status == "ok"
    # A runtime's first answer (jedi starting) can come after the quick one
    # from the notebook's names, which has no kinds; an attribute has no quick
    # answer, so this completion waits for the runtime.
    assert "path" in complete(kc, "import os; os.pa")["matches"]
    content = complete(kc, "my_")
    assert content["status"] == "ok"
    assert {"my_variable", "my_function"} <= set(content["matches"])
    assert (content["cursor_start"], content["cursor_end"]) == (0, 3)
    assert kinds(content)["my_function"] == "function"
    assert kinds(content)["my_variable"] == "statement"
    signature = {
        t["text"]: t["signature"] for t in content["metadata"]["_jupyter_types_experimental"]
    }
    assert signature["my_function"] == "(x, y=1)"


def test_completion_of_a_module_attribute(kc: BlockingKernelClient) -> None:
    code = "import os; os.pa"
    content = complete(kc, code)
    assert "path" in content["matches"]
    assert (content["cursor_start"], content["cursor_end"]) == (len(code) - 2, len(code))
    # The cursor in the middle of the code completes what is before it.
    content = complete(kc, "import os; os.pa\nx = 1", cursor_pos=len(code))
    assert "path" in content["matches"]


def test_completion_answers_while_a_cell_runs(kc: BlockingKernelClient) -> None:
    assert execute(kc, "my_variable = 1").status == "ok"
    running = kc.execute("import time; time.sleep(5)")
    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:  # the cell has started once its input is announced
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == running and msg["msg_type"] == "execute_input":
            break
    msg_id = kc.complete("my_var", 6)
    # Answered while the cell still runs: its reply comes before the cell's.
    first = kc.get_shell_msg(timeout=REPLY_TIMEOUT)
    assert first["parent_header"]["msg_id"] == msg_id, "the completion waited for the cell"
    assert "my_variable" in first["content"]["matches"]
    result = collect(kc, running)
    assert result.status == "ok"


def test_pygments_lazy_modules_are_loaded_before_any_runtime_thread(
    kc: BlockingKernelClient,
) -> None:
    """A completion's docstring (markdown, so pygments) and a cell's first
    traceback (pygments) once imported pygments.lexers in two threads at
    once, and the cell showed "marimo encountered an internal error" instead
    of its ZeroDivisionError (CPython's race with modules that replace
    themselves in sys.modules: 1 in 30 in a plain two-thread script here).
    The runtime imports them before it starts a thread; its first cell finds
    them loaded, and its first error is its own."""
    probe = (
        "import sys as _s\n"
        "print(sorted(n for n in ('pygments.lexers', 'pygments.formatters')\n"
        "      if type(_s.modules.get(n)).__name__ == '_automodule'))"
    )
    result = execute(kc, probe)
    assert result.status == "ok"
    assert "['pygments.formatters', 'pygments.lexers']" in result.text()
    failing = execute(kc, "1 / 0")
    assert failing.status == "error"
    assert failing.content["ename"] == "ZeroDivisionError"


@pytest.fixture
def cold_kernel(tmp_path: Path) -> Iterator[tuple[KernelManager, BlockingKernelClient, Path]]:
    """A fresh kernel whose log is kept; jedi's cache is empty, as on a fresh
    machine (jedi keeps it under $XDG_CACHE_HOME)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {**os.environ, "MARIMO_BRIDGE_TWIN": "0", "XDG_CACHE_HOME": str(cache)}
    with logged_kernel(tmp_path, env) as started:
        yield started


def test_the_first_completion_of_a_cold_kernel_is_right(
    cold_kernel: tuple[KernelManager, BlockingKernelClient, Path],
) -> None:
    """Tab pressed at once in a notebook just opened, jedi's cache empty:
    the runtime is still starting and jedi has read nothing yet."""
    _, kc, log = cold_kernel
    code = "import os; os.pa"
    content = complete(kc, code)
    assert content["status"] == "ok"
    assert "path" in content["matches"], log.read_text()
    assert (content["cursor_start"], content["cursor_end"]) == (len(code) - 2, len(code))
    assert "zip" in complete(kc, "zi")["matches"]
    assert execute(kc, "x = 1").status == "ok"


def test_a_cold_runtime_still_completes_the_notebook_names_at_once(
    cold_kernel: tuple[KernelManager, BlockingKernelClient, Path],
) -> None:
    """A fresh machine: the runtime's first answer takes seconds (jedi reads
    the builtins' stubs with its cache empty), and JupyterLab drops an answer
    that takes over a second; in CI the first Tab of the browser suite showed
    nothing. The notebook's names, the builtins and the keywords are answered
    without the runtime, here one that cannot answer at all."""
    km, kc, log = cold_kernel
    assert execute(kc, "monthly_income = 4200\nmonthly_rent = 1300").status == "ok"
    runtime = runtime_process(km)
    os.kill(runtime.pid, signal.SIGSTOP)
    try:
        content = complete(kc, "x = monthly_")
        assert content["matches"] == ["monthly_income", "monthly_rent"], log.read_text()
        assert (content["cursor_start"], content["cursor_end"]) == (4, 12)
        content = complete(kc, "zi")
        assert content["matches"] == ["zip"]
        assert kinds(content) == {"zip": "class"}
    finally:
        os.kill(runtime.pid, signal.SIGCONT)
    # The runtime's own answer, once it comes, is the one given.
    assert "path" in complete(kc, "import os; os.pa")["matches"]
    assert kinds(complete(kc, "monthly_"))["monthly_income"] != "<unknown>"


def test_completion_survives_a_cache_left_half_written(tmp_path: Path) -> None:
    """jedi's parse cache (parso's pickles, shared by every kernel of the
    user) once held an empty pickle, left by a runtime killed while writing
    it; every later completion of every kernel came back empty."""
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {**os.environ, "MARIMO_BRIDGE_TWIN": "0", "XDG_CACHE_HOME": str(cache)}
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    # Attributes: the kernel has no quick answer for them, so these are
    # jedi's, through the cache (a name could be answered without it).
    with logged_kernel(first, env) as (_, kc, _):
        assert "path" in complete(kc, "import os; os.pa")["matches"]
    pickles = list(cache.rglob("*.pkl"))
    assert pickles, "jedi kept no parse cache here"
    for pickle in pickles:
        pickle.write_bytes(b"")
    with logged_kernel(second, env) as (_, kc, log):
        assert execute(kc, "my_variable = 1").status == "ok"
        assert "path" in complete(kc, "import os; os.pa")["matches"], log.read_text()
        assert "my_variable" in complete(kc, "my_")["matches"]
        assert "zip" in complete(kc, "zi")["matches"]


def test_the_first_inspection_of_a_cold_kernel_is_right(
    cold_kernel: tuple[KernelManager, BlockingKernelClient, Path],
) -> None:
    _, kc, _ = cold_kernel
    content = inspect(kc, "import json; json.dumps", detail_level=1)
    assert content["found"] is True
    assert "def dumps(" in content["data"]["text/plain"]


def test_a_runtime_that_does_not_answer_gives_an_empty_reply(
    cold_kernel: tuple[KernelManager, BlockingKernelClient, Path],
) -> None:
    km, kc, log = cold_kernel
    assert execute(kc, "my_variable = 1").status == "ok"
    # Answered once: the runtime is warm, and a silence now means it is stuck.
    assert "path" in complete(kc, "import os; os.pa")["matches"]
    runtime = runtime_process(km)
    os.kill(runtime.pid, signal.SIGSTOP)
    try:
        # Answered, not hung: an empty reply. (No quick answer from the
        # notebook's names either: a warm, idle runtime has no reason to be
        # slow, and its kinds and docs are worth the wait.)
        content = complete(kc, "my_var")
        assert content["status"] == "ok"
        assert content["matches"] == []
        assert inspect(kc, "my_variable")["found"] is False
    finally:
        os.kill(runtime.pid, signal.SIGCONT)
    assert "the marimo runtime did not answer within" in log.read_text()
    # Late answers to the abandoned requests go nowhere; the next one works.
    assert "my_variable" in complete(kc, "my_var")["matches"]
    assert execute(kc, "print(my_variable)").text().strip() == "1"


def test_inspect_shows_signature_and_docstring_of_a_notebook_function(
    kc: BlockingKernelClient,
) -> None:
    assert execute(kc, FUNCTION).status == "ok"
    content = inspect(kc, "my_function(1, ")
    assert content["status"] == "ok" and content["found"] is True
    plain = content["data"]["text/plain"]
    assert "Signature: my_function(x, y=1)" in plain
    assert "Add y to x." in plain and "The sum is returned." in plain
    assert "Type:      function" in plain
    assert "Add y to x." in content["data"]["text/markdown"]
    assert "return x + y" not in plain

    detailed = inspect(kc, "my_function", detail_level=1)
    assert detailed["found"] is True
    assert "def my_function(x, y=1):" in detailed["data"]["text/plain"]
    assert "return x + y" in detailed["data"]["text/plain"]
    assert "return x + y" in detailed["data"]["text/markdown"]


def test_inspect_of_imported_names_and_of_nothing(kc: BlockingKernelClient) -> None:
    assert execute(kc, "import json").status == "ok"
    content = inspect(kc, "json.dumps")
    assert content["found"] is True
    assert "Signature: dumps(" in content["data"]["text/plain"]
    assert "JSON" in content["data"]["text/plain"]
    source = inspect(kc, "json.dumps", detail_level=1)["data"]["text/plain"]
    assert "def dumps(" in source and "File:" in source

    assert execute(kc, "answer = 42").status == "ok"
    assert "int" in inspect(kc, "answer")["data"]["text/plain"]
    assert inspect(kc, "no_such_name_anywhere")["found"] is False
    assert inspect(kc, "   ")["found"] is False


def test_is_complete(kc: BlockingKernelClient) -> None:
    def check(code: str) -> dict[str, Any]:
        return dict(reply_to(kc, kc.is_complete(code))["content"])

    assert check("x = 1") == {"status": "complete"}
    assert check("for i in range(3):") == {"status": "incomplete", "indent": "    "}
    assert check("def f():\n    if x:") == {"status": "incomplete", "indent": "        "}
    assert check("x = (1,") == {"status": "incomplete", "indent": ""}
    assert check("if x:\n    y = 1") == {"status": "incomplete", "indent": "    "}
    assert check("if x:\n    y = 1\n") == {"status": "complete"}
    assert check("x = )")["status"] == "invalid"


def test_history_tail_range_and_search(kc: BlockingKernelClient) -> None:
    codes = ["a = 1", "b = a + 1", "print(b)", "c = b * 2"]
    for code in codes:
        assert execute(kc, code).status == "ok"
    assert execute(kc, "scratch = 1", store_history=False).status == "ok"
    assert execute(kc, "1 + 1", silent=True).status == "ok"

    def history(**kw: Any) -> list[list[Any]]:
        return list(reply_to(kc, kc.history(**kw))["content"]["history"])

    tail = history(hist_access_type="tail", n=3, output=False, raw=True)
    assert [h[2] for h in tail] == codes[1:]
    session, first = tail[0][0], tail[0][1]
    assert [h[1] for h in tail] == [first, first + 1, first + 2]

    with_output = history(hist_access_type="tail", n=1, output=True, raw=True)
    assert with_output == [[session, first + 2, ["c = b * 2", None]]]

    def ranged(**kw: Any) -> list[str]:
        return [h[2] for h in history(hist_access_type="range", output=False, raw=True, **kw)]

    assert ranged(session=session, start=first, stop=first + 2) == codes[1:3]
    assert ranged(session=0, start=first + 2) == codes[3:]  # 0: this session

    assert execute(kc, "b = a + 1", cell_id="again").status == "error"  # b defined twice
    found = history(hist_access_type="search", pattern="b = *", output=False, raw=True)
    assert [h[2] for h in found] == ["b = a + 1", "b = a + 1"]
    unique = history(
        hist_access_type="search", pattern="b = *", unique=True, output=False, raw=True
    )
    assert [h[2] for h in unique] == ["b = a + 1"] and unique[0][1] == found[-1][1]
    assert len(history(hist_access_type="search", pattern="*", n=2, output=False, raw=True)) == 2

    # Only the fields it needs: output and raw take ipykernel's defaults.
    msg = kc.session.msg("history_request", {"hist_access_type": "tail", "n": 2})
    kc.shell_channel.send(msg)
    short = reply_to(kc, msg["header"]["msg_id"])["content"]
    # The last two inputs: the failed redefinition counts, as in IPython.
    assert short["status"] == "ok"
    assert [h[2] for h in short["history"]] == ["c = b * 2", "b = a + 1"]


def announced(kc: BlockingKernelClient, msg_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The reply to an execute_request and the execute_input messages it caused."""
    reply = reply_to(kc, msg_id)
    inputs = []
    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_input":
            inputs.append(msg["content"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return dict(reply["content"]), inputs


def test_comm_info(kc: BlockingKernelClient) -> None:
    content = reply_to(kc, kc.comm_info())["content"]
    assert content == {"status": "ok", "comms": {}}


def test_execution_count_and_execute_input(kc: BlockingKernelClient) -> None:
    first, inputs = announced(kc, kc.execute("x = 1"))
    assert inputs == [{"code": "x = 1", "execution_count": first["execution_count"]}]
    second, inputs = announced(kc, kc.execute("y = 2"))
    assert second["execution_count"] == first["execution_count"] + 1
    assert inputs == [{"code": "y = 2", "execution_count": second["execution_count"]}]

    # A silent request neither counts nor announces itself.
    reply, inputs = announced(kc, kc.execute("z = 3", silent=True))
    assert reply["status"] == "ok" and inputs == []
    third, _ = announced(kc, kc.execute("w = 4"))
    assert third["execution_count"] == second["execution_count"] + 1

    # store_history=False is announced with the next number but, as in
    # IPython, does not use it up: the next counted request gets it.
    reply, inputs = announced(kc, kc.execute("print('hi')", store_history=False))
    assert [i["code"] for i in inputs] == ["print('hi')"]
    assert inputs[0]["execution_count"] == third["execution_count"] + 1
    fourth, inputs = announced(kc, kc.execute("v = 5"))
    assert fourth["execution_count"] == third["execution_count"] + 1
    assert inputs[0]["execution_count"] == fourth["execution_count"]
