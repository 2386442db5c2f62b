"""Pure row validation: every kind of bad value gets a precise, log-safe reason."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from watcher.intake.rows import ParcelInput, RowError, merge_duplicates, parse_time, validate_row

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 4, 0, tzinfo=timezone.utc)
BASE = {"carrier": "中通", "tracking_number": "ZT0000000001"}


def check(**values: str | None) -> ParcelInput | RowError:
    return validate_row({**BASE, **values}, line=7, shop_tz=SHANGHAI, now=NOW)


def error(**values: str | None) -> RowError:
    result = check(**values)
    assert isinstance(result, RowError), result
    assert result.line == 7
    return result


def good(**values: str | None) -> ParcelInput:
    result = check(**values)
    assert isinstance(result, ParcelInput), str(result)
    return result


def test_full_row_is_canonicalized() -> None:
    parcel = good(
        carrier=" ZTO ",
        tracking_number=" 7512 3456 7890 ",
        order_id="TB-1",
        buyer_name="张三",
        buyer_phone="138 1234 5678",
        buyer_chat_id="wa:1",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="文三路90号",
        shipped_at="2026-11-20 18:30",
        language="zh-cn",
    )
    assert parcel == ParcelInput(
        courier="zhongtong",
        tracking_number="751234567890",
        order_id="TB-1",
        buyer_name="张三",
        buyer_phone="+8613812345678",
        buyer_chat_id="wa:1",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="文三路90号",
        shipped_at=datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc),
        language="zh-CN",
    )
    assert parcel.key == ("zhongtong", "751234567890")


def test_empty_optional_values_become_none() -> None:
    parcel = good(order_id="", buyer_phone="  ", shipped_at=None, language="")
    assert (parcel.order_id, parcel.buyer_phone, parcel.shipped_at, parcel.language) == (None,) * 4


# -- carrier ------------------------------------------------------------------
@pytest.mark.parametrize(("text", "code"), [("顺丰", "shunfeng"), ("sf", "shunfeng"), ("J&T", "jtexpress")])
def test_carrier_aliases(text: str, code: str) -> None:
    assert good(carrier=text).courier == code


def test_unknown_carrier_lists_codes_and_mentions_aliases() -> None:
    err = error(carrier="顺风耳")
    assert err.column == "carrier"
    assert "unknown courier '顺风耳'" in err.reason
    assert "zhongtong" in err.reason and "shunfeng" in err.reason
    assert "中通" in err.reason


def test_missing_carrier() -> None:
    err = error(carrier="")
    assert (err.column, err.reason.split(";")[0]) == ("carrier", "missing")


# -- tracking number ----------------------------------------------------------
@pytest.mark.parametrize("number", ["SIM-NORMAL-ZT0001", "ab1234", "x" * 40, "ＹＴ１２３４５６７"])
def test_good_tracking_numbers_keep_their_case(number: str) -> None:
    import unicodedata

    assert good(tracking_number=number).tracking_number == unicodedata.normalize("NFKC", number)


@pytest.mark.parametrize("number", ["12345", "x" * 41, "ZT 12_34567", "ZT1234/5", "运单123456"])
def test_bad_tracking_numbers(number: str) -> None:
    err = error(tracking_number=number)
    assert err.column == "tracking_number"
    assert err.reason.startswith("bad tracking number")
    assert "6-40 letters, digits or '-'" in err.reason


def test_missing_tracking_number() -> None:
    assert str(error(tracking_number=None)) == "line 7: tracking_number: missing"


@pytest.mark.parametrize("number", ["7.51235E+11", "7.51234567891e+14", "7E+11"])
def test_excel_scientific_notation(number: str) -> None:
    err = error(tracking_number=number)
    assert "looks like Excel scientific notation" in err.reason


# -- phone --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("010-12345678", "+861012345678"),
        ("+1 415 555 2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_become_e164(text: str, e164: str) -> None:
    assert good(buyer_phone=text).buyer_phone == e164


def test_invalid_phone_reason_is_precise_and_masked() -> None:
    err = error(buyer_phone="12345678901")
    assert err.column == "buyer_phone"
    assert err.reason == (
        "invalid phone number 123****8901 "
        "(expected a mainland mobile such as 13812345678 or an international +… number)"
    )
    assert "12345678901" not in str(err)


def test_short_invalid_phone_is_shown_as_given() -> None:
    assert error(buyer_phone="12345").reason.startswith("invalid phone number 12345 (")


def test_phone_that_is_not_a_number() -> None:
    assert error(buyer_phone="call me").reason.startswith("invalid phone number call me (")


def test_phone_in_scientific_notation() -> None:
    err = error(buyer_phone="1.38123E+10")
    assert err.column == "buyer_phone"
    assert "Excel scientific notation" in err.reason


# -- time ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20 18:30", datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)),
        ("2026-11-20 18:30:15", datetime(2026, 11, 20, 10, 30, 15, tzinfo=timezone.utc)),
        ("2026/11/20 18:30", datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)),
        ("2026/1/5 8:05:09", datetime(2026, 1, 5, 0, 5, 9, tzinfo=timezone.utc)),
        ("2026-11-20", datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc)),
        ("2026-11-20T18:30:00+08:00", datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)),
        ("2026-11-20T10:30:00Z", datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)),
        ("2026-11-20T18:30", datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)),
        ("2026年11月20日 18:30", datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    parsed = good(shipped_at=text).shipped_at
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None and parsed.tzinfo == timezone.utc


def test_naive_times_use_the_shop_zone() -> None:
    assert parse_time("2026-11-20 18:30", ZoneInfo("Europe/London")) == datetime(
        2026, 11, 20, 18, 30, tzinfo=timezone.utc
    )


@pytest.mark.parametrize("text", ["20/11/2026", "yesterday", "2026-13-01", "2026-11-20 25:00", "45980.77"])
def test_bad_times(text: str) -> None:
    err = error(shipped_at=text)
    assert err.column == "shipped_at"
    assert err.reason == f"bad time {text!r} (expected e.g. 2026-11-20 18:30 or ISO 8601)"


def test_time_more_than_a_day_ahead_is_refused() -> None:
    # NOW is 12:00 on 2026-11-21 in Shanghai
    assert good(shipped_at="2026-11-22 11:59").shipped_at is not None
    err = error(shipped_at="2026-11-22 12:01")
    assert err.reason == "time '2026-11-22 12:01' is more than 1 day in the future"


# -- language -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tag"),
    [("zh-CN", "zh-CN"), ("en", "en"), ("EN", "en"), ("zh_cn", "zh-CN"), ("zh-hans", "zh-Hans"), ("yue", "yue")],
)
def test_languages(text: str, tag: str) -> None:
    assert good(language=text).language == tag


@pytest.mark.parametrize("text", ["chinese", "z", "zh-CN-x", "中文", "en-"])
def test_bad_languages(text: str) -> None:
    err = error(language=text)
    assert (err.column, err.reason) == ("language", f"bad language tag {text!r} (expected e.g. zh-CN or en)")


# -- other columns ------------------------------------------------------------
def test_too_long_values() -> None:
    err = error(buyer_name="名" * 129)
    assert str(err) == "line 7: buyer_name: too long (129 characters, at most 128)"
    assert error(city="市" * 65).column == "city"


def test_order_id_in_scientific_notation() -> None:
    assert "Excel scientific notation" in error(order_id="2.34568E+18").reason


def test_first_problem_wins() -> None:
    assert error(carrier="?", buyer_phone="1").column == "carrier"


# -- duplicates ---------------------------------------------------------------
def test_merge_duplicates() -> None:
    a = ParcelInput("zhongtong", "ZT0000000001", buyer_name="张三")
    b = ParcelInput("zhongtong", "ZT0000000002")
    a_other = ParcelInput("zhongtong", "ZT0000000001", buyer_name="李四")
    other_courier = ParcelInput("shunfeng", "ZT0000000001")
    kept, errors, merged = merge_duplicates(
        [(2, a), (3, b), (5, a), (6, a_other), (7, other_courier)]
    )
    assert kept == [(2, a), (3, b), (7, other_courier)]
    assert merged == 1
    assert [str(e) for e in errors] == [
        "line 6: tracking_number: duplicate of line 2 with different values"
    ]
