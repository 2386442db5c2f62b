"""Courier and outlet numbers out of real-looking checkpoint texts."""

from __future__ import annotations

import pytest

from watcher.report.calls import call_list, extract_numbers

CASES = [
    ("【杭州市】快件已到达【杭州滨江网点】，如有疑问请联系：13812345678", [("13812345678", "outlet")]),
    ("【深圳市】派件员：王师傅 电话：13812345678，正在为您派件", [("13812345678", "courier")]),
    ("快件已到达网点电话0571-12345678", [("0571-12345678", "outlet")]),
    ("【广州市】您的快件正在派送中，快递员：李四，电话:139 1234 5678", [("13912345678", "courier")]),
    ("派送员+86-137-0000-1111已出发", [("13700001111", "courier")]),
    ("【北京市】海淀营业部（010）62345678 已揽收", [("010-62345678", "outlet")]),
    ("站点电话：075588886666，投诉电话：95311", [("0755-88886666", "outlet"), ("95311", "service")]),
    ("客服电话400-889-5543", [("400-889-5543", "service")]),
    ("有问题请拨打4008895543或95554", [("400-889-5543", "service"), ("95554", "service")]),
    ("极兔速递客服956025，EMS 11183", [("956025", "service"), ("11183", "service")]),
    ("快件已签收，签收人：本人", []),
    ("运单号75312345678901已发往杭州转运中心", []),  # a tracking number is not a phone
    ("JT0001383812345678 到达", []),
    ("【菜鸟驿站】您的快件已到驿站，取件码 8-3-1234，电话15000001111", [("15000001111", "outlet")]),
    ("业务员 张三 18600000000 / 18600000000 重复", [("18600000000", "courier")]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(c.number, c.kind) for c in extract_numbers(text)] == expected


def test_context_names_the_person() -> None:
    (found,) = extract_numbers("派件员：王师傅 电话：13812345678")
    assert found.context == "派件员：王师傅 电话"
    assert "138" not in found.context


def test_call_list_deduplicates_across_texts_and_forms() -> None:
    texts = [
        "派件员：王师傅 电话：138-1234-5678",
        "【杭州市】如有疑问请联系：13812345678",
        "网点电话0571-12345678",
        "网点电话 0571 12345678",
    ]
    numbers = call_list(texts)
    assert [c.number for c in numbers] == ["13812345678", "0571-12345678"]
    assert numbers[0].kind == "courier"


def test_empty_and_none_texts() -> None:
    assert call_list(["", ""]) == []
    assert extract_numbers("") == []


def test_mask_numbers_hides_mobiles_and_landlines_not_hotlines() -> None:
    from watcher.report.calls import mask_numbers

    assert mask_numbers("派件员电话138-1234-5678，网点0571-12345678，客服95311") == \
        "派件员电话138-****-5678，网点0571-****5678，客服95311"
