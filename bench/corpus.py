"""``make corpus``: notebooks written for ipykernel, under both kernels.

Runs every ``.ipynb`` of the given folders (default: tests/notebooks/corpus)
under ipykernel and under this kernel, as it is and after ``python -m bridge
convert`` (tests/corpus.py says how cells are compared), and prints a table
per notebook and a total: cells, cells that agree, this kernel's failures
by cause, cells that lost an output. ``-v`` lists the cells that differ.

    make corpus
    make corpus CORPUS="tests/notebooks/corpus ~/held-out"
    make corpus CORPUS="~/held-out -v --timeout=60"   # seconds a cell may take
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from corpus import Comparison, Outcome, both_ways  # noqa: E402

CAUSES = ["marimo's rules", "IPython syntax", "other", "only ipykernel failed"]


def row(name: str, c: Comparison) -> str:
    causes = ", ".join(f"{k} {c.causes[k]}" for k in CAUSES if c.causes[k]) or "—"
    return f"| {name} | {c.cells} | {c.agree} ({c.agree_share:.0%}) | {causes} | {c.lost} |"


def total(comparisons: list[Comparison]) -> Comparison:
    out = Comparison()
    for c in comparisons:
        out.cells += c.cells
        out.agree += c.agree
        out.lost += c.lost
        out.causes.update(c.causes)
    return out


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    timeout = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--timeout=")), 120)
    argv = [a for a in argv if not a.startswith("--timeout=")]
    folders = [Path(a).expanduser() for a in argv if a != "-v"] or [
        ROOT / "tests" / "notebooks" / "corpus"
    ]
    paths = sorted(p for folder in folders for p in folder.glob("*.ipynb"))
    outcomes: list[Outcome] = []
    for path in paths:
        print(f"{path.name} ...", file=sys.stderr, flush=True)
        outcomes.append(both_ways(path, timeout))
    for title, pick in (("as it is", "as_is"), ("after `python -m bridge convert`", "converted")):
        print(f"\n{title}\n")
        print(
            "| notebook | code cells | agree with ipykernel | failures here, by cause "
            "| lost outputs |"
        )
        print("| --- | --- | --- | --- | --- |")
        for outcome in outcomes:
            print(row(outcome.name, getattr(outcome, pick)))
        print(row(f"**all {len(outcomes)}**", total([getattr(o, pick) for o in outcomes])))
        if verbose:
            for outcome in outcomes:
                for source, why in getattr(outcome, pick).details:
                    first = source.strip().splitlines()[0][:70] if source.strip() else ""
                    print(f"  {outcome.name}: {first!r}: {why}")
    return 0 if outcomes else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
