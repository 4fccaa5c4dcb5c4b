"""The marimo twin: which file, its format, and the writer that saves it."""
