"""Tracking-provider adapters. Each provider lives in its own folder:
``client.py`` (network only), ``parse.py`` (pure), ``statuses.py`` (tables).

Plug-in authors import :mod:`carriers.base` and test with :mod:`carriers.testing`.
"""
