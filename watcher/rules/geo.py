"""Administrative divisions: where is the buyer, is a checkpoint in the buyer's city, is it remote?

The national division list is the one ``cpca`` ships (``cpca/resources/adcodes.csv``:
12-digit adcodes, 2 province + 2 city + 2 county digits), patched with the
county-level changes it predates (:data:`SUPPLEMENT`: 深圳 龙华区/坪山区/光明区,
杭州 临平区/钱塘区, 济南 莱芜区 …).  It is read once, on first use.

**The buyer's city** is the prefecture-level unit (深圳市, 喀什地区, 甘孜藏族自治州);
for the four municipalities it is the municipality (上海市); for county-level cities
governed directly by their province (仙桃市, 济源市, 石河子市 …) it is that city.

**In the buyer's city** (:func:`in_city`).  A checkpoint's text (and its location
field) is scanned for every place name of the country at once, longest match first:
full names, short names (深圳, 宝安, 喀什, 甘孜) and a few aliases (甘孜州, 龙华新区).

* A name followed by 路/街/道/大道/大学/镇/乡/村 … is a street or a town, not the place
  (广州北京路, 东莞长安镇); a few words that contain a name are read as words
  (临沂河东营业部 is not in 东营).
* A short county name is used only when it is unambiguous nationally and is no
  city's or province's name (宝安 yes; 龙华, 南山, 朝阳, 河北 no — their full names
  龙华区, 南山区, 朝阳区 are used).  A few short names that are everyday words
  (东方, 江南, 互助 …) are never used.
* A county name that several cities share (龙华区: 深圳 and 海口; 朝阳区: 北京 and
  长春) counts for each of them — unless the same part of the text names a city
  or a province that decides it (长春市朝阳区, 海口 … 龙华区, 广东龙华区).
* When the text names a city explicitly, that decides: 【东莞市】… 长安公司 is in
  东莞, whatever county names follow.  A province alone is never a city (except the
  municipalities); 吉林 is the city 吉林市 unless another place of 吉林省 follows
  (吉林长春转运中心 is in 长春).

**Direction.**  The text is split at the first forward marker (发往, 下一站, 送往,
运往, 转往, 前往, 寄往, 转寄, 预计到达/送达, 即将到达): what comes before it (with
the location field) is where the scan happened, what follows is where the parcel
goes next.  Each part is judged on its own by the rules above.

* When the part after the marker names a place outside the buyer's city, the parcel
  is leaving (or passing through): **not** in the city, wherever the scan was —
  ``快件离开【深圳转运中心】已发往【广州】`` is False for a 深圳 buyer.
* Otherwise the scan place decides.  Being sent to the buyer's city is not being
  there: ``快件离开【广州转运中心】已发往【深圳转运中心】`` is False for a 深圳
  buyer, ``快件已到达【深圳转运中心】`` and ``【深圳宝安公司】派件中`` are True, and
  ``快件离开【深圳转运中心】已发往【深圳宝安公司】`` (moving inside the city) is True.
* A scan in the buyer's city with no onward place named (``快件离开【深圳转运中心】``)
  is True: it was scanned there.

**Remote** destinations (:func:`is_remote`) are data: ``remote.toml`` beside this
module, entries by area label or adcode prefix.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

from watcher.rules.divisions import (
    ALIASES,
    CITY_PLACEHOLDERS,
    GENERIC_FULL,
    GENERIC_SHORTS,
    MUNICIPALITIES,
    Atlas,
    load_atlas,
    city_key_of,
    short_name,
)

__all__ = ["Place", "resolve_place", "in_city", "is_remote", "area_label"]


@dataclass(frozen=True, slots=True)
class Place:
    """A buyer's place, in canonical full names.

    ``city`` is ``""`` when only the province is known (``resolve_place("新疆", None)``):
    such a place is never "in the city" but can be remote.
    """

    province: str  # "广东省", "上海市", "新疆维吾尔自治区"
    city: str  # "深圳市", "喀什地区", "上海市" (municipality), "仙桃市" (county-level, under the province)
    district: str | None  # "宝安区", "喀什市"; None when unknown
    adcode: str  # 12 digits, the most specific known


def _clean(value: str | None) -> str | None:
    if not isinstance(value, str):
        return None
    value = "".join(value.split())
    return value or None


def _find(aliases: Mapping[str, tuple[str, ...]] | Mapping[str, frozenset[str]], name: str) -> tuple[str, ...]:
    """Codes whose name or alias is ``name``, else whose name or alias is ``name``'s short form."""
    found = aliases.get(name) or aliases.get(short_name(name)) or ()
    return tuple(sorted(set(found)))


_COUNTY_SUFFIXES = ("区", "县", "旗")


