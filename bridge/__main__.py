"""``python -m bridge``: run the kernel, or install its kernelspec.

python -m bridge -f CONNECTION_FILE       run the kernel (what Jupyter does)
python -m bridge install [--user | --sys-prefix | --prefix P]
python -m bridge convert NOTEBOOK.py [-o OUT.ipynb] [--force]
"""

from __future__ import annotations

import os
import sys

# ``python -m`` puts the current folder first on sys.path: a notebook named
# like a module (markdown.py, json.py) would shadow that module for the
# kernel's own imports. The runtime puts the folder back for cells (child.py).
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

import argparse
from pathlib import Path


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


def _convert(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bridge convert",
        description="Write a Jupyter notebook (.ipynb) for a marimo notebook (.py); "
        "the .py stays its twin and receives the changes made in Jupyter.",
    )
    parser.add_argument("source", type=Path, help="the marimo notebook (.py)")
    parser.add_argument("-o", "--output", type=Path, help="the .ipynb to write")
    parser.add_argument("--force", action="store_true", help="replace an existing .ipynb")
    args = parser.parse_args(argv)
    from bridge.convert import ConvertError, to_ipynb

    try:
        target = to_ipynb(args.source, args.output, force=args.force)
    except ConvertError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {target}")
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
    if argv and argv[0] == "convert":
        return _convert(argv[1:])
    if not argv or argv[0] in ("-h", "--help", "help"):
        return _help()
    from bridge.jupyter.app import MarimoKernelApp
    from bridge.jupyter.kernel import MarimoKernel

    MarimoKernelApp.launch_instance(
        argv=argv,
        kernel_class=MarimoKernel,
        outstream_class="bridge.jupyter.app.LazyFlushOutStream",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
