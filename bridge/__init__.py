"""A Jupyter kernel that runs marimo's reactive runtime."""

__version__ = "0.1.0"
