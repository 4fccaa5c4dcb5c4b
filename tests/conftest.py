from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def kernel_env() -> dict[str, str]:
    """Extra environment for the kernel; twin tests override this fixture.

    The twin is off unless a test asks for it: those tests name no notebook,
    and the twin's own tests say where it is.
    """
    return {"MARIMO_BRIDGE_TWIN": "0"}


@pytest.fixture
def kernel(
    tmp_path: Path, kernel_env: dict[str, str]
) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    """A fresh ``marimo`` kernel from the installed kernelspec, in tmp_path."""
    km, kc = start_new_kernel(
        kernel_name="marimo", cwd=str(tmp_path), env={**os.environ, **kernel_env}
    )
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


@pytest.fixture
def kc(kernel: tuple[KernelManager, BlockingKernelClient]) -> BlockingKernelClient:
    return kernel[1]


# Long fault scenarios (floods of minutes' worth, the 10,000-request soak) are
# marked `faults`: `make faults` (bench/faults.py) runs them with --faults;
# the normal suite skips them to stay quick.
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--faults", action="store_true", help="also run the long fault scenarios (make faults)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: a long fault scenario that `make faults` runs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--faults"):
        return
    skip = pytest.mark.skip(reason="long fault scenario: `make faults` runs it")
    for item in items:
        if item.get_closest_marker("faults") is not None:
            item.add_marker(skip)
