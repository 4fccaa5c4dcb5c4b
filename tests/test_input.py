"""input() and getpass() in a cell, over Jupyter's stdin channel."""

from __future__ import annotations

import signal
import threading
from typing import Any

from helpers import collect, execute


def answer_inputs(kc: Any, answers: list[str], prompts: list[dict[str, Any]]) -> threading.Thread:
    """Reply to each input_request with the next answer, as a frontend does."""

    def run() -> None:
        for answer in answers:
            msg = kc.get_stdin_msg(timeout=30)
            assert msg["msg_type"] == "input_request"
            prompts.append(msg["content"])
            kc.input(answer)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_input_asks_the_frontend_and_the_answer_reaches_the_cell(kc) -> None:
    prompts: list[dict[str, Any]] = []
    helper = answer_inputs(kc, ["Ada", "s3cret"], prompts)
    code = (
        "import getpass\n"
        "print('before asking')\n"
        "name = input('Your name: ')\n"
        "pw = getpass.getpass('Password: ')\n"
        "print(f'hello {name}, {len(pw)} chars')"
    )
    msg_id = kc.execute(code, allow_stdin=True)
    result = collect(kc, msg_id)
    helper.join(5)
    assert result.status == "ok", result.text()
    assert prompts == [
        {"prompt": "Your name: ", "password": False},
        {"prompt": "Password: ", "password": True},
    ]
    assert "before asking" in result.text() and "hello Ada, 6 chars" in result.text()


def test_without_stdin_the_cell_gets_eoferror_at_once(kc) -> None:
    # Also guards bridge.runtime.child's hook on marimo's private stdin class.
    result = execute(kc, "answer = input('never asked: ')", allow_stdin=False)
    assert result.status == "error" and result.content["ename"] == "EOFError"
    # Nobody was asked: nothing went out on the stdin channel.
    assert not kc.stdin_channel.msg_ready()
    assert execute(kc, "1 + 1").status == "ok"


def test_interrupt_while_waiting_for_input(kernel) -> None:
    km, kc = kernel
    msg_id = kc.execute("value = input('waiting: ')", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=30)
    assert request["msg_type"] == "input_request"
    km.signal_kernel(signal.SIGINT)
    result = collect(kc, msg_id, timeout=30)
    assert result.status == "error" and result.content["ename"] == "KeyboardInterrupt"
    # The kernel is fine afterwards and a new input works.
    prompts: list[dict[str, Any]] = []
    helper = answer_inputs(kc, ["again"], prompts)
    again = collect(kc, kc.execute("print(input('next: '))", allow_stdin=True))
    helper.join(5)
    assert again.status == "ok" and "again" in again.text()
