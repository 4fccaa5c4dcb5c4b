"""Widgets in JupyterLab: marimo's UI elements, ipywidgets and anywidgets are
live, and using one re-runs the cells that read it, each in its own place."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from lab import JupyterLab, Notebook
from playwright.sync_api import Locator, Page, expect

COUNTER = """import anywidget
import traitlets

class Counter(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { let b = document.createElement('button'); b.className = 'counter'; b.innerText = 'count ' + model.get('count'); b.onclick = () => { model.set('count', model.get('count') + 1); model.save_changes(); }; model.on('change:count', () => { b.innerText = 'count ' + model.get('count'); }); el.appendChild(b); } }"
    count = traitlets.Int(0).tag(sync=True)

counter = Counter()
counter"""


def widget(nb: Notebook, index: int, css: str) -> Locator:
    """A rendered widget in a cell's output."""
    found = nb.output(index).locator(css)
    expect(found.first).to_be_visible()
    return found.first


def set_slider(nb: Notebook, index: int, value: int) -> None:
    """Type a value into an ipywidgets slider's readout, as a user may."""
    readout = widget(nb, index, ".widget-readout")
    readout.click()
    nb.page.keyboard.press("Control+a")
    nb.page.keyboard.type(str(value))
    nb.page.keyboard.press("Enter")


def slider_and_dependent(nb: Notebook, dependent: str, value: int, shown: str) -> None:
    """A slider ``n`` (1 to 10) and a cell reading it, moved, then saved."""
    nb.type(0, "import marimo as mo\nn = mo.ui.slider(1, 10, value=2)\nn")
    nb.run(0, "Shift+Enter")
    nb.type(1, dependent)
    nb.run(1, "Shift+Enter")
    set_slider(nb, 0, value)
    expect(nb.output(1)).to_contain_text(shown)
    nb.page.keyboard.press("Control+s")
    expect(nb.page.locator(".jp-mod-dirty")).to_have_count(0)


def test_marimo_elements_drive_their_dependents(notebook: Notebook) -> None:
    nb = notebook
    nb.type(0, "import marimo as mo\nn = mo.ui.slider(1, 10, value=2, label='n')\nn")
    nb.run(0, "Shift+Enter")
    nb.type(1, "n.value * 100")
    nb.run(1, "Shift+Enter")
    expect(nb.output(1)).to_have_text(re.compile(r"^\s*200\s*$"))

    # Drag the handle to the right: the dependent follows, in its own cell.
    handle = widget(nb, 0, ".noUi-handle")
    box = handle.bounding_box()
    track = widget(nb, 0, ".noUi-target").bounding_box()
    assert box and track
    nb.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    nb.page.mouse.down()
    nb.page.mouse.move(track["x"] + track["width"] * 0.6, box["y"] + box["height"] / 2, steps=8)
    nb.page.mouse.up()
    expect(nb.output(1)).not_to_have_text(re.compile(r"^\s*200\s*$"))
    shown = widget(nb, 0, ".widget-readout").inner_text().strip()
    expect(nb.output(1)).to_have_text(re.compile(rf"^\s*{int(shown) * 100}\s*$"))
    set_slider(nb, 0, 7)
    expect(nb.output(1)).to_have_text(re.compile(r"^\s*700\s*$"))

    nb.type(2, "pick = mo.ui.dropdown(['red', 'green', 'blue'], value='red')\npick")
    nb.run(2, "Shift+Enter")
    nb.type(3, 'f"colour: {pick.value}"')
    nb.run(3, "Shift+Enter")
    expect(nb.output(3)).to_contain_text("colour: red")
    widget(nb, 2, "select").select_option("blue")
    expect(nb.output(3)).to_contain_text("colour: blue")

    nb.type(4, "name = mo.ui.text(value='Ada')\nname")
    nb.run(4, "Shift+Enter")
    nb.type(5, 'print("hello", name.value)')
    nb.run(5, "Shift+Enter")
    expect(nb.output(5)).to_contain_text("hello Ada")
    field = widget(nb, 4, "input")
    field.fill("Grace")
    field.press("Enter")
    expect(nb.output(5)).to_contain_text("hello Grace")
    expect(nb.output(5)).not_to_contain_text("hello Ada")

    nb.type(6, "go = mo.ui.run_button(label='go')\ngo")
    nb.run(6, "Shift+Enter")
    nb.type(7, "mo.stop(not go.value, 'press go')\n'went'")
    nb.run(7, "Shift+Enter")
    expect(nb.output(7)).to_contain_text("press go")
    widget(nb, 6, "button").click()
    expect(nb.output(7)).to_contain_text("'went'")
    for index in range(8):
        expect(nb.output(index)).not_to_contain_text("Error")


