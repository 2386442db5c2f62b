"""Logging: phones masked everywhere, secrets never printed, JSON off a terminal."""

from __future__ import annotations

import io
import json

import structlog

from watcher.logs import configure_logging
from watcher.redact import mask_name, mask_phone, mask_text


def test_mask_helpers() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("+8613912345678") == "+86139****5678"
    assert mask_phone("") == ""
    assert mask_phone("1380000") == "13***00"
    assert mask_name("张三丰") == "张*" and mask_name("张") == "*" and mask_name(" Alice ") == "A*"
    assert mask_text("派件员 电话：13812345678，备用 +86 139 1234 5678") == "派件员 电话：138****5678，备用 +86 139****5678"
    assert "5550123" not in mask_text("call +14155550123 now")


def test_log_lines_are_json_with_phones_and_secrets_masked() -> None:
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    log = structlog.get_logger("t")
    log.info("notice.sent", buyer_phone="+8613912345678", key="k-secret", auth_token="tw-secret",
             text="请联系 13812345678", nested={"token": "abc", "phone": "13700001111"})
    line = json.loads(stream.getvalue().strip())
    assert line["event"] == "notice.sent" and line["level"] == "info" and line["timestamp"].endswith("Z")
    raw = stream.getvalue()
    for secret in ("13912345678", "k-secret", "tw-secret", "13812345678", "abc", "13700001111"):
        assert secret not in raw
    assert line["buyer_phone"] == "+86139****5678"


def test_debug_is_filtered_at_info_level() -> None:
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    structlog.get_logger("t").debug("poll.detail", n=1)
    assert stream.getvalue() == ""
