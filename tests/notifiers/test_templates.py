"""Notice templates: every kind in every language renders, SMS fit two segments, overrides win, errors name the file."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import notifiers.templates as templates
from notifiers.segments import encoding, segments
from notifiers.templates import (
    KINDS,
    NoticeContext,
    TemplateError,
    available_languages,
    language_candidates,
    render,
)
from watcher.errors import ConfigError

CHECKPOINT = "【乌鲁木齐市】快件已到达乌鲁木齐转运中心，正在派件中，派件员"  # 30 characters

#: realistic worst case: long order id, Chinese signature, city and checkpoint, a greeting, a contact
ZH = NoticeContext(
    shop_name="小鲸鱼旗舰店",
    signature="小鲸鱼",
    order_id="3712345678901234567",
    courier_name="中通快递",
    tracking_number="781234567890123",
    city="乌鲁木齐市",
    last_checkpoint=CHECKPOINT,
    buyer_name="张**",
    contact="400-820-1234",
    language="zh-CN",
)
#: an English-speaking buyer of the same shop: the SMS is UCS-2 because of the Chinese values
EN_CJK = dataclasses.replace(ZH, courier_name="ZTO Express", language="en")
#: an all-ASCII English shop: GSM-7
EN_ASCII = dataclasses.replace(
    EN_CJK,
    shop_name="Little Whale Store",
    signature="Little Whale",
    city="Urumqi",
    last_checkpoint="Arrived at Urumqi sorting center, out for delivery with courier Li",
    buyer_name="Zhang",
)
MINIMAL = NoticeContext(
    shop_name="小鲸鱼旗舰店", signature="", order_id="", courier_name="中通快递", tracking_number="781234567890123",
)


def test_public_api_is_pinned() -> None:
    assert set(templates.__all__) == {
        "KINDS", "CHANNEL_KINDS", "DEFAULT_LANGUAGE", "BUILTIN_DIR", "NoticeContext", "TemplateError",
        "render", "available_languages", "language_candidates",
    }
    assert KINDS == ("dispatch", "arrived_city", "delay", "unreachable", "follow_up")
    assert issubclass(TemplateError, ConfigError)


def test_realistic_values_are_realistic() -> None:
    assert len(CHECKPOINT) == 30 and len(ZH.order_id) == 19 and len(ZH.tracking_number) == 15


def test_builtin_languages() -> None:
    assert available_languages() == ["en", "zh-CN"]
    for language in available_languages():
        assert sorted(p.stem for p in (templates.BUILTIN_DIR / language).glob("*.j2")) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ctx", [ZH, EN_CJK, EN_ASCII, MINIMAL, dataclasses.replace(MINIMAL, language="en")],
                         ids=["zh", "en-cjk", "en-ascii", "zh-minimal", "en-minimal"])
@pytest.mark.parametrize("channel_kind", ["sms", "chat"])
def test_every_kind_renders_in_every_language(kind: str, ctx: NoticeContext, channel_kind: str) -> None:
    body = render(kind, ctx, channel_kind=channel_kind)
    assert body and body == body.strip()
    assert ctx.tracking_number in body or kind == "unreachable"
    assert "None" not in body and "{" not in body and "  " not in body


@pytest.mark.parametrize("kind", KINDS)
def test_zh_sms_fits_two_segments_and_is_signed_once(kind: str) -> None:
    body = render(kind, ZH)
    assert encoding(body) == "UCS-2"
    assert segments(body) <= 2, (len(body), body)
    assert body.startswith("【小鲸鱼】")
    assert body.count("【") == 1 and body.count("】") == 1  # the checkpoint's own 【…】 are neutralised
    assert body.count("小鲸鱼") == 1
    assert body.endswith("回T退订")
    assert "\n" not in body  # one line
    assert not re.search(r"[\u4e00-\u9fff，。）] +[\u4e00-\u9fff（]", body)  # no spaces between Chinese


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ctx", [EN_CJK, EN_ASCII], ids=["ucs2", "gsm7"])
def test_en_sms_fits_two_segments(kind: str, ctx: NoticeContext) -> None:
    body = render(kind, ctx)
    assert segments(body) <= 2, (len(body), body)
    assert body.startswith(f"{ctx.signature}: ")
    assert body.endswith("Reply STOP to opt out")
    assert "\n" not in body


@pytest.mark.parametrize("kind", KINDS)
def test_ascii_english_stays_gsm7(kind: str) -> None:
    assert encoding(render(kind, EN_ASCII)) == "GSM-7"  # a clipped checkpoint ends in "...", not "…"


def test_content_per_kind_zh() -> None:
    assert "已由中通快递发出" in render("dispatch", ZH) and ZH.order_id in render("dispatch", ZH)
    assert "已到达乌鲁木齐市" in render("arrived_city", ZH) and "即将" in render("arrived_city", ZH)
    assert "耽搁" in render("delay", ZH) and "已联系快递网点" in render("delay", ZH)
    unreachable = render("unreachable", ZH)
    assert "EMS/邮政" in unreachable and "400-820-1234" in unreachable
    assert "订单页联系客服" in render("unreachable", dataclasses.replace(ZH, contact=""))
    follow_up = render("follow_up", ZH)
    assert "仍在跟进" in follow_up and "最新进展：[乌鲁木齐市]快件已到达" in follow_up


def test_content_per_kind_en() -> None:
    assert "has shipped: ZTO Express 781234567890123" in render("dispatch", EN_ASCII)
    assert "arrived in Urumqi" in render("arrived_city", EN_ASCII)
    assert "delayed" in render("delay", EN_ASCII)
    assert "EMS" in render("unreachable", EN_ASCII) and "Help: 400-820-1234." in render("unreachable", EN_ASCII)
    assert "(latest: Arrived at Urumqi sorting c...)" in render("follow_up", EN_ASCII)


def test_no_marketing_no_links_no_emoji() -> None:
    for ctx in (ZH, EN_ASCII):
        for kind in KINDS:
            body = render(kind, ctx)
            assert "http" not in body and "www." not in body
            assert all(ord(ch) <= 0xFFFF for ch in body)


def test_chat_has_no_signature_and_no_opt_out() -> None:
    for kind in KINDS:
        zh, en = render(kind, ZH, channel_kind="chat"), render(kind, EN_ASCII, channel_kind="chat")
        assert not zh.startswith("【") and "退订" not in zh
        assert not en.startswith("Little Whale") and "STOP" not in en


def test_signature_falls_back_to_shop_name_and_is_not_doubled() -> None:
    assert render("delay", MINIMAL).startswith("【小鲸鱼旗舰店】")
    bracketed = render("delay", dataclasses.replace(ZH, signature=" 【小鲸鱼】 "))
    assert bracketed == render("delay", ZH) and bracketed.count("【") == 1
    with pytest.raises(TemplateError, match="signature"):
        render("delay", dataclasses.replace(MINIMAL, shop_name=""))


def test_greeting_only_with_a_name() -> None:
    assert render("delay", ZH).startswith("【小鲸鱼】张**您好，")
    assert render("delay", dataclasses.replace(ZH, buyer_name=None)).startswith("【小鲸鱼】您的包裹")
    assert render("delay", dataclasses.replace(EN_ASCII, buyer_name=None)).startswith("Little Whale: Your parcel")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-CN", ["zh-CN", "zh"]),
        ("zh_cn", ["zh-CN", "zh"]),
        ("zh", ["zh", "zh-CN"]),
        ("zh-TW", ["zh-TW", "zh", "zh-CN"]),
        ("en-US", ["en-US", "en", "zh-CN"]),
        ("", ["zh-CN", "zh"]),
    ],
)
def test_language_candidates(language: str, expected: list[str]) -> None:
    assert language_candidates(language) == expected


@pytest.mark.parametrize(
    ("language", "marker"),
    [("zh", "【"), ("zh-TW", "【"), ("en-GB", "Reply STOP"), ("EN", "Reply STOP"), ("fr", "【"), ("", "【")],
)
def test_language_fallback(language: str, marker: str) -> None:
    assert marker in render("dispatch", dataclasses.replace(ZH, language=language))


def test_unknown_kind_and_channel_kind() -> None:
    with pytest.raises(ValueError, match="unknown notice kind 'refund'"):
        render("refund", ZH)
    with pytest.raises(ValueError, match="unknown channel kind"):
        render("dispatch", ZH, channel_kind="email")


def _write(root: Path, language: str, kind: str, text: str) -> Path:
    path = root / language / f"{kind}.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_override_takes_precedence(tmp_path: Path) -> None:
    _write(tmp_path, "zh-CN", "delay", "亲，您的{{ courier_name }}包裹\n  {{ tracking_number }} 暂时延误，小鲸鱼正在催促。\n")
    body = render("delay", ZH, override_dir=tmp_path)
    assert body == "【小鲸鱼】亲，您的中通快递包裹 781234567890123 暂时延误，小鲸鱼正在催促。回T退订"
    # kinds and languages without an override keep the built-ins
    assert render("dispatch", ZH, override_dir=tmp_path) == render("dispatch", ZH)
    assert render("delay", EN_ASCII, override_dir=tmp_path) == render("delay", EN_ASCII)


def test_override_for_a_base_language_beats_the_default_builtin(tmp_path: Path) -> None:
    _write(tmp_path, "zh-TW", "dispatch", "您的訂單已由{{ courier_name }}寄出。")
    _write(tmp_path, "fr", "dispatch", "Votre commande est partie ({{ tracking_number }}).")
    assert render("dispatch", dataclasses.replace(ZH, language="zh-TW"), override_dir=tmp_path) == (
        "【小鲸鱼】您的訂單已由中通快递寄出。回T退订"
    )
    assert render("dispatch", dataclasses.replace(ZH, language="fr-FR"), override_dir=tmp_path) == (
        "小鲸鱼: Votre commande est partie (781234567890123). Reply STOP to opt out"
    )
    assert available_languages(tmp_path) == ["en", "fr", "zh-CN", "zh-TW"]
    assert available_languages(tmp_path / "missing") == ["en", "zh-CN"]


def test_override_that_writes_its_own_signature_and_opt_out_is_not_doubled(tmp_path: Path) -> None:
    _write(tmp_path, "zh-CN", "delay", "【小鲸鱼】包裹{{ tracking_number }}延误，我们在跟进。拒收请回复退订")
    _write(tmp_path, "en", "delay", "Little Whale: parcel {{ tracking_number }} is late. Text STOP to stop.")
    zh = render("delay", ZH, override_dir=tmp_path)
    assert zh == "【小鲸鱼】包裹781234567890123延误，我们在跟进。拒收请回复退订"
    en = render("delay", EN_ASCII, override_dir=tmp_path)
    assert en == "Little Whale: parcel 781234567890123 is late. Text STOP to stop."


def test_bad_override_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "zh-CN", "follow_up", "您的包裹\n{{ tracking_numbr }}仍在跟进。")
    with pytest.raises(TemplateError) as info:
        render("follow_up", ZH, override_dir=tmp_path)
    message = str(info.value)
    assert str(path.resolve()) in message and "tracking_numbr" in message and "is undefined" in message
    assert f"{path.resolve()}:2" in message  # the line, too


def test_override_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "en", "dispatch", "Shipped {% if buyer_name %}!")
    with pytest.raises(TemplateError, match=str(path.name)) as info:
        render("dispatch", EN_ASCII, override_dir=tmp_path)
    assert str(path.resolve()) in str(info.value)


def test_plain_text_no_autoescape(tmp_path: Path) -> None:
    _write(tmp_path, "en", "dispatch", "{{ contact }}")
    body = render("dispatch", dataclasses.replace(EN_ASCII, contact="<Tom & Jerry's>"), override_dir=tmp_path)
    assert "<Tom & Jerry's>" in body


def test_override_change_is_picked_up(tmp_path: Path) -> None:
    path = _write(tmp_path, "en", "delay", "first {{ tracking_number }}")
    assert "first" in render("delay", EN_ASCII, override_dir=tmp_path)
    path.write_text("second {{ tracking_number }}", encoding="utf-8")
    import os

    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    assert "second" in render("delay", EN_ASCII, override_dir=tmp_path)
