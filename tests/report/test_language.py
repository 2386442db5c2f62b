"""report.language: the words people read (text, HTML, chat summary) in English or Chinese;
JSON and CSV keep their English keys either way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.report.helpers import NOW, add_sample
from tests.support import make_settings
from watcher.report import generate, render
from watcher.report.labels import LANGUAGES, _LABELS, labels
from watcher.report.nightly import summary_message, write_files
from watcher.store.db import Database

ZH = make_settings(shop={"name": "小鲸鱼"}, report={"language": "zh-CN"})


@pytest.fixture
def sample(db: Database) -> Database:
    add_sample(db)
    return db


def test_every_label_exists_in_every_language_with_the_same_placeholders() -> None:
    for key, pair in _LABELS.items():
        assert len(pair) == len(LANGUAGES) and all(pair), key
        placeholders = {tuple(sorted(re.findall(r"{(\w+)}", text))) for text in pair}
        assert len(placeholders) == 1, (key, placeholders)


def test_chinese_text_report(sample: Database) -> None:
    out = render(generate(sample, ZH, now=NOW), "text")
    assert out.startswith("小鲸鱼 — 异常件日报 2026-11-20 21:30")
    for words in ("上次报告后新增 (4)", "仍未处理 (0)", "处理中（已确认） (0)", "今日已解决 (0)", "待拨电话",
                  "下一步: 致电快递网点", "80 小时无更新 (阈值 72 h 含 +24 h holiday)", "快递表现"):
        assert words in out, words
    for english in ("New since the last report", "threshold", "next:", "Call list"):
        assert english not in out, english


def test_chinese_html_page(sample: Database) -> None:
    page = render(generate(sample, ZH, now=NOW), "html")
    assert "<h1>小鲸鱼 — 异常件日报</h1>" in page and "<dt>最后轨迹</dt>" in page and "致电快递网点" in page
    assert 'lang="zh-CN"' in page and "New since the last report" not in page
    # the machine-readable attributes do not change with the language
    assert page.count('class="entry"') == 4 and 'data-section="new"' in page


def test_json_and_csv_do_not_change_with_the_language(sample: Database) -> None:
    en, zh = generate(sample, make_settings(shop={"name": "小鲸鱼"}), now=NOW), generate(sample, ZH, now=NOW)
    assert json.loads(render(en, "json")) == json.loads(render(zh, "json"))
    assert render(en, "csv") == render(zh, "csv")


def test_chinese_chat_summary(sample: Database, tmp_path: Path) -> None:
    report = generate(sample, ZH, now=NOW)
    title, body = summary_message(report, write_files(report, tmp_path))
    assert title == "小鲸鱼 异常件日报 2026-11-20 21:30"
    assert body.startswith("异常件 3 件：新增 4，未处理 0，处理中 0；今日解决 0")
    assert "优先处理：" in body and "改用其他快递重发（超区）" in body


def test_unknown_language_is_refused_naming_the_key() -> None:
    from watcher.errors import ConfigError

    with pytest.raises(ConfigError, match="report.language"):
        make_settings(report={"language": "fr"})
    assert labels("en")["new"] == "new"
