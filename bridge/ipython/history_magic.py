"""``%history`` (``%hist``): this session's inputs, as IPython prints them.

The inputs are the runtime's ``In`` (bridge/runtime/output_history.py):
what each Jupyter request ran, by execution count, as typed. The options
are IPython's for this session: ``-n`` numbers, ``-o`` outputs (their
repr), ``-p`` ``>>>`` prompts, ``-l [N]`` the last N before this one (10),
``-g [pattern]`` the inputs that match (numbered), and ranges (``4``,
``1-5`` with 5 included, ``2-3 7``). Other sessions (``~1/``), ``-f`` and
``-u`` are IPython's database, which this kernel does not keep.

Like ``In``, the lines print only in the kernel: the marimo twin has no
history.
"""

from __future__ import annotations

import shlex

from bridge.ipython.replacement import Piece, Replacement, Unsupported


def _numbers(ranges: list[str]) -> str:
    """IPython's ranges as a Python expression of line numbers."""
    parts = []
    for word in ranges:
        first, dash, last = word.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise Unsupported(f"%history {word}: give line numbers, as 4 or 1-5")
        parts.append(f"*range({int(first)}, {int(last) + 1})" if dash else first)
    return f"[{', '.join(parts)}]"


def history(args: str) -> Replacement:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise Unsupported(f"%history {args}: {exc}") from exc
    flags: set[str] = set()
    limit: int | None = None
    pattern: str | None = None
    ranges: list[str] = []
    while words:
        word = words.pop(0)
        if word in ("-n", "-o", "-p", "-t", "-r"):
            flags.add(word)
        elif word == "-l":
            limit = int(words.pop(0)) if words and words[0].isdigit() else 10
        elif word == "-g":
            pattern = " ".join(words)
            words = []
        elif word.startswith("-"):
            raise Unsupported(f"%history {word}: this kernel keeps this session's inputs only "
                              "(-n, -o, -p, -l, -g and ranges)")
        else:
            ranges.append(word)
    if pattern is not None:
        numbers, flags = "range(1, len(In))", flags | {"-n"}
    elif limit is not None:
        # The last ``limit`` lines before this one, as IPython's get_tail.
        numbers = f"range(max(1, len(In) - 1 - {limit}), len(In) - 1)"
    elif ranges:
        numbers = _numbers(ranges)
    else:
        numbers = "range(1, len(In))"
    newline = "'\\n'"
    numbered = (
        f"'{{:>4}}:{{}}'.format(n, {newline} if {newline} in text else ' ') + "
        if "-n" in flags else ""
    )
    prompted = (
        f"'>>> ' + ({newline} + '... ').join(text.splitlines()) "
        f"+ ({newline} + '...' if {newline} in text else '')" if "-p" in flags else "text"
    )
    output = f" + ({newline} + repr(Out[n]) if n in Out else '')" if "-o" in flags else ""
    setup: list[Piece] = []
    wanted = "0 < _n < len(In) and In[_n]"  # an input the runtime never ran is blank
    if pattern is not None:
        setup.append("import fnmatch as _fnmatch")
        wanted += f" and _fnmatch.fnmatch(In[_n], {('*' + pattern + '*')!r})"
    setup += [
        f"_history_line = lambda n, text: {numbered}{prompted}{output}",
        f"_history = [_history_line(_n, In[_n].expandtabs(4).rstrip()) for _n in {numbers} "
        f"if {wanted}]",
        f"print(*_history, sep={newline}) if _history else None",
    ]
    return Replacement(setup=setup)
