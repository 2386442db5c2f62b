"""Persistence: SQLModel tables, engine set-up and migrations, and the queries the
poller and CLI need.  SQLite (WAL) by default; PostgreSQL through ``database.url``."""

from watcher.store.db import Database, open_database
from watcher.store.models import Checkpoint, Parcel, PollLog

__all__ = ["Database", "open_database", "Parcel", "Checkpoint", "PollLog"]
