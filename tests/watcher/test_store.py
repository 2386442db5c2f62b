"""Store: migrations match the models, times stay aware UTC, indexes exist."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel, select

from tests.support import T0
from watcher.store.db import SCHEMA_HEAD, Database, open_database
from watcher.store.models import Parcel


def test_migrations_produce_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    assert db.current_revision() == db.head_revision() == SCHEMA_HEAD


def test_due_selection_and_uniqueness_are_indexed(db: Database) -> None:
    inspector = inspect(db.engine)
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("parcel")}
    assert ("next_poll_at",) in indexed
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("parcel")}
    assert ("courier", "tracking_number") in uniques


def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_times_round_trip_as_aware_utc(db: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    shipped = datetime(2026, 11, 20, 18, 30, tzinfo=shanghai)
    with db.session() as s:
        s.add(Parcel(courier="zhongtong", tracking_number="ZT1", created_at=T0, updated_at=T0, shipped_at=shipped))
    with db.session() as s:
        p = s.exec(select(Parcel)).one()
    assert p.shipped_at == shipped and p.shipped_at.tzinfo is not None
    assert p.shipped_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        with db.session() as s:
            s.add(Parcel(courier="zhongtong", tracking_number="ZT1", created_at=datetime(2026, 1, 1), updated_at=T0))


def test_reopening_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x' / 'new.db'}"  # parent folder is created
    first = open_database(url)
    before, after = first.upgrade()
    assert before == after == first.head_revision()
    open_database(url)
