"""Rich outputs render in JupyterLab as its users expect them to."""

from __future__ import annotations

import re
from pathlib import Path

from lab import Notebook, PageLog
from playwright.sync_api import expect

CITIES = 'import pandas as pd\ncities = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3, 19, 31]})'


def shoot(nb: Notebook, artifacts: Path, name: str, first: int = 0) -> None:
    nb.shot(artifacts / f"{name}.png", first)


def test_dataframe_is_a_table(notebook: Notebook, artifacts: Path) -> None:
    nb = notebook
    nb.type(0, CITIES + "\ncities")
    nb.run(0)

    table = nb.output(0).locator('[data-mime-type="text/html"] table')
    expect(table).to_be_visible()
    expect(table.locator("thead")).to_contain_text("city")
    expect(table.locator("thead")).to_contain_text("temp")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").nth(1)).to_contain_text("Lima")
    shoot(nb, artifacts, "output-dataframe")


def test_matplotlib_figure_is_an_image(notebook: Notebook, artifacts: Path) -> None:
    nb = notebook
    nb.type(
        0,
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(4, 2.5))\n"
        'ax.plot([1, 3, 2, 4], marker="o")\n'
        "fig",
    )
    nb.run(0)

    image = nb.output(0).locator('[data-mime-type="image/png"] img')
    expect(image).to_be_visible()
    # A decoded picture, not a broken-image icon.
    size = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] and size[1] > 100 and size[2] > 50, size
    expect(nb.output(0)).not_to_contain_text("Figure size")
    shoot(nb, artifacts, "output-matplotlib")


def test_matplotlib_show_is_an_image(notebook: Notebook) -> None:
    nb = notebook
    nb.type(0, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
    nb.run(0)
    expect(nb.output(0).locator('[data-mime-type="image/png"] img')).to_be_visible(timeout=5_000)


def test_a_figure_drawn_without_being_the_value_is_shown(notebook: Notebook) -> None:
    """As ipykernel's inline backend shows it (issue 20): once, in the cell."""
    nb = notebook
    nb.type(0, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.ylabel('y');")
    nb.run(0)
    images = nb.output(0).locator('[data-mime-type="image/png"] img')
    expect(images).to_have_count(1, timeout=15_000)
    size = images.evaluate("img => [img.complete, img.naturalWidth]")
    assert size[0] and size[1] > 100, size


def test_altair_chart_is_a_chart(notebook: Notebook, artifacts: Path, page_log: PageLog) -> None:
    nb = notebook
    nb.type(0, CITIES)
    nb.run(0, "Shift+Enter")
    nb.type(1, 'import altair as alt\nalt.Chart(cities).mark_bar().encode(x="city", y="temp")')
    nb.run(1)

    # altair 6 makes vega-lite v6; JupyterLab 4 renders v3 to v5 (vega-lite
    # 5 inside), so the kernel offers the spec as v5 too.
    chart = nb.output(1).locator(".jp-RenderedVegaLite")
    drawing = chart.locator(".vega-embed canvas.marks, .vega-embed svg.marks")
    expect(drawing).to_be_visible()
    box = drawing.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 100, box
    expect(chart).not_to_contain_text("Error")
    mismatch = [line for line in page_log.lines if "Vega-Lite v6" in line]
    assert not mismatch, mismatch
    shoot(nb, artifacts, "output-altair", first=1)


def test_markdown_is_formatted_text(notebook: Notebook, artifacts: Path) -> None:
    nb = notebook
    nb.type(
        0,
        'import marimo as mo\nmo.md("# Sales\\n\\nUp **12%** this *month*:\\n\\n- north\\n- south")',
    )
    nb.run(0)

    rendered = nb.output(0).locator('[data-mime-type="text/html"]')
    expect(rendered.locator("h1")).to_have_text("Sales")
    expect(rendered.locator("strong")).to_have_text("12%")
    expect(rendered.locator("em")).to_have_text("month")
    expect(rendered.locator("li")).to_have_count(2)
    expect(nb.output(0)).not_to_contain_text("**")
    shoot(nb, artifacts, "output-markdown")


def test_ui_element_without_a_widget_has_a_readable_fallback(
    notebook: Notebook, artifacts: Path
) -> None:
    """A slider is a live widget (test_widgets.py); a file upload has none."""
    nb = notebook
    nb.type(0, 'import marimo as mo\nupload = mo.ui.file(label="upload")\nupload')
    nb.run(0)

    shown = nb.output(0).locator(".jp-OutputArea-output").last
    expect(shown).to_contain_text("[marimo file, label='upload'")
    expect(shown).to_contain_text("interactive only in marimo")
    box = shown.bounding_box()
    assert box and box["height"] > 20, box  # not an empty box
    expect(nb.output(0).locator("marimo-file")).to_have_count(0)
    shoot(nb, artifacts, "output-ui-element")


def test_exception_is_a_red_traceback(notebook: Notebook, artifacts: Path) -> None:
    nb = notebook
    nb.type(0, "def explode(n):\n    return n / 0\n\nexplode(3)")
    nb.run(0)

    # In the cell's value display, which its next run replaces (a cell run
    # with a cellId shows its latest run only).
    error = nb.output(0)
    expect(error).to_contain_text("ZeroDivisionError: division by zero")
    expect(error).to_contain_text("Traceback")
    expect(error).to_contain_text(re.compile(r"Cell In\[1\], line \d+, in explode"))
    expect(error).not_to_contain_text("__marimo__")
    expect(error.locator(".ansi-red-fg").first).to_be_visible()
    shoot(nb, artifacts, "output-exception")


def test_jupyter_habits_time_and_a_redrawn_display(notebook: Notebook, artifacts: Path) -> None:
    """A %%time cell, and a display() loop that redraws with clear_output."""
    nb = notebook
    nb.type(0, "%%time\nimport time\ntime.sleep(0.2)\nanswer = 6 * 7\nanswer")
    nb.run(0, "Shift+Enter")
    expect(nb.output(0)).to_contain_text(re.compile(r"Wall time: \d+(\.\d+)? ms"))
    expect(nb.output(0)).to_contain_text("42")

    nb.type(
        1,
        "from IPython.display import clear_output\n"
        "for step in range(5):\n"
        "    clear_output(wait=True)\n"
        "    display(f'frame {step} of {answer}')\n"
        "    time.sleep(0.1)",
    )
    nb.run(1)
    expect(nb.output(1)).to_contain_text("frame 4 of 42")
    expect(nb.output(1)).not_to_contain_text("frame 3")
    shoot(nb, artifacts, "output-jupyter-habits")