def _province_of(key: str) -> str:
    return key[:2]


def _county_candidates(atlas: Atlas, name: str, province: str | None) -> tuple[str, ...]:
    """County codes called ``name`` in ``province`` (or anywhere when the province is unknown)."""
    if province is not None:
        return _find(atlas.province_county_alias.get(province, {}), name)
    found: set[str] = set()
    for aliases in atlas.province_county_alias.values():
        found.update(aliases.get(name, ()))
    if not found:
        short = short_name(name)
        for aliases in atlas.province_county_alias.values():
            found.update(aliases.get(short, ()))
    return tuple(sorted(found))


def _city_candidates(atlas: Atlas, name: str, province: str | None) -> tuple[str, ...]:
    if name.endswith(_COUNTY_SUFFIXES):  # 朝阳区 is no short form of 朝阳市
        found = tuple(sorted(atlas.city_alias.get(name, ())))
    else:
        found = _find(atlas.city_alias, name)
    if province is None:
        return found
    inside = tuple(k for k in found if _province_of(k) == province)
    return inside or (found if len(found) == 1 else ())  # a city of another province: trust it if unique


def _make_place(atlas: Atlas, key: str, county: str | None) -> Place:
    province = atlas.provinces[_province_of(key)]
    if len(key) == 2 and key not in MUNICIPALITIES:
        return Place(province, "", None, key.ljust(12, "0"))
    district = atlas.counties[county] if county else None
    return Place(province, atlas.cities[key], district, (county or key).ljust(12, "0"))


def _district_in(atlas: Atlas, key: str, name: str | None) -> str | None:
    if name is None:
        return None
    found = _find(atlas.county_alias.get(key, {}), name)
    return found[0] if len(found) == 1 else None


@lru_cache(maxsize=65536)
def resolve_place(province: str | None, city: str | None, district: str | None = None) -> Place | None:
    """Canonical :class:`Place` from what a shop's CSV says, or ``None`` when it cannot tell.

    Full or short forms (深圳/深圳市, 广东, 喀什 → 喀什地区, 甘孜州 → 甘孜藏族自治州);
    municipalities with city 上海市/市辖区/nothing; a county-level city in the city
    column (昆山市 → 苏州市/昆山市); a district alone when it is unique in the province
    (广东省 + 宝安区).  A city that is not in the given province is trusted when its
    name is unique nationally, else the answer is ``None``.  When only the province is
    known the place has ``city == ""``.  Pure and cached.
    """
    atlas = load_atlas()
    p, c, d = _clean(province), _clean(city), _clean(district)
    if c in CITY_PLACEHOLDERS:
        c = None
    code2 = None
    if p is not None:
        code2 = atlas.province_alias.get(p) or atlas.province_alias.get(short_name(p))
    county: str | None = None
    key: str | None = None
    if c is not None:
        found = _city_candidates(atlas, c, code2)
        if not found:  # a county in the city column: 昆山市, 义乌, 浦东新区
            counties = _county_candidates(atlas, c, code2)
            if len(counties) > 1:
                return None
            if counties:
                county = counties[0]
                found = (atlas.county_city[county],)
        elif len(found) == 1:
            exact = atlas.county_alias.get(found[0], {}).get(c, ())
            if len(exact) == 1 and atlas.counties[exact[0]] == c:  # 恩施市 is also a county of 恩施州
                county = exact[0]
        if len(found) > 1:
            return None
        key = found[0] if found else None
    if key is None and code2 in MUNICIPALITIES:
        key = code2
    elif key is None and d is not None:  # the district alone: 广东省 + 宝安区, 湖北省 + 仙桃市
        counties = _county_candidates(atlas, d, code2)
        as_city = _city_candidates(atlas, d, code2)
        if len(counties) == 1 and not as_city:
            county = counties[0]
            key = atlas.county_city[county]
        elif len(as_city) == 1 and not counties:
            key = as_city[0]
    if key is None:
        return _make_place(atlas, code2, None) if code2 else None
    county = _district_in(atlas, key, d) or county
    return _make_place(atlas, key, county)


def area_label(place: Place) -> str:
    """``广东省/深圳市/宝安区``; ``上海市/上海市/浦东新区``; ``湖北省/仙桃市``; ``新疆维吾尔自治区``."""
    return "/".join(part for part in (place.province, place.city, place.district) if part)


# --- in_city -----------------------------------------------------------------------

_PROVINCE, _CITY, _COUNTY, _PROVINCE_OR_CITY, _NOISE = range(5)
#: words that contain a place name but are no place (临沂河东营业部 is not in 东营): read and ignored
_NOISE_WORDS = ("东营业", "安顺丰", "广安门", "阿里巴巴", "已开封", "被开封", "大理石")
#: after a place name: a street, road, school or town named after it, not the place
_NOT_A_PLACE_AFTER = ("路", "街", "道", "巷", "大道", "大街", "大学", "公园", "东路", "西路", "南路", "北路", "中路",
                      "镇", "乡", "村")
