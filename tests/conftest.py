"""Shared fixtures: a fresh SQLite store, a manual clock, settings without a config file."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from tests.support import T0
from watcher.clock import ManualClock
from watcher.store.db import Database, open_database


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's PARCELWATCH_* variables or ./parcelwatch.toml."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("PARCELWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    structlog.reset_defaults()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    yield database
    database.dispose()
