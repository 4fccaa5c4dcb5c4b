"""JupyterLab in headless Chromium: the server, the page, a notebook driven by hand.

Everything here waits on state (the page's DOM, the server's answers, a
file's text), never for a fixed time.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# Debian's Chromium: Playwright cannot download its own browser here.
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KERNEL = "marimo (reactive Python)"
# One wait's limit: a kernel's first import of pandas, matplotlib or altair
# on two shared cores can take several seconds.
TIMEOUT_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e"

# JupyterLab user settings for a quiet, predictable page: no news or update
# toasts over the notebook, and no rename dialog at the first save (a renamed
# notebook's kernel keeps the twin of the old name until it restarts).
SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "renameUntitledFileOnSave": False,
    },
}


def poll(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``predicate()`` holds (for state outside the page)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JupyterLab:
    """``jupyter lab`` on a loopback port, with its own root, token and settings."""

    MODULE = "jupyterlab"

    def __init__(self, home: Path, log_path: Path) -> None:
        self.home = home
        self.root = home / "root"
        self.log_path = log_path
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        settings = self.home / "user-settings"
        for name, values in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        for sub in ("root", "config", "data", "runtime", "workspaces"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            # Nothing from the user's own Jupyter setup; kernelspecs still come
            # from JUPYTER_PATH and the venv (sys.prefix).
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_DATA_DIR": str(self.home / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            self.MODULE,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            *self.app_flags(settings),
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=self.home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"jupyter lab exited ({self.process.returncode}); see {self.log_path}"
                )
            try:
                self.api("GET", "/api/status")
            except (urllib.error.URLError, ConnectionError):
                return False
            return True

        poll(ready, timeout, "JupyterLab to answer /api/status")

    def app_flags(self, settings: Path) -> list[str]:
        return [
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.shutdown_kernels()
        except (urllib.error.URLError, ConnectionError):
            pass
        if self.process.poll() is None:
            # jupyter_server stops on SIGTERM, shutting its kernels down first.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._log is not None:
            self._log.close()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (between scenarios: two cores are shared)."""
        for kernel in self.api("GET", "/api/kernels"):
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except urllib.error.HTTPError:
                pass  # already gone

    def url(self, workspace: str, folder: str) -> str:
        """A fresh workspace with the file browser in ``folder``."""
        return f"{self.base}/lab/workspaces/{workspace}/tree/{folder}?reset&token={self.token}"


@dataclass
class PageLog:
    """What the browser said: console errors and page errors, for diagnosis."""

    lines: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", lambda m: self.lines.append(f"console.{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.lines.append(f"pageerror: {e}"))


