"""``python -m bridge``: run the kernel, or install its kernelspec.

python -m bridge -f CONNECTION_FILE       run the kernel (what Jupyter does)
python -m bridge install [--user | --sys-prefix | --prefix P] [--remote-hosts H1,H2]
python -m bridge convert NOTEBOOK.py [-o OUT.ipynb] [--force]
python -m bridge convert OLD.ipynb (-o NEW.ipynb | --in-place)
python -m bridge launch-remote --kernel-id ID --response-address IP:PORT ...
                                          started by Jupyter Enterprise Gateway
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
    parser.add_argument(
        "--remote-hosts", metavar="HOST[,HOST...]",
        help="install 'marimo_remote' instead: the kernelspec Jupyter Enterprise Gateway "
        "starts on these hosts over ssh (docs/remote.md)",
    )
    args = parser.parse_args(argv)
    from bridge.install import install

    prefix = sys.prefix if args.sys_prefix else args.prefix
    hosts = None
    if args.remote_hosts is not None:
        hosts = [h.strip() for h in args.remote_hosts.split(",") if h.strip()]
        if not hosts:
            parser.error("--remote-hosts names no host")
    path = install(user=args.user, prefix=prefix, remote_hosts=hosts)
    print(f"Installed kernelspec '{Path(path).name}' in {path}")
    return 0


def _convert(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bridge convert",
        description="A marimo notebook (.py): write a Jupyter notebook (.ipynb) for it; "
        "the .py stays its twin and receives the changes made in Jupyter. "
        "A notebook written for ipykernel (.ipynb): write one that runs top to bottom "
        "in this kernel, renaming names defined in more than one cell.",
    )
    parser.add_argument("source", type=Path, help="the notebook (.py or .ipynb)")
    parser.add_argument("-o", "--output", type=Path, help="the .ipynb to write")
    parser.add_argument(
        "--in-place", action="store_true",
        help="(.ipynb) convert the notebook itself, keeping the original as NAME.ipynb.orig",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output")
    args = parser.parse_args(argv)
    from bridge.convert import ConvertError, to_ipynb

    try:
        if args.source.suffix == ".ipynb":
            from bridge.convert.from_ipykernel import convert_file

            target, report, backup = convert_file(
                args.source, args.output, args.in_place, force=args.force
            )
            for line in report.lines():
                print(line)
            print(f"{report.cells_changed} cells changed")
            if backup is not None:
                print(f"The original is kept as {backup}")
        else:
            if args.in_place:
                raise ConvertError("--in-place is for a notebook written for ipykernel (.ipynb)")
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
        "See docs/outputs.md for the output scheme and docs/running.md for\n"
        "what differs from ipykernel."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "install":
        return _install(argv[1:])
    if argv and argv[0] == "convert":
        return _convert(argv[1:])
    if argv and argv[0] == "launch-remote":
        from bridge.remote.launcher import main as launch_remote

        return launch_remote(argv[1:])
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
