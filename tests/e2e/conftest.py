"""Fixtures of the browser suite: one JupyterLab and one Chromium per session.

Collected only when named (``pytest tests/e2e``, ``make e2e``): setup.cfg's
``--ignore=tests/e2e`` keeps it out of ``make test``. Artifacts go to
tests/artifacts/e2e/: a screenshot per scenario (taken whether it passed or
failed), the browser's console log per scenario, and JupyterLab's log.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))

from lab import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    JupyterLab,
    Notebook,
    PageLog,
    open_page,
)

README_SHOTS = Path(__file__).resolve().parents[2] / "examples" / "screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--readme-shots",
        action="store_true",
        help=f"also write the README's pictures to {README_SHOTS}",
    )


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test itself failed, for its screenshot's name."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[JupyterLab]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    server = JupyterLab(tmp_path_factory.mktemp("jupyterlab"), artifacts / "jupyterlab.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(lab: JupyterLab) -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        # Playwright gives every launch a new, empty user-data-dir.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def scenario_name(item: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", item.name).strip("-")


@pytest.fixture
def page_log() -> PageLog:
    """What the scenario's page said in its console."""
    return PageLog()


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    lab: JupyterLab,
    artifacts: Path,
    page_log: PageLog,
) -> Iterator[Page]:
    """A fresh browser context; a screenshot of the page when the test ends."""
    name = scenario_name(request.node)
    try:
        with open_page(browser, page_log, artifacts / f"{name}.console.log") as new_page:
            try:
                yield new_page
            finally:
                suffix = "-FAILED" if request.node.stash.get(FAILED, True) else ""
                new_page.screenshot(path=artifacts / f"{name}{suffix}.png")
    finally:
        lab.shutdown_kernels()  # two cores are shared: no kernel outlives its scenario


@pytest.fixture
def folder(request: pytest.FixtureRequest, lab: JupyterLab) -> Path:
    """The scenario's own folder under JupyterLab's root."""
    path = lab.root / scenario_name(request.node)
    path.mkdir()
    return path


@pytest.fixture
def notebook(page: Page, lab: JupyterLab, folder: Path) -> Notebook:
    """A new notebook with the marimo kernel, made from the launcher."""
    return Notebook.create(page, lab, folder)


@pytest.fixture
def readme_shot(request: pytest.FixtureRequest, artifacts: Path) -> Callable[[str], list[Path]]:
    """Where to save a picture: the artifacts, and with --readme-shots the README's folder."""

    def paths(name: str) -> list[Path]:
        out = [artifacts / f"{name}.png"]
        if request.config.getoption("--readme-shots"):
            out.append(README_SHOTS / f"{name}.png")
        return out

    return paths
