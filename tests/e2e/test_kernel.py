"""The kernel's controls from JupyterLab: interrupt, input(), completion, restart."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from lab import Notebook
from playwright.sync_api import expect


def test_interrupt_from_the_toolbar_stops_a_long_cell(notebook: Notebook) -> None:
    nb = notebook
    nb.type(0, 'import time\nprint("started")\nfor _i in range(3000): time.sleep(0.1)')
    before = nb.start(0)
    # The cell is inside its loop once its console shows what it printed.
    expect(nb.output(0)).to_contain_text("started")

    nb.toolbar("notebook:interrupt-kernel").click()

    nb.wait_done([0], [before])  # long before the loop's 300 s
    expect(nb.output(0)).to_contain_text("KeyboardInterrupt")
    # The kernel goes on: the next cell runs.
    nb.append("1 + 1")
    nb.run(1)
    expect(nb.output(1)).to_have_text(re.compile(r"^\s*2\s*$"))


def test_input_shows_a_box_and_the_answer_arrives(notebook: Notebook) -> None:
    nb = notebook
    nb.type(0, 'name = input("your name? ")\nprint("hello,", name)')
    before = nb.start(0)

    box = nb.output(0).locator("input.jp-Stdin-input")
    expect(box).to_be_visible()
    expect(nb.output(0).locator(".jp-Stdin-prompt")).to_contain_text("your name?")
    box.click()
    nb.page.keyboard.type("Ada")
    nb.page.keyboard.press("Enter")

    nb.wait_done([0], [before])
    expect(nb.output(0)).to_contain_text("hello, Ada")
    expect(nb.output(0)).not_to_contain_text("Error")


def test_tab_completion_lists_notebook_names(
    notebook: Notebook, readme_shot: Callable[[str], list[Path]]
) -> None:
    nb = notebook
    nb.type(0, "monthly_income = 4200\nmonthly_rent = 1300")
    nb.run(0, "Shift+Enter")
    nb.type(1, "monthly_")

    nb.page.keyboard.press("Tab")

    completer = nb.page.locator(".jp-Completer")
    expect(completer).to_be_visible()
    items = completer.locator(".jp-Completer-item")
    expect(items.filter(has_text="monthly_income")).to_have_count(1)
    expect(items.filter(has_text="monthly_rent")).to_have_count(1)
    nb.page.screenshot(path=readme_shot("completion")[0])
    # Choosing one puts it in the cell.
    items.filter(has_text="monthly_rent").click()
    expect(completer).to_be_hidden()
    assert nb.code(1) == "monthly_rent"
    nb.run(1)
    expect(nb.output(1)).to_have_text(re.compile(r"^\s*1300\s*$"))


def test_restart_keeps_the_twin_intact(
    notebook: Notebook, readme_shot: Callable[[str], list[Path]]
) -> None:
    nb = notebook
    codes = [
        "rate = 0.2",
        "income = 5000\ntax = income * rate",
        'print(f"tax: {tax}")',
    ]
    for index, code in enumerate(codes):
        nb.type(index, code)
        nb.run(index, "Shift+Enter")
    expect(nb.output(2)).to_contain_text("tax: 1000.0")
    before = nb.wait_twin(*codes)
    assert before.count("@app.cell") == 3, before

    # Saved, the notebook and its twin sit side by side.
    nb.page.keyboard.press("Control+s")
    expect(nb.page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)
    nb.page.locator('.jp-FileBrowser-toolbar [data-command="filebrowser:refresh"]').click()
    listing = nb.page.locator(".jp-DirListing-content")
    expect(listing.locator(".jp-DirListing-item", has_text=nb.name)).to_be_visible()
    listing.locator(".jp-DirListing-item", has_text=nb.twin.name).dblclick()
    editor = nb.page.locator(".jp-FileEditor .cm-content")
    expect(editor).to_contain_text("import marimo")
    nb.dock_right(nb.twin.name)
    expect(editor).to_contain_text('print(f"tax: {tax}")')
    expect(nb.output(2)).to_be_visible()
    for path in readme_shot("twin-file"):
        nb.page.screenshot(path=path, animations="disabled", caret="hide")

    nb.editor(2).click()  # the Kernel menu acts on the notebook in focus
    nb.menu("Kernel", "Restart Kernel…")
    dialog = nb.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Restart")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_be_hidden()
    nb.wait_idle()

    # Run the last cell only: the restarted runtime knows every cell of the
    # twin and runs the ancestors it needs.
    nb.run(2)
    assert nb.prompt(2) == "[1]:", "the kernel did not restart"
    expect(nb.output(2)).to_contain_text("tax: 1000.0")
    expect(nb.output(2)).not_to_contain_text("Error")
    after = nb.wait_twin(*codes)
    assert after.count("@app.cell") == 3, after


def test_load_fills_the_cell_and_run_defines_a_scripts_names(notebook: Notebook) -> None:
    """%load is a request to JupyterLab (set_next_input): the cell's text
    becomes the file's, nothing runs; run again, it is an ordinary cell. A
    %run cell gives later cells the script's names."""
    nb = notebook
    (nb.folder / "exercise.py").write_text("def solve():\n    return 42\n")
    (nb.folder / "helpers.py").write_text("def triple(x):\n    return 3 * x\n")
    nb.type(0, "%load exercise.py")
    nb.run(0)
    expect(nb.editor(0)).to_contain_text("def solve():")
    assert nb.code(0) == "# %load exercise.py\ndef solve():\n    return 42"
    nb.run(0)
    last = nb.append("%run helpers.py")
    nb.run(last)
    reader = nb.append("triple(solve())")
    nb.run(reader)
    expect(nb.output(reader)).to_contain_text("126")