#: what follows one of these is where the parcel goes next, not where it is
_FORWARD_MARKERS = ("发往", "下一站", "送往", "运往", "转往", "前往", "寄往", "转寄", "预计到达", "预计送达", "即将到达",
                    "即将发往")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: int
    cities: frozenset[str]  # city keys the name may mean (empty for a province)
    provinces: frozenset[str]


def _patterns(atlas: Atlas) -> dict[str, _Token]:
    """Every searchable name → what it means (see the module docstring for the rules)."""
    province_names: dict[str, str] = {}
    for code2, name in atlas.provinces.items():
        province_names[name] = province_names[short_name(name)] = code2
    city_names: dict[str, set[str]] = defaultdict(set)
    for key, name in atlas.cities.items():
        city_names[name].add(key)
        city_names[short_name(name)].add(key)
        if name.endswith("自治州"):
            city_names[short_name(name) + "州"].add(key)
    county_full: dict[str, set[str]] = defaultdict(set)
    county_short: dict[str, set[str]] = defaultdict(set)
    for code, name in atlas.counties.items():
        if name not in GENERIC_FULL:
            county_full[name].add(code)
        if short_name(name) != name:
            county_short[short_name(name)].add(code)
    for alias, target in ALIASES.items():
        if len(target) == 6 and target in atlas.counties:
            county_full[alias].add(target)
        elif target in atlas.cities:
            city_names[alias].add(target)

    out: dict[str, _Token] = {}
    for name, code2 in province_names.items():
        keys = city_names.get(name, set())
        if code2 in MUNICIPALITIES:
            out[name] = _Token(_CITY, frozenset({code2}), frozenset({code2}))
        elif len(keys) == 1 and _province_of(next(iter(keys))) == code2:  # 吉林
            out[name] = _Token(_PROVINCE_OR_CITY, frozenset(keys), frozenset({code2}))
        else:  # 海南 is the province, not 青海's 海南藏族自治州
            out[name] = _Token(_PROVINCE, frozenset(), frozenset({code2}))
    for name, keys in city_names.items():
        if name not in out:
            out[name] = _Token(_CITY, frozenset(keys), frozenset(_province_of(k) for k in keys))
    for name, codes in county_full.items():
        if name not in out:
            keys = frozenset(atlas.county_city[c] for c in codes)
            out[name] = _Token(_COUNTY, keys, frozenset(_province_of(k) for k in keys))
    for name, codes in county_short.items():
        keys = frozenset(atlas.county_city[c] for c in codes)
        if name in out or name in GENERIC_SHORTS or len(keys) != 1:  # taken, an everyday word, or ambiguous
            continue
        out[name] = _Token(_COUNTY, keys, frozenset(_province_of(k) for k in keys))
    for word in _NOISE_WORDS:
        out[word] = _Token(_NOISE, frozenset(), frozenset())
    return out


@lru_cache(maxsize=1)
def _names() -> Mapping[str, _Token]:
    return _patterns(load_atlas())


def _raw(text: str) -> str:
    """The UTF-8 bytes of ``text`` as a str of code points below 256.

    pyahocorasick searches a trie node's children one by one; with some 1,500
    distinct first characters a trie of characters is six times slower than a trie
    of bytes.  UTF-8 is self-synchronising, so byte matches are character matches.
    """
    return text.encode("utf-8").decode("latin-1")


_GUARD = tuple(_raw(after) for after in _NOT_A_PLACE_AFTER)
_GUARD_HEADS = frozenset(after[:3] for after in _GUARD)  # first characters (three bytes each)
_FORWARD_RAW = re.compile("|".join(_raw(marker) for marker in _FORWARD_MARKERS))


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for name, token in _names().items():
        automaton.add_word(_raw(name), token)
    automaton.make_automaton()
    return automaton


@lru_cache(maxsize=None)
def _own_names(key: str) -> re.Pattern[str]:
    """Every name that can mean city ``key``: a text with none of them is not in it."""
    names = sorted((name for name, token in _names().items() if key in token.cities), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names)) or "(?!)")


def _tokens(raw: str) -> list[_Token]:
    """The place names in ``raw`` (see :func:`_raw`), longest first, streets and towns left out."""
    return [
        token
        for end, token in _automaton().iter_long(raw)
        if raw[end + 1 : end + 4] not in _GUARD_HEADS or not raw.startswith(_GUARD, end + 1)
    ]