def test_slider_drives_a_chart(
    notebook: Notebook, readme_shot: Callable[[str], list[Path]]
) -> None:
    nb = notebook
    nb.type(0, "import marimo as mo\nfreq = mo.ui.slider(1, 8, value=2, label='frequency')\nfreq")
    nb.run(0, "Shift+Enter")
    nb.type(
        1,
        "import matplotlib.pyplot as plt\nimport numpy as np\n"
        "x = np.linspace(0, 2 * np.pi, 400)\nfig, ax = plt.subplots(figsize=(6, 2.4))\n"
        "ax.plot(x, np.sin(freq.value * x))\nax.set_title(f'sin({freq.value} x)')\nfig",
    )
    nb.run(1, "Shift+Enter")
    image = nb.output(1).locator("img")
    expect(image).to_be_visible()
    first = image.get_attribute("src")
    set_slider(nb, 0, 5)
    expect(image).not_to_have_attribute("src", first or "")
    expect(nb.output(1)).not_to_contain_text("Error")
    for path in readme_shot("widget-slider-chart"):
        nb.shot(path, 0, 1)


def test_ipywidgets_and_an_anywidget_are_live(notebook: Notebook) -> None:
    nb = notebook
    nb.type(
        0,
        "import ipywidgets as w\ns = w.IntSlider(value=3)\nt = w.IntText()\n"
        "s.observe(lambda change: setattr(t, 'value', change['new'] * 2), 'value')\n"
        "w.VBox([s, t])",
    )
    nb.run(0, "Shift+Enter")
    set_slider(nb, 0, 21)
    expect(widget(nb, 0, ".widget-text input")).to_have_value("42")

    nb.type(1, COUNTER)
    nb.run(1, "Shift+Enter")
    nb.type(2, "import marimo as mo\nlive = mo.ui.anywidget(counter)")
    nb.run(2, "Shift+Enter")
    nb.type(3, "live.value['count'] * 10")
    nb.run(3, "Shift+Enter")
    button = widget(nb, 1, "button.counter")
    expect(button).to_have_text("count 0")
    button.click()
    button.click()
    expect(button).to_have_text("count 2")
    expect(nb.output(3)).to_have_text(re.compile(r"^\s*20\s*$"))


def test_a_reloaded_page_gets_its_widgets_back(notebook: Notebook) -> None:
    nb = notebook
    slider_and_dependent(nb, "n.value + 1000", 4, "1004")

    nb.page.reload()
    nb.wait_idle()
    # The widget comes back from the kernel, with the value it has there,
    # and is live: a new cell reads the value set after the reload.
    expect(widget(nb, 0, ".widget-readout")).to_have_text("4")
    set_slider(nb, 0, 9)
    nb.type(2, "n.value")
    nb.run(2, "Shift+Enter")
    expect(nb.output(2)).to_have_text(re.compile(r"^\s*9\s*$"))
    # A reloaded page has forgotten which output showed which display, so
    # the dependent's old output stays until it runs again (docs/widgets.md);
    # from then on it follows the slider in place again.
    nb.run(1)
    expect(nb.output(1)).to_contain_text("1009")
    set_slider(nb, 0, 3)
    expect(nb.output(1)).to_contain_text("1003")


def test_widget_state_saved_in_the_notebook_does_not_confuse_the_next_session(
    page: Page, lab: JupyterLab, folder: Path
) -> None:
    """JupyterLab can save the widgets' state in the notebook; the next
    session shows it, then the kernel's own widgets take over."""
    setting = "/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin"
    lab.api("PUT", setting, {"raw": json.dumps({"saveState": True})})
    try:
        nb = Notebook.create(page, lab, folder)
        slider_and_dependent(nb, "n.value * 10", 6, "60")
        saved = json.loads((folder / nb.name).read_text())
        state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
        assert any(m["model_name"] == "IntSliderModel" for m in state["state"].values())

        # The next session: a new kernel, the page opened again.
        lab.shutdown_kernels()
        nb.page.reload()
        nb.wait_idle()
        # A new kernel counts from 1 again: the prompts tell nothing here.
        for index in (0, 1):
            nb.editor(index).click()
            nb.page.keyboard.press("Control+Enter")
            nb.wait_idle()
        expect(nb.output(1)).to_have_text(re.compile(r"^\s*20\s*$"))
        set_slider(nb, 0, 9)
        expect(nb.output(1)).to_have_text(re.compile(r"^\s*90\s*$"))
        for index in range(2):
            expect(nb.output(index)).not_to_contain_text("Error")
    finally:
        lab.api("PUT", setting, {"raw": "{}"})
