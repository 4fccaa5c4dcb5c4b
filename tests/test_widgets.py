"""Widgets through the real kernel, driven as JupyterLab's widget manager does:
ipywidgets and anywidgets made in cells, marimo's UI elements as widgets,
and a user's interactions re-running the cells that read them, in place."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from helpers import Notebook, Result, execute, runtime_process, wait_gone, wait_until
from jupyter_client.blocking.client import BlockingKernelClient
from widget_frontend import (
    Models,
    click,
    drain,
    send_comm,
    set_value,
    until_all_idle,
    until_idle,
)

VIEW = "application/vnd.jupyter.widget-view+json"

SLIDERS = """import ipywidgets as w
s = w.IntSlider(value=3)
t = w.IntText()
s.observe(lambda change: setattr(t, "value", change["new"] * 2), "value")
w.VBox([s, t])"""

COUNTER = """import anywidget
import traitlets

class Counter(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.innerText = model.get('count'); } }"
    count = traitlets.Int(0).tag(sync=True)

counter = Counter()"""


def run(kc: BlockingKernelClient, nb: Notebook, models: Models, cell: str, code: str) -> Any:
    result = nb.run(kc, cell, code)
    models.feed(result.outputs)
    assert result.status == "ok", result.text()
    return result


def shown(nb: Notebook, result: Any) -> None:
    """What the frontend does with the messages of an interaction."""
    nb.cells.setdefault("", [])
    nb.apply("", result)


def view_of(nb: Notebook, cell: str) -> str:
    """The model id of the widget view a cell shows."""
    views = [o["data"][VIEW]["model_id"] for o in nb.cells[cell] if VIEW in o["data"]]
    assert len(views) == 1, nb.cells[cell]
    return str(views[0])


def test_an_ipywidget_is_a_comm_and_its_observers_run(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", SLIDERS)
    slider = models.one("IntSliderModel")
    assert models.state[slider]["value"] == 3
    assert models.opened_with[slider] == {"version": "2.1.0"}
    box = view_of(nb, "c1")
    assert models.state[box]["_model_name"] == "VBoxModel"
    assert f"IPY_MODEL_{slider}" in models.state[box]["children"]
    assert "widget" in nb.shown("c1")  # text for frontends without widgets

    result = set_value(kc, models, nb, slider, {"value": 9})
    # The observer set the other widget, and the frontend was told.
    assert models.state[models.one("IntTextModel")]["value"] == 18
    assert result.idle["parent_header"]["msg_type"] == "comm_msg"
    assert execute(kc, "print(s.value, t.value)").text().strip() == "9 18"


def test_a_marimo_slider_drives_its_dependent_in_place(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 10, label='n')\nsl")
    run(kc, nb, models, "c2", "sl.value * 100")
    assert nb.shown("c2") == "100"
    slider = models.one("IntSliderModel")
    assert view_of(nb, "c1") == slider
    state = models.state[slider]
    assert (state["min"], state["max"], state["value"], state["description"]) == (1, 10, 1, "n")

    result = set_value(kc, models, nb, slider, {"value": 7})
    assert nb.shown("c2") == "700"  # updated in its own place
    updates = [m for m in result.outputs if m["msg_type"] == "update_display_data"]
    assert updates and all(m["parent_header"]["msg_type"] == "comm_msg" for m in updates)
    assert execute(kc, "sl.value").text().strip() == "7"


def test_a_dropdown_a_text_field_and_a_run_button(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(
        kc,
        nb,
        models,
        "c1",
        "import marimo as mo\ndd = mo.ui.dropdown(['a', 'b'], value='a')\n"
        "tx = mo.ui.text(value='hi')\nmo.hstack([dd, tx])",
    )
    run(kc, nb, models, "c2", "print(dd.value, tx.value)")
    assert nb.shown("c2").strip() == "a hi"
    assert models.state[view_of(nb, "c1")]["_model_name"] == "HBoxModel"
    set_value(kc, models, nb, models.one("DropdownModel"), {"index": 1})
    assert nb.shown("c2").strip() == "b hi"
    set_value(kc, models, nb, models.one("TextModel"), {"value": "yo"})
    assert nb.shown("c2").strip() == "b yo"

    run(kc, nb, models, "c3", "go = mo.ui.run_button(label='go')\ngo")
    run(kc, nb, models, "c4", "mo.stop(not go.value, 'not yet')\n'ran!'")
    assert nb.shown("c4") == "'not yet'"
    assert models.state[models.one("ButtonModel")]["description"] == "go"
    click(kc, models, nb, models.one("ButtonModel"))
    assert nb.shown("c4") == "'ran!'"


def test_an_array_of_elements_is_a_box_of_widgets(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(
        kc,
        nb,
        models,
        "c1",
        "import marimo as mo\narr = mo.ui.array([mo.ui.slider(0, 3), mo.ui.checkbox()], "
        "label='arr')\narr",
    )
    run(kc, nb, models, "c2", "arr.value")
    assert "false" in nb.shown("c2")
    set_value(kc, models, nb, models.one("IntSliderModel"), {"value": 2})
    set_value(kc, models, nb, models.one("CheckboxModel"), {"value": True})
    assert execute(kc, "print(arr.value)").text().strip() == "[2, True]"
    assert "arr" in [s.get("value") for s in models.state.values()]  # the label


def test_an_anywidget_round_trips_its_state(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", COUNTER)
    run(kc, nb, models, "c2", "import marimo as mo\ncw = mo.ui.anywidget(counter)\ncw")
    run(kc, nb, models, "c3", "cw.value['count'] * 10")
    model = models.one("AnyModel")
    assert view_of(nb, "c2") == model
    # anywidget's frontend needs the module: the kernel supplies it.
    assert models.state[model]["_esm"].startswith("export default")

    # A frontend may set the count, never the code.
    set_value(kc, models, nb, model, {"count": 4, "_esm": "alert('no')"})
    assert nb.shown("c3") == "40"
    check = execute(kc, "print(counter.count, counter._esm.startswith('export default'))")
    assert check.text().strip() == "4 True"

    # The kernel's own changes reach the frontend.
    result = run(kc, nb, models, "c4", "counter.count = 11")
    assert models.state[model]["count"] == 11, result.outputs


def test_comm_info_request_state_and_the_control_comm(kc: BlockingKernelClient) -> None:
    """What a reloaded JupyterLab page asks to get its widgets back."""
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", SLIDERS)
    run(kc, nb, models, "c2", "import marimo as mo\nsl = mo.ui.slider(1, 5)\nsl")
    slider = models.named("IntSliderModel")[0]
    set_value(kc, models, nb, slider, {"value": 42})

    kc.comm_info(target_name="jupyter.widget")
    reply = kc.get_shell_msg(timeout=30)
    assert reply["msg_type"] == "comm_info_reply"
    assert set(reply["content"]["comms"]) == set(models.state)
    assert all(c == {"target_name": "jupyter.widget"} for c in reply["content"]["comms"].values())
    kc.comm_info(target_name="something.else")
    assert kc.get_shell_msg(timeout=30)["content"]["comms"] == {}

    # One model's whole state, answered to the request that asked.
    asked = send_comm(kc, "comm_msg", {"comm_id": slider, "data": {"method": "request_state"}})
    answer = [m for m in until_idle(kc, asked).outputs if m["msg_type"] == "comm_msg"]
    assert len(answer) == 1 and answer[0]["parent_header"]["msg_id"] == asked
    assert answer[0]["content"]["data"]["state"]["value"] == 42
    assert answer[0]["content"]["data"]["state"]["_model_name"] == "IntSliderModel"

    # ipywidgets 8's way: every state at once on jupyter.widget.control.
    control = "control-comm"
    send_comm(
        kc,
        "comm_open",
        {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
    )
    asked = send_comm(kc, "comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
    answer = [m for m in until_idle(kc, asked).outputs if m["msg_type"] == "comm_msg"]
    data = answer[0]["content"]["data"]
    assert data["method"] == "update_states"
    assert set(data["states"]) == set(models.state)
    assert data["states"][slider]["model_name"] == "IntSliderModel"
    assert data["states"][slider]["state"]["value"] == 42
    send_comm(kc, "comm_close", {"comm_id": control, "data": {}})


def test_a_rerun_closes_the_old_comm_and_a_runtime_death_closes_all(kernel: Any) -> None:
    km, kc = kernel
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 10)\nsl")
    run(kc, nb, models, "c2", COUNTER + "\ncounter")
    old_slider, old_counter = models.one("IntSliderModel"), models.one("AnyModel")
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 20)\nsl")
    assert old_slider in models.closed
    assert models.state[models.one("IntSliderModel")]["max"] == 20
    run(kc, nb, models, "c2", COUNTER + "\ncounter.count = 5\ncounter")
    assert old_counter in models.closed and models.state[models.one("AnyModel")]["count"] == 5

    runtime = runtime_process(km)
    runtime.kill()
    assert wait_gone(runtime.pid, reaped=True)
    # The closes go out when the death is noticed, under the latest request.
    models.feed(drain(kc))
    left = sorted(s["_model_name"] for s in models.state.values())
    assert left == [], "every widget's comm is closed with its runtime"
    assert execute(kc, "1 + 1").status == "ok"


def test_bad_widget_input_loses_nothing(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 10)\nsl")
    run(
        kc, nb, models, "c2", COUNTER + "\nimport marimo as mo2\ncw = mo2.ui.anywidget(counter)\ncw"
    )
    slider, model = models.one("IntSliderModel"), models.one("AnyModel")
    set_value(kc, models, nb, slider, {"value": 7})

    def comm_msg(comm_id: Any, data: Any, buffers: list[bytes] | None = None) -> Any:
        return until_idle(
            kc, send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": data}, buffers)
        )

    # A string for a slider: refused, and the frontend is set back to 7.
    wrong = set_value(kc, models, nb, slider, {"value": "seven"})
    assert models.state[slider]["value"] == 7, wrong.outputs
    # Unknown comms, malformed data, unknown methods, a huge state.
    comm_msg("no-such-comm", {"method": "update", "state": {"value": 1}})
    comm_msg(slider, "not a dict")
    comm_msg(slider, {"method": "update", "state": ["not", "a", "dict"]})
    comm_msg(slider, {"method": "frobnicate"})
    comm_msg(model, {"method": "update", "state": {"count": "many"}})
    comm_msg(model, {"method": "update", "state": {"count": 1}, "buffer_paths": "x"})
    comm_msg(model, {"method": "update", "state": {"blob": "x" * (40 * 1024 * 1024)}})
    comm_msg(None, {"method": "update"})
    until_idle(kc, send_comm(kc, "comm_open", {"comm_id": "x", "target_name": "no.such"}))
    # Nothing changed, and the kernel goes on.
    check = execute(kc, "print(sl.value, counter.count)")
    assert check.status == "ok" and check.text().strip() == "7 0"
    assert execute(kc, "1 + 1").status == "ok"


def test_a_failing_dependent_shows_its_error_in_its_place(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 10, value=2)\nsl")
    run(kc, nb, models, "c2", "10 / (sl.value - 5)")
    set_value(kc, models, nb, models.one("IntSliderModel"), {"value": 5})
    assert "ZeroDivisionError" in nb.shown("c2")
    set_value(kc, models, nb, models.one("IntSliderModel"), {"value": 7})
    assert nb.shown("c2") == "5.0"  # healed: its latest run only


def test_a_burst_of_drags_runs_a_few_times_and_ends_on_the_last_value(
    kc: BlockingKernelClient, tmp_path: Path
) -> None:
    log = tmp_path / "runs.txt"
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(0, 200)\nsl")
    run(
        kc,
        nb,
        models,
        "c2",
        f"import time\ntime.sleep(0.05)\nwith open({str(log)!r}, 'a') as f:\n"
        "    f.write(f'{sl.value}\\n')\nsl.value",
    )
    slider = models.one("IntSliderModel")
    sent = [
        send_comm(
            kc,
            "comm_msg",
            {
                "comm_id": slider,
                "data": {"method": "update", "state": {"value": v}, "buffer_paths": []},
            },
        )
        for v in range(1, 101)
    ]
    # The first event holds the shell; the others come in beside it, as
    # ipykernel takes comm messages while a request runs (no busy/idle).
    seen = until_all_idle(kc, sent[:1])
    wait_until(lambda: log.read_text().endswith("100\n"), what="the last value's run")
    seen += drain(kc)
    nb.cells.setdefault("", [])
    nb.apply("", Result({}, [m for m in seen if m["msg_type"] != "status"], {}))
    runs = log.read_text().split()
    assert runs[-1] == "100"
    assert len(runs) < 50, f"{len(runs)} runs for 100 events"
    assert nb.shown("c2") == "100"


def test_an_interrupt_stops_a_long_dependent_run(kernel: Any) -> None:
    km, kc = kernel
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 10)\nsl")
    run(kc, nb, models, "c2", "import time\nif sl.value > 5:\n    time.sleep(60)\nsl.value")
    slider = models.one("IntSliderModel")
    msg_id = send_comm(
        kc,
        "comm_msg",
        {
            "comm_id": slider,
            "data": {"method": "update", "state": {"value": 9}, "buffer_paths": []},
        },
    )
    time.sleep(1.5)
    km.interrupt_kernel()
    shown(nb, until_idle(kc, msg_id, timeout=30))
    assert "KeyboardInterrupt" in nb.shown("c2") or "interrupted" in nb.shown("c2").lower()
    assert execute(kc, "sl.value").text().strip() == "9"


def test_vscode_widget_message_shapes(kc: BlockingKernelClient) -> None:
    """VS Code's widget manager (ipywidgets 8 in a webview) through its
    kernel connection: its header, empty metadata, and the same methods."""
    vscode = {"username": "vscode", "version": "5.3"}
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nsl = mo.ui.slider(1, 10)\nsl")
    run(kc, nb, models, "c2", "sl.value + 1")
    slider = models.one("IntSliderModel")
    msg = kc.session.msg("comm_info_request", {"target_name": "jupyter.widget"})
    msg["header"].update(vscode)
    kc.shell_channel.send(msg)
    assert slider in kc.get_shell_msg(timeout=30)["content"]["comms"]
    control = send_comm(
        kc,
        "comm_open",
        {"comm_id": "vsc-control", "target_name": "jupyter.widget.control", "data": {}},
        **vscode,
    )
    until_idle(kc, control)
    asked = send_comm(
        kc, "comm_msg", {"comm_id": "vsc-control", "data": {"method": "request_states"}}, **vscode
    )
    states = [m for m in until_idle(kc, asked).outputs if m["msg_type"] == "comm_msg"]
    assert slider in states[0]["content"]["data"]["states"]
    drag = send_comm(
        kc,
        "comm_msg",
        {
            "comm_id": slider,
            "data": {"method": "update", "state": {"value": 4}, "buffer_paths": []},
        },
        **vscode,
    )
    shown(nb, until_idle(kc, drag))
    assert nb.shown("c2") == "5"
    # The old protocol's version target is not ours: closed, as ipykernel does.
    asked = send_comm(
        kc,
        "comm_open",
        {"comm_id": "v", "target_name": "jupyter.widget.version", "data": {}},
        **vscode,
    )
    closes = [m for m in until_idle(kc, asked).outputs if m["msg_type"] == "comm_close"]
    assert [m["content"]["comm_id"] for m in closes] == ["v"]


def test_a_form_submits_and_a_dictionary_sets_its_entries(kc: BlockingKernelClient) -> None:
    nb, models = Notebook(), Models()
    run(kc, nb, models, "c1", "import marimo as mo\nf = mo.ui.text(label='name').form()\nf")
    run(kc, nb, models, "c2", "print('submitted:', f.value)")
    assert nb.shown("c2").strip() == "submitted: None"
    set_value(kc, models, nb, models.one("TextModel"), {"value": "Ada"})
    assert nb.shown("c2").strip() == "submitted: None", "typing alone submits nothing"
    submit = models.one("ButtonModel")
    assert models.state[submit]["description"] == "Submit"
    click(kc, models, nb, submit)
    assert nb.shown("c2").strip() == "submitted: Ada"

    run(
        kc,
        nb,
        models,
        "c3",
        "d = mo.ui.dictionary({'alpha': mo.ui.number(0, 5), 'beta': mo.ui.switch()})\nd",
    )
    run(kc, nb, models, "c4", "print(sorted(d.value.items()))")
    labels = {s.get("value") for s in models.state.values() if s["_model_name"] == "LabelModel"}
    assert {"alpha", "beta"} <= labels
    set_value(kc, models, nb, models.one("BoundedIntTextModel"), {"value": 4})
    set_value(kc, models, nb, models.one("CheckboxModel"), {"value": True})
    assert nb.shown("c4").strip() == "[('alpha', 4), ('beta', True)]"
