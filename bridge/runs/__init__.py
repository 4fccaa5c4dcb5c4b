"""Run correlation: Jupyter requests to marimo runs and their outcome."""
