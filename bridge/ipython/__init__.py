"""IPython syntax for a marimo runtime: magics, shell escapes, display().

``rewrite.py`` turns what a Jupyter user types into plain Python (kernel
side, before marimo sees a cell); ``magics.py`` holds what each supported
magic becomes; ``display.py`` runs inside the runtime and gives ``display``
and ``clear_output`` ipykernel's behaviour.
"""
