"""A stand-in for Colab's ``google.colab`` package: only what the worker notebook uses."""
