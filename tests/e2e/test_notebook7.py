"""Jupyter Notebook 7 (``jupyter notebook``): the browser suite's
reactive-update and dependent-error scenarios (test_reactive.py), run as
they are, asserting on the page as for JupyterLab.

Notebook 7 is built from JupyterLab's components (the same notebook panel,
cells and CodeMirror editor), so the page is driven with lab.py's Notebook;
what differs is the server, the URL of a notebook, and that it has no status
bar: a kernel is idle when the server says so.
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import ARTIFACTS, TIMEOUT_MS, JupyterLab, Notebook, PageLog, open_page, poll
from playwright.sync_api import Browser, Page, expect
from test_reactive import (
    test_edit_updates_dependents_in_their_own_cells as edit_updates,
)
from test_reactive import (
    test_failing_dependent_shows_its_error_and_is_named as failing_dependent,
)


class Notebook7Server(JupyterLab):
    """``jupyter notebook`` on a loopback port, as lab.py starts JupyterLab."""

    MODULE = "notebook"

    def app_flags(self, settings: Path) -> list[str]:
        return [
            f"--JupyterNotebookApp.user_settings_dir={settings}",
            f"--JupyterNotebookApp.workspaces_dir={self.home / 'workspaces'}",
        ]

    def notebook_url(self, path: str) -> str:
        return f"{self.base}/notebooks/{path}?token={self.token}"

    def idle(self) -> bool:
        try:
            kernels = self.api("GET", "/api/kernels")
        except urllib.error.HTTPError as exc:
            # jupyter_server answers 500 while listing a kernel that is still
            # starting (its last_activity not set yet): not idle yet.
            if exc.code >= 500:
                return False
            raise
        return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


class Notebook7(Notebook):
    def __init__(self, page: Page, folder: Path, name: str, server: Notebook7Server) -> None:
        super().__init__(page, folder, name)
        self.server = server

    @classmethod
    def open_new(cls, page: Page, server: Notebook7Server, folder: Path) -> Notebook7:
        """A new notebook file with the marimo kernel, opened in Notebook 7."""
        name = "reactive.ipynb"
        (folder / name).write_text(json.dumps({
            "cells": [{"cell_type": "code", "execution_count": None, "id": "first",
                       "metadata": {}, "outputs": [], "source": ""}],
            "metadata": {"kernelspec": {"name": "marimo", "display_name": "marimo",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5,
        }))
        page.goto(server.notebook_url(f"{folder.relative_to(server.root).as_posix()}/{name}"))
        notebook = cls(page, folder, name, server)
        expect(notebook.editor(0)).to_be_visible()
        notebook.wait_idle()
        return notebook

    def wait_idle(self) -> None:
        poll(self.server.idle, TIMEOUT_MS / 1000, "the kernel to be idle")


@pytest.fixture(scope="session")
def nb7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook7Server]:
    server = Notebook7Server(
        tmp_path_factory.mktemp("notebook7"), ARTIFACTS / "notebook7.log"
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def nb7(browser: Browser, nb7_server: Notebook7Server, request: pytest.FixtureRequest,
        artifacts: Path) -> Iterator[Notebook7]:
    folder = nb7_server.root / request.node.name
    folder.mkdir()
    log = PageLog()
    try:
        with open_page(browser, log, artifacts / f"{request.node.name}.console.log") as page:
            try:
                yield Notebook7.open_new(page, nb7_server, folder)
            finally:
                page.screenshot(path=artifacts / f"{request.node.name}.png")
    finally:
        nb7_server.shutdown_kernels()


def test_notebook7_edit_updates_dependents_in_their_own_cells(nb7: Notebook7) -> None:
    edit_updates(nb7, lambda name: [])


def test_notebook7_failing_dependent_shows_its_error_and_is_named(nb7: Notebook7) -> None:
    failing_dependent(nb7, lambda name: [])
