"""Reactive runs seen in JupyterLab: each cell shows its own latest run."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from lab import Notebook
from playwright.sync_api import expect


def test_edit_updates_dependents_in_their_own_cells(
    notebook: Notebook, readme_shot: Callable[[str], list[Path]]
) -> None:
    nb = notebook
    nb.type(0, "price = 10")
    nb.run(0, "Shift+Enter")
    nb.type(1, 'total = price * 3\nprint("total is", total)\ntotal')
    nb.run(1, "Shift+Enter")
    nb.type(2, 'label = f"{total} EUR"\nlabel')
    nb.run(2, "Shift+Enter")
    expect(nb.output(1)).to_contain_text("total is 30")
    expect(nb.output(2)).to_contain_text("'30 EUR'")

    nb.type(0, "price = 250")
    nb.run(0)

    expect(nb.output(1)).to_contain_text("total is 750")
    expect(nb.output(1)).to_contain_text("750")
    expect(nb.output(1)).not_to_contain_text("total is 30")
    expect(nb.output(2)).to_have_text(re.compile(r"^\s*'750 EUR'\s*$"))
    expect(nb.output(0)).to_contain_text("↻ re-ran: Cell In[2] ✓, Cell In[3] ✓")
    # The dependents ran inside the edited cell's request: their prompts stay.
    assert (nb.prompt(1), nb.prompt(2)) == ("[2]:", "[3]:")
    for path in readme_shot("reactive-update"):
        nb.shot(path, 0, 2)


def test_failing_dependent_shows_its_error_and_is_named(
    notebook: Notebook, readme_shot: Callable[[str], list[Path]]
) -> None:
    nb = notebook
    nb.type(0, "divisor = 2")
    nb.run(0, "Shift+Enter")
    nb.type(1, "ratio = 10 / divisor\nratio")
    nb.run(1, "Shift+Enter")
    expect(nb.output(1)).to_contain_text("5.0")

    nb.type(0, "divisor = 0")
    nb.run(0)

    # The dependent shows its own traceback, in red, in its own cell.
    expect(nb.output(1)).to_contain_text("ZeroDivisionError")
    expect(nb.output(1)).to_contain_text("division by zero")
    expect(nb.output(1)).not_to_contain_text("5.0")
    expect(nb.output(1).locator(".ansi-red-fg").first).to_be_visible()
    # The edited cell says which dependent failed.
    expect(nb.output(0)).to_contain_text("↻ re-ran: Cell In[2] ✗ failed")
    expect(nb.output(0)).to_contain_text("Cell In[2], which re-ran because of this cell, failed")
    expect(nb.output(0)).to_contain_text("ZeroDivisionError: division by zero")
    for path in readme_shot("dependent-error"):
        nb.shot(path, 0, 1)

    nb.type(0, "divisor = 4")
    nb.run(0)
    expect(nb.output(1)).to_contain_text("2.5")
    expect(nb.output(1)).not_to_contain_text("ZeroDivisionError")
    expect(nb.output(0)).not_to_contain_text("failed")


CHAIN = [
    "base = {base}",
    'square = base ** 2\nprint("square is", square)',
    'cube = square * base\nprint("cube is", cube)\ncube',
    'summary = f"{{base}}, {{square}}, {{cube}}"\nsummary',
]


def test_run_all_fresh_then_warm_shows_each_output_once(notebook: Notebook) -> None:
    nb = notebook
    nb.type(0, CHAIN[0].format(base=2))
    for code in CHAIN[1:]:
        nb.append(code.format())

    nb.run_all()  # a fresh kernel: nothing ran yet

    def shows_once(index: int, text: str) -> None:
        expect(nb.output(index)).to_contain_text(text)
        shown = nb.output(index).inner_text()
        assert shown.count(text) == 1, f"cell {index} shows {text!r} more than once: {shown!r}"

    shows_once(1, "square is 4")
    shows_once(2, "cube is 8")
    shows_once(3, "'2, 4, 8'")
    for index in range(4):
        expect(nb.output(index)).not_to_contain_text("Error")

    nb.type(0, CHAIN[0].format(base=3))
    nb.run_all()  # a warm kernel: every cell ran before

    shows_once(1, "square is 9")
    shows_once(2, "cube is 27")
    shows_once(3, "'3, 9, 27'")
    for index, old in ((1, "square is 4"), (2, "cube is 8"), (3, "'2, 4, 8'")):
        expect(nb.output(index)).not_to_contain_text(old)
    for index in range(4):
        expect(nb.output(index)).not_to_contain_text("Error")


def test_deleting_a_cell_heals_a_multiply_defined_name(notebook: Notebook) -> None:
    nb = notebook
    nb.type(0, "x = 1")
    nb.run(0, "Shift+Enter")
    nb.type(1, "x = 2")
    nb.run(1, "Shift+Enter")
    expect(nb.output(1)).to_contain_text("MultipleDefinitionError")

    nb.select(1)
    nb.page.keyboard.press("d")
    nb.page.keyboard.press("d")
    expect(nb.cells).to_have_count(2)  # "x = 1" and the empty cell below

    nb.type(1, "x * 100")
    nb.run(1)
    expect(nb.output(1)).to_have_text(re.compile(r"^\s*100\s*$"))
    nb.run(0)
    expect(nb.output(0)).not_to_contain_text("Error")