@contextmanager
def open_page(browser: Browser, log: PageLog, log_path: Path) -> Iterator[Page]:
    """A page in a fresh browser context; its console log is saved at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log.attach(page)
    try:
        yield page
    finally:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("\n".join(log.lines) + "\n")
        context.close()


# The prompts of the given cells are all numbers ("[7]:") that differ from
# what they showed before the run ("[ ]:", "[*]:" or an older number).
_PROMPTS_DONE = """([cells, indices, before]) => {
  const all = document.querySelectorAll(cells);
  return indices.every((i, k) => {
    const prompt = all[i] && all[i].querySelector('.jp-InputPrompt');
    if (!prompt) return false;
    const text = prompt.textContent.trim();
    return /^\\[\\d+\\]:$/.test(text) && text !== before[k];
  });
}"""


# The cell's editor holds exactly ``code`` (CodeMirror draws one .cm-line per
# line; an empty line holds only a <br>).
_CODE_IS = """([cells, index, code]) => {
  const cell = document.querySelectorAll(cells)[index];
  if (!cell) return false;
  const lines = cell.querySelectorAll('.jp-InputArea-editor .cm-content .cm-line');
  const text = Array.from(lines, line => line.textContent.replace(/\u200b/g, '')).join('\\n');
  return text.replace(/\\n+$/, '') === code;
}"""


class Notebook:
    """The notebook open in ``page``; cells are numbered from 0, top to bottom."""

    CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"

    def __init__(self, page: Page, folder: Path, name: str, kernel: str = KERNEL) -> None:
        self.page = page
        self.folder = folder  # on disk
        self.name = name  # e.g. "Untitled.ipynb"
        self.kernel = kernel  # the kernelspec's display name
        self.panel = page.locator(".jp-NotebookPanel")

    # -- opening ------------------------------------------------------------
    @classmethod
    def create(cls, page: Page, lab: JupyterLab, folder: Path,
               idle_timeout_ms: int = TIMEOUT_MS, kernel: str = KERNEL) -> Notebook:
        """Open JupyterLab in ``folder`` and create a notebook from the launcher."""
        relative = folder.relative_to(lab.root).as_posix()
        page.goto(lab.url(f"w-{secrets.token_hex(4)}", relative))
        page.locator(f'.jp-LauncherCard[data-category="Notebook"][title="{kernel}"]').click()
        notebook = cls(page, folder, "Untitled.ipynb", kernel)
        notebook.wait_idle(idle_timeout_ms)
        expect(page.locator("#jp-main-statusbar")).to_contain_text(notebook.name)
        return notebook

    # -- looking --------------------------------------------------------------
    @property
    def cells(self) -> Locator:
        return self.page.locator(self.CELLS)

    def cell(self, index: int) -> Locator:
        return self.cells.nth(index)

    def editor(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-InputArea-editor .cm-content")

    def output(self, index: int) -> Locator:
        """The cell's output area: what a person reads under the cell."""
        return self.cell(index).locator(".jp-Cell-outputArea")

    def prompt(self, index: int) -> str:
        return self.cell(index).locator(".jp-InputPrompt").inner_text().strip()

    def code(self, index: int) -> str:
        """The editor's text, line by line as CodeMirror shows it."""
        lines = self.editor(index).locator(".cm-line").all_text_contents()
        return "\n".join(line.replace("\u200b", "") for line in lines).rstrip("\n")

    def status_bar(self) -> Locator:
        return self.page.locator("#jp-main-statusbar")

    # -- typing ---------------------------------------------------------------
    def type(self, index: int, code: str) -> None:
        """Replace the cell's code by typing it, key by key.

        CodeMirror indents a new line by itself; each line's own indentation
        replaces the one it made (Shift+Home selects it).
        """
        self.editor(index).click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        for number, line in enumerate(code.split("\n")):
            if number:
                self.page.keyboard.press("Enter")
                self.page.keyboard.press("Shift+Home")
                if not line:
                    self.page.keyboard.press("Delete")
            if line:
                self.page.keyboard.type(line)
        try:
            self.page.wait_for_function(_CODE_IS, arg=[self.CELLS, index, code], timeout=10_000)
        except PlaywrightTimeout:
            raise AssertionError(f"typed {code!r}, the editor holds {self.code(index)!r}") from None

    def append(self, code: str) -> int:
        """Insert a cell below the last one (command mode, B), type ``code``."""
        count = self.cells.count()
        self.select(count - 1)
        self.page.keyboard.press("b")
        expect(self.cells).to_have_count(count + 1)
        self.type(count, code)
        return count

    def select(self, index: int) -> None:
        """Select a cell in command mode, as a click on its prompt does."""
        self.cell(index).locator(".jp-InputPrompt").click()
        expect(self.cell(index)).to_have_class(re.compile(r"\bjp-mod-selected\b"))
        self.page.keyboard.press("Escape")
        expect(self.panel.locator(".jp-Notebook")).to_have_class(
            re.compile(r"\bjp-mod-commandMode\b")
        )

    # -- running --------------------------------------------------------------
    def run(self, index: int, keys: str = "Control+Enter") -> None:
        """Run one cell from its editor with ``keys``; wait until it is done."""
        before = [self.prompt(index)]
        self.editor(index).click()
        self.page.keyboard.press(keys)
        self.wait_done([index], before)

    def start(self, index: int) -> str:
        """Run one cell and return at once (it is still running)."""
        before = self.prompt(index)
        self.editor(index).click()
        self.page.keyboard.press("Control+Enter")
        expect(self.cell(index).locator(".jp-InputPrompt")).to_have_text("[*]:")
        return before

    def run_all(self) -> None:
        """Run ▸ Run All Cells, and wait until every cell has run."""
        indices = list(range(self.cells.count()))
        before = [self.prompt(i) for i in indices]
        self.menu("Run", "Run All Cells")
        self.wait_done(indices, before)

    def wait_done(self, indices: Sequence[int], before: Sequence[str]) -> None:
        self.page.wait_for_function(
            _PROMPTS_DONE, arg=[self.CELLS, list(indices), list(before)], timeout=TIMEOUT_MS
        )
        self.wait_idle()

    def wait_idle(self, timeout_ms: int = TIMEOUT_MS) -> None:
        expect(self.status_bar()).to_contain_text(f"{self.kernel} | Idle", timeout=timeout_ms)

    # -- menus and toolbar ------------------------------------------------------
    def menu(self, *path: str) -> None:
        """Click through the menu bar: ``menu("Run", "Run All Cells")``."""
        top, *items = path
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{re.escape(top)}$")).click()
        for label in items:
            item = self.page.locator(
                ".lm-Menu:visible .lm-Menu-item",
                has=self.page.locator(
                    ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")
                ),
            )
            item.click()

    def dock_right(self, title: str) -> None:
        """Drag the main area's tab ``title`` to the right half (a split view)."""
        tab = self.page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=title)
        start = tab.bounding_box()
        dock = self.page.locator("#jp-main-dock-panel").bounding_box()
        assert start and dock
        x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + 30, y + 60, steps=5)
        self.page.mouse.move(
            dock["x"] + dock["width"] - 20, dock["y"] + dock["height"] / 2, steps=10
        )
        expect(self.page.locator(".lm-DockPanel-overlay")).to_be_visible()
        self.page.mouse.up()
        expect(self.page.locator("#jp-main-dock-panel .lm-DockPanel-tabBar")).to_have_count(2)

    def toolbar(self, command: str) -> Locator:
        return self.panel.locator(f'.jp-NotebookPanel-toolbar [data-command="{command}"]')

    # -- files ------------------------------------------------------------------
    @property
    def twin(self) -> Path:
        return self.folder / Path(self.name).with_suffix(".py").name

    def wait_twin(self, *codes: str, timeout: float = 30) -> str:
        """Wait until the twin .py holds every one of ``codes`` as a cell; its text."""
        bodies = ["\n".join(f"    {line}".rstrip() for line in code.split("\n")) for code in codes]

        def holds() -> bool:
            try:
                text = self.twin.read_text()
            except FileNotFoundError:
                return False
            return all(body in text for body in bodies)

        poll(holds, timeout, f"{self.twin.name} to hold {codes!r}")
        return self.twin.read_text()

    # -- pictures ---------------------------------------------------------------
    def shot(self, path: Path, first: int = 0, last: int | None = None) -> None:
        """A picture of cells ``first``..``last`` (and the notebook's toolbar)."""
        last = self.cells.count() - 1 if last is None else last
        top = self.panel.locator(".jp-NotebookPanel-toolbar").bounding_box()
        start = self.cell(first).bounding_box()
        end = self.cell(last).bounding_box()
        assert top and start and end
        y = top["y"] if first == 0 else start["y"] - 4
        bottom = end["y"] + end["height"] + 6
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=path,
            clip={"x": top["x"], "y": y, "width": top["width"], "height": bottom - y},
            animations="disabled",
            caret="hide",
        )
