"""The HTML report: structure checked with the stdlib parser, masking, escaping, no external assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.report.helpers import NOW, add_parcel, add_sample, clear, flag
from tests.support import make_settings
from watcher.cli.main import main
from watcher.report import FORMATS, generate, render
from watcher.store.db import Database, open_database

SETTINGS = make_settings(shop={"name": "小鲸鱼旗舰店"})
BUYER = ("13912345678", "13700001111", "张三丰", "李四")
_VOID = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "area", "base", "col", "embed", "track"}


@dataclass
class Page(HTMLParser):
    """Start tags in document order with their attributes, the text under each tag, and nesting."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    texts: dict[int, list[str]] = field(default_factory=dict)  # index in tags -> text inside it
    parents: dict[int, list[int]] = field(default_factory=dict)  # index in tags -> open ancestors
    stack: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        index = len(self.tags) - 1
        self.parents[index] = list(self.stack)
        if tag not in _VOID:
            self.stack.append(index)

    def handle_endtag(self, tag: str) -> None:
        for pos in range(len(self.stack) - 1, -1, -1):
            if self.tags[self.stack[pos]][0] == tag:
                del self.stack[pos:]
                return

    def handle_data(self, data: str) -> None:
        for index in self.stack:
            self.texts.setdefault(index, []).append(data)

    def text(self, index: int) -> str:
        return "".join(self.texts.get(index, []))

    def find(self, tag: str | None = None, **attrs: str) -> list[int]:
        return [i for i, (t, a) in enumerate(self.tags)
                if (tag is None or t == tag) and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def with_attr(self, name: str) -> list[int]:
        return [i for i, (_, a) in enumerate(self.tags) if name in a]


def parse(out: str) -> Page:
    page = Page()
    page.feed(out)
    page.close()
    return page


@pytest.fixture
def filled(db: Database) -> Database:
    add_sample(db)
    y = NOW - timedelta(days=1)
    add_parcel(db, "ZT3", [flag("stalled", "transit_stall", level=2)], raised_at=y,
               texts=('<script>alert("x")</script> & 到达【杭州】',))
    gone = add_parcel(db, "ZT4", [flag("stalled", "transit_stall")], raised_at=y)
    clear(db, gone, "stalled", NOW - timedelta(hours=2))
    return db


@pytest.fixture
def report(filled: Database):
    return generate(filled, SETTINGS, now=NOW)


def test_registered_and_on_the_command_line() -> None:
    from watcher.cli.main import build_parser

    assert "html" in FORMATS
    assert build_parser().parse_args(["report", "--format", "html"]).format == "html"


def test_page_head_and_one_h1(report) -> None:
    out = render(report, "html")
    page = parse(out)
    assert out.startswith("<!DOCTYPE html>")
    assert page.find("html", lang="zh-CN")
    assert page.find("meta", charset="utf-8")
    assert any("width=device-width" in page.tags[i][1].get("content", "") for i in page.find("meta", name="viewport"))
    assert len(page.find("h1")) == 1
    assert "小鲸鱼旗舰店" in page.text(page.find("h1")[0])
    style = page.find("style")
    assert len(style) == 1 and "@media print" in page.text(style[0]) and "max-width: 699px" in page.text(style[0])


def test_self_contained(report) -> None:
    page = parse(render(report, "html"))
    assert not page.find("script")
    assert not page.find("link") and not page.find("img") and not page.find("iframe")
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset"):
            if name in attrs:
                assert attrs[name].startswith(("tel:", "#")), (tag, attrs)
    css = page.text(page.find("style")[0])
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


def test_summary_first_then_call_list_then_sections(report) -> None:
    page = parse(render(report, "html"))
    summary = page.find(id="summary")[0]
    calls = page.find(id="call-list")[0]
    sections = [page.find(data_section=name)[0] for name in ("new", "open", "in_hand", "resolved")]
    assert summary < calls < sections[0] < sections[1] < sections[2] < sections[3]
    counts = {page.tags[i][1]["data-count"]: page.text(i) for i in page.find("li") if "data-count" in page.tags[i][1]}
    assert list(counts) == ["flagged_parcels", "new", "open", "in_hand", "resolved_today", "probable_losses",
                            "buyer_unreached", "buyers_to_phone"]
    s = report.summary
    for key, text in counts.items():
        assert text.split()[0] == str(s[key]), key
    assert s["resolved_today"] == 1 and s["probable_losses"] == 1


def test_section_headings_with_counts(report) -> None:
    page = parse(render(report, "html"))
    expected = {"new": len(report.section("new")), "open": len(report.section("open")),
                "in_hand": len(report.section("in_hand")), "resolved": len(report.resolved)}
    titles = {"new": "New since the last report", "open": "Still open", "in_hand": "In hand",
              "resolved": "Resolved today"}
    for name, count in expected.items():
        section = page.find("section", data_section=name)[0]
        assert page.tags[section][1]["data-count"] == str(count)
        heads = [i for i in page.find("h2") if section in page.parents[i]]
        assert len(heads) == 1
        assert titles[name] in page.text(heads[0]) and f"({count})" in page.text(heads[0])
    assert expected["new"] == 5  # no report before: every entry is new


def test_every_flagged_entry_once_grouped_by_flag_then_courier(report) -> None:
    page = parse(render(report, "html"))
    cards = [page.tags[i][1] for i in page.with_attr("data-tracking-number")]
    seen = [(a["data-tracking-number"], a["data-carrier"], a["data-flag"]) for a in cards]
    wanted = [(e.tracking_number, e.carrier, e.flag) for e in report.entries]
    assert sorted(seen) == sorted(wanted) and len(set(seen)) == len(seen)
    assert ("ZT2", "zhongtong", "stalled") in seen and ("ZT2", "zhongtong", "exception") in seen
    assert "ZT4" not in {s[0] for s in seen}  # resolved: listed under resolved today only
    assert [page.tags[i][1]["data-resolved-tracking-number"] for i in page.with_attr("data-resolved-tracking-number")] \
        == ["ZT4"]
    groups = [(page.tags[i][1]["data-flag"], page.tags[i][1]["data-carrier"])
              for i in page.find("h3") if page.find(data_section="new")[0] in page.parents[i]]
    assert groups == [("stalled", "zhongtong"), ("unreachable", "yuantong"), ("exception", "zhongtong")]


def test_entry_fields(report) -> None:
    page = parse(render(report, "html"))
    card = page.find("article", data_tracking_number="ZT1", data_flag="stalled")[0]
    text = page.text(card)
    for part in ("zhongtong", "O-ZT1", "杭州市", "+86139****5678", "张*", "transit", "派件员", "80 h",
                 "threshold 72 h", "+24 h: holiday", "level 1", "delayed sms failed", "phone the buyer"):
        assert part in text, part


def test_call_list_has_tel_links(report) -> None:
    page = parse(render(report, "html"))
    calls = page.find(id="call-list")[0]
    links = {page.tags[i][1]["href"]: page.text(i) for i in page.find("a") if calls in page.parents[i]}
    assert links == {"tel:13812345678": "13812345678", "tel:057112345678": "0571-12345678"}
    assert all(page.tags[i][1]["href"].startswith("#") for i in page.find("a") if calls not in page.parents[i])


def test_phones_masked_outside_the_call_list(filled: Database) -> None:
    out = render(generate(filled, SETTINGS, now=NOW), "html")
    for secret in BUYER:
        assert secret not in out, secret
    masked = render(generate(filled, make_settings(report={"unmask_call_list": False}), now=NOW), "html")
    for secret in (*BUYER, "13812345678", "0571-12345678"):
        assert secret not in masked, secret
    assert "tel:" not in masked  # a masked number is not dialable: shown, not linked


def test_checkpoint_text_escaped(report) -> None:
    out = render(report, "html")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; 到达【杭州】" in out
    page = parse(out)
    card = page.find("article", data_tracking_number="ZT3")[0]
    assert '<script>alert("x")</script> & 到达【杭州】' in page.text(card)


def test_empty_report(db: Database) -> None:
    page = parse(render(generate(db, SETTINGS, now=NOW), "html"))
    assert len(page.find("h1")) == 1 and not page.with_attr("data-tracking-number")
    assert [page.tags[i][1]["data-count"] for i in page.find("section") if "data-section" in page.tags[i][1]] \
        == ["0", "0", "0", "0", "0", "0", "0"]


def test_cli_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = open_database(url)
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=NOW - timedelta(days=1))
    db.dispose()
    config = tmp_path / "pw.toml"
    config.write_text(f'[shop]\nname = "小鲸鱼"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    target = tmp_path / "stall.html"
    capsys.readouterr()
    code = main(["--config", str(config), "report", "--format", "html", "--output", str(target)])
    assert code == 0
    page = parse(target.read_text(encoding="utf-8"))
    assert [page.tags[i][1]["data-tracking-number"] for i in page.with_attr("data-tracking-number")] == ["ZT1"]
