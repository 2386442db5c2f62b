"""Province/city/district derivation from real addresses (the cpca dataset, no network)."""

from __future__ import annotations

import pytest

from watcher.intake.address import Region, complete_regions, locate
from watcher.intake.rows import ParcelInput


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("浙江省杭州市西湖区文三路90号", Region("浙江省", "杭州市", "西湖区")),
        ("广州天河区体育西路", Region("广东省", "广州市", "天河区")),
        ("新疆喀什地区喀什市人民路", Region("新疆维吾尔自治区", "喀什地区", "喀什市")),
        ("上海浦东新区张江路", Region("上海市", "上海市", "浦东新区")),
        ("西藏拉萨市城关区北京中路", Region("西藏自治区", "拉萨市", "城关区")),
        ("北京市朝阳区建国路88号", Region("北京市", "北京市", "朝阳区")),
        ("重庆市城口县葛城街道", Region("重庆市", "重庆市", "城口县")),
        ("天津市和平区", Region("天津市", "天津市", "和平区")),
        ("湖北省仙桃市干河街道", Region("湖北省", "仙桃市", "仙桃市")),
        ("浙江杭州", Region("浙江省", "杭州市", None)),
    ],
)
def test_locate_real_addresses(address: str, region: Region) -> None:
    assert locate([address]) == [region]


def test_locate_keeps_order_and_handles_nothing() -> None:
    regions = locate(["", None, "123 Main Street", "广州天河区体育西路", "广州天河区体育西路"])
    assert regions[:3] == [Region(None, None, None)] * 3
    assert regions[3] == regions[4] == Region("广东省", "广州市", "天河区")
    assert locate([]) == []
    assert locate([None, " "]) == [Region(None, None, None)] * 2


def parcel(n: int, **fields: str | None) -> ParcelInput:
    return ParcelInput("zhongtong", f"ZT{n:010d}", **fields)  # type: ignore[arg-type]


def test_complete_regions() -> None:
    given = [
        parcel(1, address="浙江省杭州市西湖区文三路90号"),
        # only the province given: the rest comes from the address
        parcel(2, province="广东省", address="天河区体育西路103号"),
        # a given value is kept as written
        parcel(3, city="杭州", address="西湖区文三路90号"),
        # everything given: untouched even if the address says otherwise
        parcel(4, province="A", city="B", district="C", address="上海浦东新区张江路"),
        # no address: derived from the given parts alone
        parcel(5, city="拉萨市"),
        # nothing known
        parcel(6),
        # a given value that contradicts the address wins; only what agrees with it is added
        parcel(7, city="杭州市", address="广州天河区体育西路"),
        # a derived value that contradicts a given one: nothing is filled in
        parcel(8, city="Hangzhou", address="浙江省杭州市西湖区文三路90号"),
    ]
    out = complete_regions(given)
    assert [(p.province, p.city, p.district) for p in out] == [
        ("浙江省", "杭州市", "西湖区"),
        ("广东省", "广州市", "天河区"),
        ("浙江省", "杭州", "西湖区"),
        ("A", "B", "C"),
        ("西藏自治区", "拉萨市", None),
        (None, None, None),
        ("浙江省", "杭州市", None),
        (None, "Hangzhou", None),
    ]
    assert [p.address for p in out] == [p.address for p in given]
