"""Fixtures of the remote-kernel suite: an sshd for the "remote" host and
Enterprise Gateway starting kernels there (tests/enterprise_gateway.py).

Collected only when named (``make remote``): setup.cfg keeps tests/remote
out of ``make test``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enterprise_gateway import (
    EnterpriseGateway,
    Sshd,
    running_enterprise_gateway,
    running_sshd,
)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def enterprise_gateway(
    sshd: Sshd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EnterpriseGateway]:
    with running_enterprise_gateway(tmp_path_factory.mktemp("eg"), sshd) as gateway:
        yield gateway
