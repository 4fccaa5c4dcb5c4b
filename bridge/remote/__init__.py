"""Kernels on other hosts: the launcher Jupyter Enterprise Gateway starts."""
