"""Output translation: marimo outputs and errors to Jupyter's forms."""
