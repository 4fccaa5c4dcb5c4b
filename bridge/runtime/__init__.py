"""The runtime client: marimo's kernel in a child process."""
