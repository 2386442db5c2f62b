"""The ops notifier: real apprise, posting to a local stand-in for the ops chat."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from notifiers.apprise_ops import OpsNotifier, mask_url
from tests.fakes.ops_webhook import OpsWebhookFake, apprise_url, serve_in_thread
from watcher.errors import ConfigError
from watcher.logs import MaskingFilter


@pytest.fixture
def chat():
    fake = OpsWebhookFake()
    with serve_in_thread(fake) as base:
        yield fake, base


def files(tmp_path: Path) -> list[Path]:
    html = tmp_path / "stall-report-2026-11-26.html"
    html.write_text("<!DOCTYPE html><title>报告</title>", encoding="utf-8")
    csv = tmp_path / "stall-report-2026-11-26.csv"
    csv.write_bytes("\ufeffflag,单号\r\nstalled,ZT1\r\n".encode("utf-8"))
    return [html, csv]


def test_summary_and_files_reach_the_chat(chat, tmp_path: Path) -> None:
    fake, base = chat
    notifier = OpsNotifier([apprise_url(base, "/ops")], sleep=lambda s: None)
    (delivery,) = notifier.send("小鲸鱼 stall report", "flagged parcels 3", files(tmp_path))
    assert delivery.ok and delivery.attempts == 1 and delivery.attachments
    (message,) = fake.messages
    assert message["path"] == "/ops" and message["title"] == "小鲸鱼 stall report"
    assert message["message"] == "flagged parcels 3"
    got = {a["filename"]: a["data"] for a in message["attachments"]}
    assert got["stall-report-2026-11-26.csv"].startswith(b"\xef\xbb\xbf")  # the BOM travels with the file
    assert "报告".encode() in got["stall-report-2026-11-26.html"]


def test_failures_are_retried_then_reported_per_destination(chat) -> None:
    fake, base = chat
    pauses: list[float] = []
    fake.fail_next(2, status=500)
    notifier = OpsNotifier([apprise_url(base, "/a")], attempts=3, pause=30, sleep=pauses.append)
    (delivery,) = notifier.send("t", "body")
    assert delivery.ok and delivery.attempts == 3 and pauses == [30, 60]
    fake.fail_next(5, status=503)
    pauses.clear()
    with capture_logs() as logs:
        (delivery,) = notifier.send("t", "body")
    assert not delivery.ok and delivery.attempts == 3 and len(fake.messages) == 1
    assert [e["event"] for e in logs if e["event"].startswith("ops.")] == ["ops.failed"]


def test_one_dead_destination_does_not_stop_the_others(chat) -> None:
    fake, base = chat
    dead = "json://127.0.0.1:9/nobody-listens"
    results = OpsNotifier([dead, apprise_url(base)], attempts=1).send("t", "body")
    assert [d.ok for d in results] == [False, True] and len(fake.messages) == 1


def test_secrets_in_urls_never_show(chat) -> None:
    fake, base = chat
    url = apprise_url(base, "/hook", userinfo="ops:s3cr3t-pass")
    secrets = ("s3cr3t-pass", "SECRETTOKEN0123456789abcdef")
    notifier = OpsNotifier([url, "dingtalk://SECRETTOKEN0123456789abcdef/"], attempts=1)
    shown = repr(notifier) + " ".join(notifier.destinations)
    with capture_logs() as logs:
        notifier.send("t", "body")
    shown += repr(logs)
    for secret in secrets:
        assert secret not in shown
    assert "dingtalk://" in shown and fake.requests[0]["headers"]["authorization"].startswith("Basic ")


def test_a_url_apprise_cannot_use_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^report.notify\[1\]: apprise cannot use nosuch://\*\*\*") as err:
        OpsNotifier(["json://127.0.0.1:9/", "nosuch://token-123@x/"])
    assert "token-123" not in str(err.value)
    assert mask_url("not a url at all") == "***"


def test_library_log_lines_lose_their_urls_and_phones() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.apprise_like")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(MaskingFilter())
    try:
        logger.warning("Failed to send to %s for %s", "https://oapi.dingtalk.com/robot/send?access_token=abc123",
                       "13912345678")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "abc123" not in out and "13912345678" not in out and "https://***" in out and "139****5678" in out
