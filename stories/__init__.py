"""The story server's own definitions, shared by the web app, the CLI and the worker.

Needs neither Flask nor torch: ``webapp -> stories -> drivequeue <- stories <- colab_worker``.
"""
