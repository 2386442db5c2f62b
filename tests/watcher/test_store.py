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


def test_milestone_columns_are_backfilled_from_stored_verdicts(tmp_path: Path) -> None:
    """0006 adds parcel.collected_at/delivered_at and fills them from each verdict's milestones."""
    from alembic import command

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(db._alembic_config(), "0005")
    verdict = ('{"status": "delivered", "milestones": {"collected_at": "2026-11-20T10:00:00+00:00", '
               '"delivered_at": "2026-11-23T04:30:00+00:00"}}')
    with db.engine.begin() as conn:
        for number, value in (("SF1", verdict), ("SF2", "not json"), ("SF3", None)):
            conn.exec_driver_sql(
                "INSERT INTO parcel (courier, tracking_number, created_at, updated_at, status, flags, verdict, "
                "poll_failures) VALUES ('shunfeng', ?, '2026-11-20 00:00:00.000000', "
                "'2026-11-20 00:00:00.000000', 'delivered', '', ?, 0)", (number, value))
    assert db.upgrade() == ("0005", SCHEMA_HEAD)
    with db.session() as s:
        found = {p.tracking_number: p for p in s.exec(select(Parcel))}
    assert found["SF1"].collected_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    assert found["SF1"].delivered_at == datetime(2026, 11, 23, 4, 30, tzinfo=timezone.utc)
    assert found["SF2"].collected_at is None and found["SF3"].delivered_at is None
