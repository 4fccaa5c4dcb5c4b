"""JupyterLab whose kernels run behind Jupyter Kernel Gateway (``--gateway-url``).

The gateway starts the kernel from its kernelspec; JupyterLab talks to it
over HTTP and websockets. The browser suite's reactive-update,
dependent-error and interrupt scenarios run unchanged through it, and the
twin is written beside the notebook: jupyter_server sends the notebook's
folder (``KERNEL_WORKING_DIR``) and, allowed on both sides, its name
(``JPY_SESSION_NAME``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway import GatewayClient, KernelGateway
from lab import ARTIFACTS, KERNEL, JupyterLab, Notebook
from playwright.sync_api import Page
from test_kernel import test_interrupt_from_the_toolbar_stops_a_long_cell as interrupt
from test_reactive import (
    test_edit_updates_dependents_in_their_own_cells as edit_updates,
)
from test_reactive import (
    test_failing_dependent_shows_its_error_and_is_named as failing_dependent,
)


class GatewayLab(JupyterLab):
    def __init__(self, home: Path, log_path: Path, gateway: GatewayClient) -> None:
        super().__init__(home, log_path)
        self.gateway = gateway

    def app_flags(self, settings: Path) -> list[str]:
        return [
            *super().app_flags(settings),
            f"--GatewayClient.url={self.gateway.url}",
            f"--GatewayClient.auth_token={self.gateway.token}",
            "--GatewayClient.allowed_envs=JPY_SESSION_NAME",
        ]


@contextlib.contextmanager
def lab_behind(gateway: GatewayClient, home: Path, log: Path) -> Iterator[GatewayLab]:
    """JupyterLab whose kernels ``gateway`` runs."""
    server = GatewayLab(home, log, gateway)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def notebook_behind(page: Page, lab: GatewayLab, name: str, kernel: str = KERNEL
                    ) -> Iterator[Notebook]:
    """A new notebook in a folder of its own; its kernel shut down after."""
    folder = lab.root / name
    folder.mkdir()
    try:
        yield open_notebook(page, lab, folder, kernel)
    finally:
        lab.shutdown_kernels()


@pytest.fixture(scope="module")
def gateway_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayLab]:
    gateway = KernelGateway(
        tmp_path_factory.mktemp("gateway"), ARTIFACTS / "gateway.log",
        env_whitelist="JPY_SESSION_NAME",
    )
    gateway.start()
    try:
        with lab_behind(gateway, tmp_path_factory.mktemp("gateway-lab"),
                        ARTIFACTS / "gateway-lab.log") as server:
            yield server
    finally:
        gateway.stop()


@pytest.fixture
def gateway_notebook(page: Page, gateway_lab: GatewayLab, request: pytest.FixtureRequest
                     ) -> Iterator[Notebook]:
    with notebook_behind(page, gateway_lab, request.node.name) as notebook:
        yield notebook


def open_notebook(page: Page, lab: GatewayLab, folder: Path, kernel: str = KERNEL) -> Notebook:
    """A new notebook whose kernel, behind the gateway, shows Idle.

    Behind Kernel Gateway, once in a while (1 of 3 CI runs so far), the status
    bar stays "Unknown" after the kernel starts; behind Enterprise Gateway 3.3
    it does every time, for ipykernel started by EG's own launcher as for this
    kernel (tried side by side), while the gateway reports the kernel idle.
    On every start JupyterLab connects twice with one session id and the
    gateway replaces the "stale" connection; an upstream race of the same
    shape: jupyterlab/jupyterlab#7683. The test does what a user does, a
    reload, once, and logs the gateway's view of the kernel's state.
    """
    try:
        return Notebook.create(page, lab, folder, idle_timeout_ms=30_000, kernel=kernel)
    except AssertionError:
        if "| Unknown" not in page.locator("#jp-main-statusbar").inner_text():
            raise
        states = [k.get("execution_state") for k in lab.gateway.api("GET", "/api/kernels")]
        with (ARTIFACTS / "gateway-lab.log").open("a") as log:
            log.write(f"[test] {folder.name}: status Unknown after 30 s while the gateway"
                      f" reports {states}; page reloaded\n")
        page.reload()
        notebook = Notebook(page, folder, "Untitled.ipynb", kernel)
        notebook.wait_idle()
        return notebook


def test_gateway_edit_updates_dependents(
    gateway_notebook: Notebook, artifacts: Path
) -> None:
    def no_shots(name: str) -> list[Path]:
        return []

    edit_updates(gateway_notebook, no_shots)
    # The twin, beside the notebook on the server's side.
    twin = gateway_notebook.wait_twin("price = 250")
    assert "total = price * 3" in twin


def test_gateway_failing_dependent(gateway_notebook: Notebook) -> None:
    failing_dependent(gateway_notebook, lambda name: [])


def test_gateway_interrupt(gateway_notebook: Notebook) -> None:
    interrupt(gateway_notebook)
