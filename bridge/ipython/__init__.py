"""IPython syntax for a marimo runtime: magics, shell commands, display().

``rewrite.py`` turns what a Jupyter user types into plain Python (kernel
side, before marimo sees a cell), with what each magic becomes in
``magics.py`` (line magics), ``cell_magics.py`` and ``shell.py`` (``!cmd``,
``%pip``); ``display.py`` runs inside the runtime and gives ``display`` and
``clear_output`` ipykernel's behaviour.
"""
