"""``python -m bridge convert``: notebooks in and out of this kernel.

* ``from_marimo``: a marimo notebook (``.py``) as a Jupyter notebook whose
  twin it stays.
* ``from_ipykernel``: a notebook written for ipykernel as one that runs top
  to bottom here (names defined in several cells renamed, as marimo's own
  importer renames them); ``masks`` hides its IPython syntax meanwhile.
"""

from bridge.convert.from_marimo import ConvertError, to_ipynb

__all__ = ["ConvertError", "to_ipynb"]
