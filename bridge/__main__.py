"""``python -m bridge``: run the kernel, or install its kernelspec.

python -m bridge -f CONNECTION_FILE       run the kernel (what Jupyter does)
python -m bridge install [--user | --sys-prefix | --prefix P]
"""

from __future__ import annotations

import argparse
import sys


def _install(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bridge install",
        description="Install the 'marimo' Jupyter kernelspec.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user")
    where.add_argument("--sys-prefix", action="store_true", help="install into sys.prefix (a venv)")
    where.add_argument("--prefix", help="install under this prefix")
    args = parser.parse_args(argv)
    from bridge.install import install

    prefix = sys.prefix if args.sys_prefix else args.prefix
    path = install(user=args.user, prefix=prefix)
    print(f"Installed kernelspec 'marimo' in {path}")
    return 0


def _help() -> int:
    print(__doc__.strip())
    print(
        "\nThe kernel runs every cell in marimo's reactive runtime: running a cell\n"
        "re-runs the cells that depend on it, and each reply waits for that run.\n"
        "See README.md for the output scheme and what differs from ipykernel."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "install":
        return _install(argv[1:])
    if not argv or argv[0] in ("-h", "--help", "help"):
        return _help()
    from ipykernel.kernelapp import IPKernelApp

    from bridge.jupyter.kernel import MarimoKernel

    IPKernelApp.launch_instance(argv=argv, kernel_class=MarimoKernel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
