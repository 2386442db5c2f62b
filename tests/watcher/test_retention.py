"""Buyer data is erased database.retention_days after a parcel is finished; what the shop needs stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from tests.support import T0
from watcher.cli.main import main
from watcher.store.db import Database, open_database
from watcher.store.models import Notice, OptOut, Parcel
from watcher.store.retention import purge_personal_data


def add(db: Database, number: str, status: str, finished_days_ago: float | None) -> int:
    finished = T0 - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    with db.session() as s:
        p = Parcel(courier="zhongtong", tracking_number=number, order_id=f"O-{number}", buyer_name="张三丰",
                   buyer_phone="+8613912345678", buyer_chat_id="wx-123", address="西湖区文三路1号",
                   province="浙江省", city="杭州市", district="西湖区", status=status, status_changed_at=finished,
                   created_at=T0 - timedelta(days=200), updated_at=finished or T0)
        s.add(p)
        s.flush()
        s.add(Notice(parcel_id=p.id, kind="dispatch", idempotency_key=f"k-{number}", state="delivered",
                     body="【小鲸鱼】张三丰您好，您的包裹已发出", created_at=T0, not_before=T0))
        return p.id  # type: ignore[return-value]


def rows(db: Database) -> dict[str, tuple[Parcel, Notice]]:
    with db.session() as s:
        return {p.tracking_number: (p, n) for p, n in s.exec(select(Parcel, Notice).join(Notice))}


def test_only_parcels_finished_long_ago_lose_their_buyer_data(db: Database) -> None:
    add(db, "OLD-DELIVERED", "delivered", 91)
    add(db, "OLD-RETURNED", "returned", 120)
    add(db, "RECENT", "delivered", 89)
    add(db, "OPEN", "in_transit", 300)  # still moving: the buyer may still need a notice
    with db.session() as s:
        s.add(OptOut(channel="sms", address="+8613912345678", source="inbound_stop", created_at=T0))

    result = purge_personal_data(db, now=T0, retention_days=90)
    assert (result.parcels, result.notices) == (2, 2)
    found = rows(db)
    for number in ("OLD-DELIVERED", "OLD-RETURNED"):
        p, n = found[number]
        assert (p.buyer_name, p.buyer_phone, p.buyer_chat_id, p.address, n.body) == (None,) * 5
        # what the shop still needs stays: the order, the area (scorecard), the notice's history
        assert (p.order_id, p.province, p.city, p.district, n.state) == (f"O-{number}", "浙江省", "杭州市", "西湖区",
                                                                        "delivered")
    for number in ("RECENT", "OPEN"):
        p, n = found[number]
        assert p.buyer_phone == "+8613912345678" and n.body is not None
    with db.session() as s:
        assert len(s.exec(select(OptOut)).all()) == 1  # a STOP outlives the parcel

    again = purge_personal_data(db, now=T0, retention_days=90)
    assert (again.parcels, again.notices) == (0, 0)


def test_zero_keeps_everything(db: Database) -> None:
    add(db, "OLD", "delivered", 1000)
    assert purge_personal_data(db, now=T0, retention_days=0).parcels == 0
    assert rows(db)["OLD"][0].buyer_phone is not None


def test_db_purge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    db = open_database(url)
    add(db, "OLD", "delivered", 10_000)  # T0 is in the past: finished long before "now"
    db.dispose()
    config = tmp_path / "pw.toml"
    config.write_text(f'[database]\nurl = "{url}"\nretention_days = 30\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(config), "db", "purge"]) == 0
    assert "erased buyer data of 1 parcels and 1 notice texts" in capsys.readouterr().err
    db = open_database(url)
    assert rows(db)["OLD"][0].buyer_name is None
    db.dispose()


def test_run_erases_expired_buyer_data_daily(tmp_path: Path) -> None:
    import asyncio

    from structlog.testing import capture_logs

    from tests.support import make_settings, scheduled_jobs
    from watcher.app import App
    from watcher.clock import ManualClock
    from watcher.daemon import Worker

    settings = make_settings(database={"url": f"sqlite:///{tmp_path / 'w.db'}", "retention_days": 30})
    worker = Worker(App(settings, clock=ManualClock(T0)))
    add(worker.app.db, "OLD", "delivered", 31)
    job = scheduled_jobs(worker)["purge"]
    assert {f.name: str(f) for f in job.trigger.fields if f.name in ("hour", "minute")} == {"hour": "4", "minute": "15"}
    with capture_logs() as logs:
        asyncio.run(worker.purge_job())
    assert [e for e in logs if e["event"] == "privacy.purged"] == [
        {"event": "privacy.purged", "parcels": 1, "notices": 1, "retention_days": 30, "log_level": "info"}]
    assert rows(worker.app.db)["OLD"][0].buyer_phone is None
    worker.app.close()
