"""marimo's codegen, given only the variables each cell's function needs.

Every save of the twin renders the whole notebook with marimo's codegen
(``generate_filecontents``), whose ``serialize_cell`` calls
``to_functiondef`` once per cell with every variable of the notebook
(``variable_data``). ``to_functiondef`` reads that mapping twice: for the
annotations of the cell's refs (``to_annotated_string`` looks up only names
in ``refs``), and for the set of SQL-language names, built by a pass over
every variable and then used only to leave the cell's own SQL defs out of
its ``return``. That pass, once per cell, made a render O(cells²): 0.47 s
for 1,000 cells here, 0.33 s with this, the same text.

Given only the variables the cell refers to or defines, both reads answer
as before: every name either looks up is one of those. This wraps
``marimo._ast.codegen.to_functiondef`` (a private module: this is the one
place the bridge touches it) for the marimo versions whose code was read
(``speedups.MARIMO_RANGE``); tests/unit/test_twin_codegen.py fails loudly
when an upgrade changes the functions this relies on, and checks on random
notebooks that the rendered text is marimo's own. A candidate for upstreaming
(docs/speed.md).
"""

from __future__ import annotations

from typing import Any

# Whether install() wrapped it (None: not asked yet); asked on every render.
_installed: bool | None = None


def install() -> bool:
    """Wrap marimo's ``to_functiondef``, the first time only; False if this
    marimo is not one whose code was read."""
    global _installed
    if _installed is not None:
        return _installed
    import marimo
    from marimo._ast import codegen

    from bridge.runtime.speedups import applies

    _installed = applies(marimo.__version__)
    if not _installed:
        return False
    original = codegen.to_functiondef

    def to_functiondef(
        cell: Any,
        name: str,
        allowed_refs: Any = None,
        used_refs: Any = None,
        fn: Any = "cell",
        variable_data: dict[str, Any] | None = None,
    ) -> str:
        if variable_data:
            variable_data = {
                n: variable_data[n] for n in (*cell.refs, *cell.defs) if n in variable_data
            }
        return original(cell, name, allowed_refs, used_refs, fn, variable_data)

    to_functiondef.__wrapped__ = original  # type: ignore[attr-defined]
    codegen.to_functiondef = to_functiondef
    return True
