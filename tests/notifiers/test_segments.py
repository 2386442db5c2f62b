"""SMS segment counting: GSM-7 vs UCS-2, extension characters, emoji, part boundaries."""

from __future__ import annotations

import pytest

import notifiers.segments as seg
from notifiers.segments import encoding, length_units, segments


def test_public_api_is_pinned() -> None:
    assert set(seg.__all__) == {
        "Encoding", "GSM7_BASIC", "GSM7_EXTENSION", "LIMITS", "encoding", "length_units", "segments",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your parcel has shipped.", "GSM-7"),
        ("Café è à ñ ü Ä £$¥ @ _ Δ\n", "GSM-7"),
        ("braces {} [] ~ ^ | \\ and €", "GSM-7"),
        ("您的包裹已发货", "UCS-2"),
        ("smart quote ’", "UCS-2"),
        ("ç lower-case cedilla is not GSM", "UCS-2"),  # only Ç is in the basic set
        ("emoji 📦", "UCS-2"),
        ("", "GSM-7"),
    ],
)
def test_encoding(text: str, expected: str) -> None:
    assert encoding(text) == expected


@pytest.mark.parametrize(
    ("text", "units", "parts"),
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("a" * 306, 306, 2),
        ("a" * 307, 307, 3),
        ("中" * 70, 70, 1),
        ("中" * 71, 71, 2),
        ("中" * 134, 134, 2),
        ("中" * 135, 135, 3),
        ("中" * 201, 201, 3),
        ("中" * 202, 202, 4),
    ],
)
def test_known_lengths(text: str, units: int, parts: int) -> None:
    assert length_units(text) == units
    assert segments(text) == parts


def test_extension_characters_cost_two_septets() -> None:
    assert length_units("€") == 2
    assert length_units("{}[]~^|\\") == 16
    assert segments("a" * 158 + "€") == 1  # 160 septets
    assert segments("a" * 159 + "€") == 2  # 161 septets
    # an escape pair is never split: 152 + 2 does not fit part one's 153
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 151 + "€" + "a" * 153) == 2


def test_one_non_gsm_character_switches_the_whole_message_to_ucs2() -> None:
    text = "a" * 70
    assert segments(text) == 1 and segments(text + "中") == 2
    assert segments("a" * 100) == 1 and segments("a" * 100 + "’") == 2


def test_emoji_count_two_utf16_units() -> None:
    assert length_units("📦") == 2
    assert segments("中" * 68 + "📦") == 1  # 70 units
    assert segments("中" * 69 + "📦") == 2  # 71 units
    # a surrogate pair is never split across parts
    assert segments("中" * 66 + "📦" + "中" * 66) == 3
    assert segments("中" * 65 + "📦" + "中" * 67) == 2


def test_signed_chinese_notice() -> None:
    body = "【小鲸鱼】您的订单已由中通快递发出，运单号123456789012345。回T退订"
    assert encoding(body) == "UCS-2"
    assert length_units(body) == len(body)
    assert segments(body) == 1
