"""save_parcels: chunked upsert, merge of repeated inputs, retry after a concurrent insert."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from watcher.intake.rows import ParcelInput
from watcher.intake.save import CHUNK_SIZE, SaveSummary, save_parcels
from watcher.store.db import Database, open_database
from watcher.store.models import Parcel

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


def stored(db: Database) -> list[Parcel]:
    with db.session() as session:
        return list(session.exec(select(Parcel).order_by(Parcel.tracking_number)).all())


def test_chunks_and_progress(store: Database) -> None:
    inputs = [ParcelInput("zhongtong", f"ZT{i:010d}") for i in range(2 * CHUNK_SIZE + 1)]
    calls: list[int] = []
    assert save_parcels(store, inputs, now=NOW, progress=calls.append) == SaveSummary(added=1001)
    assert calls == [CHUNK_SIZE, CHUNK_SIZE, 1]
    assert save_parcels(store, inputs, now=NOW) == SaveSummary(unchanged=1001)
    assert len(stored(store)) == 1001


def test_repeated_inputs_are_merged_later_values_win(store: Database) -> None:
    inputs = [
        ParcelInput("zhongtong", "ZT0000000001", order_id="A", buyer_name="张三"),
        ParcelInput("zhongtong", "ZT0000000001", order_id="B"),
    ]
    assert save_parcels(store, inputs, now=NOW) == SaveSummary(added=1)
    (parcel,) = stored(store)
    assert (parcel.order_id, parcel.buyer_name) == ("B", "张三")


def test_only_changed_fields_are_written(store: Database) -> None:
    when = datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)
    save_parcels(store, [ParcelInput("zhongtong", "ZT0000000001", shipped_at=when, city="杭州市")], now=NOW)
    later = NOW + timedelta(days=1)
    same_time = when.astimezone(timezone(timedelta(hours=8)))  # equal instant, other offset
    summary = save_parcels(
        store, [ParcelInput("zhongtong", "ZT0000000001", shipped_at=same_time, city=None)], now=later
    )
    assert summary == SaveSummary(unchanged=1)
    summary = save_parcels(store, [ParcelInput("zhongtong", "ZT0000000001", city="湖州市")], now=later)
    assert summary == SaveSummary(updated=1)
    (parcel,) = stored(store)
    assert (parcel.city, parcel.shipped_at, parcel.updated_at) == ("湖州市", when, later)


def test_naive_now_is_refused(store: Database) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        save_parcels(store, [], now=datetime(2026, 11, 21))


def test_concurrent_insert_of_the_same_number_is_retried(store: Database, tmp_path: Path) -> None:
    """Another process inserts the number between our SELECT and our INSERT."""
    raced = False

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        nonlocal raced
        if not raced and statement.startswith("INSERT INTO parcel"):
            raced = True
            other = sqlite3.connect(tmp_path / "t.db")
            other.execute(
                "INSERT INTO parcel (courier, tracking_number, order_id, created_at, updated_at, "
                "status, flags, poll_failures) VALUES ('zhongtong', 'ZT0000000001', 'theirs', "
                "'2026-11-20 00:00:00', '2026-11-20 00:00:00', 'pending', '', 0)"
            )
            other.commit()
            other.close()

    event.listen(store.engine, "before_cursor_execute", before)
    inputs = [ParcelInput("zhongtong", "ZT0000000001", buyer_name="张三"),
              ParcelInput("zhongtong", "ZT0000000002")]
    assert save_parcels(store, inputs, now=NOW) == SaveSummary(added=1, updated=1)
    first, second = stored(store)
    assert (first.order_id, first.buyer_name) == ("theirs", "张三")
    assert second.tracking_number == "ZT0000000002"
