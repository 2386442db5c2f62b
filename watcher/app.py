"""The objects one command needs: settings, database, registry, clock — built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from carriers.registry import Registry, discover
from watcher.clock import Clock, SystemClock
from watcher.settings import Settings
from watcher.store.db import Database, open_database

__all__ = ["App"]


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    database_url: str | None = None  # overrides settings.database.url (the demo uses its own file)

    @cached_property
    def db(self) -> Database:
        return open_database(self.database_url or self.settings.database.url)

    @cached_property
    def registry(self) -> Registry:
        return discover()

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
