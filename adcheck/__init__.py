"""adcheck: reverse-mode AD for plain NumPy code, and a checker that proves adjoint rules right."""

__version__ = "0.1.0"