@lru_cache(maxsize=4096)
def _location_tokens(location: str) -> tuple[_Token, ...]:
    """Location fields repeat (``广东,深圳市``): read each once."""
    return tuple(_tokens(_raw(location)))


def _decide(tokens: Iterable[_Token], key: str) -> tuple[bool, bool]:
    """(do ``tokens`` name any place, do they place the parcel in city ``key``)."""
    cities: set[str] = set()
    provinces: set[str] = set()
    counties: list[frozenset[str]] = []
    jilin: list[_Token] = []
    for token in tokens:
        kind = token.kind
        if kind == _CITY:
            cities.update(token.cities)
        elif kind == _COUNTY:
            counties.append(token.cities)
        elif kind == _PROVINCE:
            provinces.update(token.provinces)
        elif kind == _PROVINCE_OR_CITY:
            jilin.append(token)
    for token in jilin:  # 吉林长春转运中心: the province; 吉林转运中心: the city
        others = cities.union(*counties) - token.cities
        if any(_province_of(k) in token.provinces for k in others):
            provinces.update(token.provinces)
        else:
            cities.update(token.cities)
    if cities:  # a city named explicitly decides
        return True, key in cities
    for candidates in counties:
        if key in candidates:
            if len(candidates) == 1 or not provinces:
                return True, True
            within = {k for k in candidates if _province_of(k) in provinces}  # 广东龙华区
            if not within or key in within:
                return True, True
    return bool(counties or provinces), False


@lru_cache(maxsize=4096)
def _city_key(place: Place) -> str | None:
    atlas = load_atlas()
    code = place.adcode
    if len(code) == 12 and code.isdigit():
        key = city_key_of(code[:6])
        if atlas.cities.get(key) == place.city:
            return key
    if not place.city:
        return None
    resolved = resolve_place(place.province, place.city, None)
    return None if resolved is None or not resolved.city else city_key_of(resolved.adcode[:6])


def in_city(place: Place, text: str, location: str = "") -> bool:
    """Does this checkpoint show the parcel in the buyer's city?

    ``text`` is the checkpoint text, ``location`` the provider's location field
    (``广东,深圳市,南山区``), if any.  The rules — names, ambiguous county names, and
    the direction rule (``已发往 深圳`` is not yet in 深圳; leaving for another city
    is not in the city) — are in the module docstring.
    """
    key = _city_key(place)
    if key is None:
        return False
    text, location = text or "", location or ""
    own = _own_names(key)
    if own.search(text) is None and (not location or own.search(location) is None):
        return False  # the common case: a scan somewhere else
    raw = _raw(text)
    marker = _FORWARD_RAW.search(raw)
    if marker is not None:
        named, ours = _decide(_tokens(raw[marker.end() :]), key)
        if named and not ours:
            return False  # leaving for (or passing through to) somewhere else
        raw = raw[: marker.start()]  # being sent to the city is not being there
    tokens = _tokens(raw)
    if location:
        tokens.extend(_location_tokens(location))
    return _decide(tokens, key)[1]


# --- remote ------------------------------------------------------------------------


def _area_prefix(area: str) -> str:
    """Adcode prefix of a remote.toml entry: digits as they are, or a ``省/市/区`` label."""
    atlas = load_atlas()
    if area.isdigit():
        if area in atlas.provinces or area in atlas.cities or area in atlas.counties:
            return area
        raise ValueError(f"remote.toml: no division has adcode {area!r}")
    parts = [p for p in area.split("/") if p]
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"remote.toml: {area!r} is not 省, 省/市 or 省/市/区")
    place = resolve_place(*parts) if len(parts) > 1 else resolve_place(parts[0], None)
    if place is None or len(parts) > 1 and not place.city or len(parts) == 3 and place.district is None:
        raise ValueError(f"remote.toml: unknown area {area!r}")
    if len(parts) == 1:
        return place.adcode[:2]
    return place.adcode[:6] if len(parts) == 3 else city_key_of(place.adcode[:6])


def _remote_prefixes(entries: Iterable[Mapping[str, object]]) -> tuple[str, ...]:
    prefixes = []
    for entry in entries:
        area = entry.get("area")
        if not isinstance(area, str) or not area:
            raise ValueError(f"remote.toml: entry without an area: {dict(entry)!r}")
        prefixes.append(_area_prefix(area))
    return tuple(prefixes)


_REMOTE_FILE = Path(__file__).with_name("remote.toml")


@lru_cache(maxsize=1)
def _remote() -> tuple[str, ...]:
    data = tomllib.loads(_REMOTE_FILE.read_text(encoding="utf-8"))
    return _remote_prefixes(data.get("remote", []))


def is_remote(place: Place) -> bool:
    """Is the destination remote (extra stall time)?  The areas are listed in ``remote.toml``."""
    return place.adcode.startswith(_remote())
