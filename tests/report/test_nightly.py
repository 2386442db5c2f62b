"""The nightly report: dated files, the run recorded, the summary through apprise, the `run` job."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.ops_webhook import OpsWebhookFake, apprise_url, serve_in_thread
from tests.report.helpers import NOW, add_parcel, flag
from tests.support import make_settings, scheduled_jobs
from watcher.app import App
from watcher.clock import ManualClock
from watcher.report import generate
from watcher.report.nightly import missed_today, run_nightly, summary_message, write_files
from watcher.store.db import Database

DAY = "2026-11-20"  # NOW is 21:30 that day in Shanghai


@pytest.fixture
def chat():
    fake = OpsWebhookFake()
    with serve_in_thread(fake) as base:
        yield fake, apprise_url(base, "/ops")


@pytest.fixture
def flagged(db: Database) -> Database:
    y = NOW - timedelta(days=1)
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall", level=2)], raised_at=y)
    add_parcel(db, "YT1", [flag("unreachable", "out_of_area", hours=None, threshold=None, level=0)], raised_at=y,
               courier="yuantong")
    return db


def test_files_are_named_by_the_shop_day_and_replaced_whole(flagged: Database, tmp_path: Path) -> None:
    report = generate(flagged, make_settings(), now=NOW)
    files = write_files(report, tmp_path / "out")
    assert {fmt: p.name for fmt, p in files.items()} == {
        "html": f"stall-report-{DAY}.html", "csv": f"stall-report-{DAY}.csv", "json": f"stall-report-{DAY}.json",
        "text": f"stall-report-{DAY}.txt"}
    assert files["csv"].read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(json.loads(files["json"].read_text(encoding="utf-8"))["flagged"]) == 2
    write_files(report, tmp_path / "out")  # the same day again: replaced, no temporary files left
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in files.values())


def test_run_writes_records_and_sends(flagged: Database, chat, tmp_path: Path) -> None:
    fake, url = chat
    settings = make_settings(shop={"name": "小鲸鱼"}, report={
        "notify": [url], "output_dir": str(tmp_path / "reports"), "link_base": "https://ops.example.com/r"})
    result = run_nightly(flagged, settings, now=NOW)
    assert result.delivered and [d.attachments for d in result.deliveries] == [True]
    assert all(p.exists() and p.parent == tmp_path / "reports" for p in result.files.values())
    (message,) = fake.messages
    assert message["title"] == "小鲸鱼 stall report 2026-11-20 21:30"
    body = message["message"]
    assert "flagged parcels 2: new 2, still open 0, in hand 0" in body
    lines = body.splitlines()
    first = lines[lines.index("first:") + 1:lines.index("first:") + 3]
    assert first == ["- ZT1 zhongtong stalled 80 h: open a claim with the courier (probably lost)",  # claims first
                     "- YT1 yuantong unreachable 80 h: re-ship by another courier (area not served)"]
    assert f"html: https://ops.example.com/r/stall-report-{DAY}.html" in body
    assert "13912345678" not in body and "13812345678" not in body
    assert sorted(a["filename"] for a in message["attachments"]) == [f"stall-report-{DAY}.csv",
                                                                    f"stall-report-{DAY}.html"]
    # the run is recorded: the next report's "new" starts after it
    later = generate(flagged, settings, now=NOW + timedelta(hours=1))
    assert later.since == NOW and later.summary["new"] == 0 and later.summary["open"] == 2


def test_summary_without_flags_or_links(db: Database, tmp_path: Path) -> None:
    report = generate(db, make_settings(), now=NOW)
    title, body = summary_message(report, write_files(report, tmp_path))
    assert "flagged parcels 0" in body and "first:" not in body and "https://" not in body
    assert body.splitlines()[-1] == f"files: stall-report-{DAY}.html, stall-report-{DAY}.csv"


def test_a_missed_night_is_caught_up_once(db: Database) -> None:
    settings = make_settings(report={"at": "21:30"})
    assert not missed_today(db, settings, NOW - timedelta(minutes=1))  # before 21:30
    assert missed_today(db, settings, NOW + timedelta(minutes=40))  # after, nothing written yet today
    run_nightly(db, settings, now=NOW + timedelta(minutes=40))
    assert not missed_today(db, settings, NOW + timedelta(hours=2))
    # the next day starts afresh
    assert missed_today(db, settings, NOW + timedelta(days=1, minutes=1))


def _worker(tmp_path: Path, clock: ManualClock, **report: object):
    from watcher.daemon import Worker

    settings = make_settings(database={"url": f"sqlite:///{tmp_path / 'w.db'}"}, report=report)
    return Worker(App(settings, clock=clock))


def test_run_schedules_the_report_at_shop_time_and_catches_up(tmp_path: Path, chat) -> None:
    fake, url = chat
    early = _worker(tmp_path, ManualClock(NOW - timedelta(hours=2)), at="21:30")
    job = scheduled_jobs(early)["report"]
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    assert {f.name: str(f) for f in job.trigger.fields if f.name in ("hour", "minute")} == {"hour": "21", "minute": "30"}
    assert job.misfire_grace_time == 3600

    late_clock = ManualClock(NOW + timedelta(minutes=45))
    late = _worker(tmp_path, late_clock, at="21:30", notify=[url])
    job = scheduled_jobs(late)["report"]
    assert job.next_run_time == late_clock.now()  # the daemon was down at 21:30: run now
    asyncio.run(late.report_job())
    assert len(fake.messages) == 1 and Path("reports", f"stall-report-{DAY}.html").exists()
    assert not missed_today(late.app.db, late.app.settings, late_clock.now())
    late.app.close()
    early.app.close()


def test_an_empty_report_time_switches_the_nightly_report_off(tmp_path: Path) -> None:
    worker = _worker(tmp_path, ManualClock(NOW + timedelta(hours=1)), at="")
    assert "report" not in scheduled_jobs(worker) and "poll" in scheduled_jobs(worker)
    worker.app.close()


def test_bad_notify_url_stops_run_at_start(tmp_path: Path) -> None:
    from watcher.errors import ConfigError

    with pytest.raises(ConfigError, match=r"report.notify\[0\]"):
        _worker(tmp_path, ManualClock(NOW), notify=["nosuch://abc"])


def test_report_send_cli(tmp_path: Path, chat, capsys: pytest.CaptureFixture[str]) -> None:
    from watcher.cli.main import main

    fake, url = chat
    url = url.replace("json://", "json://ops:pa55word-xyz@")
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    from watcher.store.db import open_database

    db = open_database(db_url)
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=NOW - timedelta(days=1))
    db.dispose()
    config = tmp_path / "pw.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[report]\noutput_dir = "{tmp_path / "out"}"\n'
                      f'notify = ["{url}"]\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(config), "report", "--send"]) == 0
    out, err = capsys.readouterr()
    assert "pa55word-xyz" not in out + err
    assert "report: 1 flagged entries -> " in err and "sent: json://" in err and "with files" in err
    assert len(fake.messages) == 1 and len(list((tmp_path / "out").iterdir())) == 4

    fake.fail_next(10)
    from unittest import mock

    with mock.patch("time.sleep") as slept:  # the CLI's pauses between attempts
        assert main(["--config", str(config), "report", "--send"]) == 1
    assert [c.args[0] for c in slept.call_args_list] == [30, 60] and len(fake.messages) == 1
    assert "FAILED: json://" in capsys.readouterr()[1]

    assert main(["--config", str(config), "report", "--send", "--output", "x.html"]) == 2
    assert "--send writes the dated files" in capsys.readouterr()[1]
