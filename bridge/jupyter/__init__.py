"""The Jupyter face of the bridge: kernel, outputs, replies."""
