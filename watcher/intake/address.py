"""Province / city / district from a free-text Chinese address, via the ``cpca`` dataset.

``cpca`` is slow to load (about half a second) and slow per call, so it is imported
lazily and called once per file with every distinct address in bulk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

from watcher.intake.rows import ParcelInput

__all__ = ["Region", "locate", "complete_regions", "MUNICIPALITIES"]

#: province-level cities: their "city" is the municipality itself
MUNICIPALITIES = frozenset({"北京市", "上海市", "天津市", "重庆市"})
_MUNICIPAL_PLACEHOLDERS = frozenset({"市辖区", "县"})
_DIRECT_COUNTY_SUFFIX = "直辖县级行政区划"  # 省/自治区直辖县级行政区划: e.g. 湖北 仙桃市


class Region(NamedTuple):
    province: str | None
    city: str | None
    district: str | None


_NOTHING = Region(None, None, None)


def _value(raw: Any) -> str | None:
    return raw.strip() or None if isinstance(raw, str) else None


def _normalize(province: str | None, city: str | None, district: str | None) -> Region:
    if province in MUNICIPALITIES:
        city = province  # cpca says 市辖区 / 县 (or nothing) for the municipalities
    elif city in _MUNICIPAL_PLACEHOLDERS:
        city = None
    elif city is not None and city.endswith(_DIRECT_COUNTY_SUFFIX):
        city = district  # a county-level city directly under the province is the buyer's city
    return Region(province, city, district)


def locate(texts: Sequence[str | None]) -> list[Region]:
    """One :class:`Region` per text (all ``None`` where nothing is recognised); one bulk cpca call."""
    distinct = sorted({t.strip() for t in texts if t and t.strip()})
    if not distinct:
        return [_NOTHING for _ in texts]
    import cpca  # slow import: only when there is something to look up

    frame = cpca.transform(distinct)
    found = {
        text: _normalize(_value(p), _value(c), _value(d))
        for text, p, c, d in zip(
            distinct, frame["省"].tolist(), frame["市"].tolist(), frame["区"].tolist(), strict=True
        )
    }
    return [found.get(t.strip(), _NOTHING) if t else _NOTHING for t in texts]


def _agrees(given: str | None, derived: str | None) -> bool:
    """``杭州`` agrees with ``杭州市``; a missing value agrees with anything."""
    if not given or not derived:
        return True
    return given.startswith(derived) or derived.startswith(given)


def _query(parcel: ParcelInput) -> str | None:
    """The text to look up, or ``None`` when nothing is missing or nothing is known."""
    given = (parcel.province, parcel.city, parcel.district)
    if all(given):
        return None
    address = parcel.address or ""
    prefix = "".join(part for part in given if part and part not in address)
    return (prefix + address) or None


def complete_regions(parcels: Sequence[ParcelInput]) -> list[ParcelInput]:
    """Fill missing province/city/district from the address (and the parts that are given).

    Given values are kept as they are; derived ones fill only the gaps, and only when
    they agree with what was given (a derived 广东省 never joins a given 杭州市).
    """
    queries = [_query(p) for p in parcels]
    regions = locate(queries)
    out: list[ParcelInput] = []
    for parcel, query, region in zip(parcels, queries, regions, strict=True):
        given = Region(parcel.province, parcel.city, parcel.district)
        if query is None or region == _NOTHING or not all(map(_agrees, given, region)):
            out.append(parcel)
            continue
        out.append(
            dataclasses.replace(
                parcel,
                province=given.province or region.province,
                city=given.city or region.city,
                district=given.district or region.district,
            )
        )
    return out
