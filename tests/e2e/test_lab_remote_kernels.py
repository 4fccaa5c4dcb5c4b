"""JupyterLab whose kernels Enterprise Gateway starts on a remote host over ssh.

The browser suite's reactive-update, dependent-error and interrupt scenarios
run unchanged through JupyterLab's ``--gateway-url``, with the kernelspec
``marimo_remote`` (``python -m bridge install --remote-hosts``) and the host
of tests/enterprise_gateway.py. Run by ``make remote`` (it needs sshd and
Enterprise Gateway's environment), not by ``make e2e``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import ARTIFACTS, Notebook
from playwright.sync_api import Page
from test_gateway import GatewayLab, lab_behind, notebook_behind
from test_kernel import test_interrupt_from_the_toolbar_stops_a_long_cell as interrupt
from test_reactive import (
    test_edit_updates_dependents_in_their_own_cells as edit_updates,
)
from test_reactive import (
    test_failing_dependent_shows_its_error_and_is_named as failing_dependent,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enterprise_gateway import (
    REMOTE_KERNEL,
    running_enterprise_gateway,
    running_sshd,
)


@pytest.fixture(scope="module")
def eg_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayLab]:
    with (
        running_sshd(tmp_path_factory.mktemp("sshd")) as sshd,
        running_enterprise_gateway(tmp_path_factory.mktemp("eg"), sshd) as gateway,
        pytest.MonkeyPatch.context() as env,
    ):
        # The user JupyterLab's gateway client names (EG refuses root).
        env.setenv("KERNEL_USERNAME", "analyst")
        with lab_behind(gateway, tmp_path_factory.mktemp("eg-lab"),
                        ARTIFACTS / "eg-lab.log") as server:
            yield server


@pytest.fixture
def eg_notebook(page: Page, eg_lab: GatewayLab, request: pytest.FixtureRequest
                ) -> Iterator[Notebook]:
    with notebook_behind(page, eg_lab, request.node.name, REMOTE_KERNEL) as notebook:
        yield notebook


def test_remote_edit_updates_dependents(eg_notebook: Notebook) -> None:
    edit_updates(eg_notebook, lambda name: [])
    # The twin, beside the notebook, written by the kernel on the remote host
    # (the same machine here: its folder exists there).
    twin = eg_notebook.wait_twin("price = 250")
    assert "total = price * 3" in twin


def test_remote_failing_dependent(eg_notebook: Notebook) -> None:
    failing_dependent(eg_notebook, lambda name: [])


def test_remote_interrupt(eg_notebook: Notebook) -> None:
    interrupt(eg_notebook)
