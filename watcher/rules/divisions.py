"""The national administrative-division dataset (cpca's ``adcodes.csv``), indexed for
:mod:`watcher.rules.geo`: provinces, prefecture-level cities and counties by adcode,
full and short names, later changes the dataset predates (:data:`SUPPLEMENT`) and
renamed places (:data:`ALIASES`).  Loaded once, on first use."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Atlas", "load_atlas", "short_name", "city_key_of", "MUNICIPALITIES", "CITY_PLACEHOLDERS",
           "GENERIC_FULL", "GENERIC_SHORTS", "ALIASES", "SUPPLEMENT"]


# --- names ---------------------------------------------------------------------------

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
#: city-level rows of the dataset that are not cities
_PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
#: what a shop's CSV may put in the city column of a municipality or a directly governed county
CITY_PLACEHOLDERS = _PLACEHOLDERS | {"直辖县级行政区划", "省直辖县级行政单位", "省直辖", "自治区直辖", "县级市"}

_NATIONS = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 "
    "景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 "
    "保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
#: ethnic words inside autonomous names: 藏族, 蒙古族 and, without 族, 蒙古, 哈萨克 …; longest first
_ETHNIC = tuple(
    sorted({n + "族" for n in _NATIONS} | {n for n in _NATIONS if len(n) >= 2} | {"各族"}, key=len, reverse=True)
)
_AUTONOMOUS_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗")
_PLAIN_SUFFIXES = ("地区", "新区", "林区", "省", "市", "盟", "区", "县", "旗")


def _strip_ethnic(core: str) -> str:
    """``甘孜藏族`` → ``甘孜``; never below two characters (``鄂伦春`` stays)."""
    stripped = True
    while stripped:
        stripped = False
        for word in _ETHNIC:
            if core.endswith(word) and len(core) - len(word) >= 2:
                core, stripped = core[: -len(word)], True
                break
    if core.endswith("族") and len(core) >= 3:  # 鄂温克族自治旗, 东乡族自治县
        core = core[:-1]
    return core


def short_name(name: str) -> str:
    """The short form couriers write: 深圳市 → 深圳, 甘孜藏族自治州 → 甘孜, 宝安区 → 宝安.

    Never fewer than two characters: 和县 and 芒市 stay as they are.
    """
    for suffix in _AUTONOMOUS_SUFFIXES:
        if name.endswith(suffix):
            core = _strip_ethnic(name[: -len(suffix)])
            return core if len(core) >= 2 else name
    if name.endswith("族区"):  # 管城回族区, 梅里斯达斡尔族区
        return _strip_ethnic(name[:-1])
    for suffix in _PLAIN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


# --- the division list -------------------------------------------------------------

#: county-level changes newer than cpca's list: (adcode, name, adcode of the row it replaces or None).
#: A replaced row's name stays an alias of the new one (郫县 still finds 郫都区).
SUPPLEMENT: tuple[tuple[str, str, str | None], ...] = (
    ("440309", "龙华区", None), ("440310", "坪山区", None), ("440311", "光明区", None),  # 深圳 2016-2018
    ("330112", "临安区", "330185"), ("330113", "临平区", None), ("330114", "钱塘区", None),  # 杭州
    ("330213", "奉化区", "330283"),  # 宁波 2016
    ("350112", "长乐区", "350182"),  # 福州 2017
    ("370114", "章丘区", "370181"), ("370115", "济阳区", "370125"),  # 济南 2016, 2018
    ("370116", "莱芜区", "371202"), ("370117", "钢城区", "371203"),  # 莱芜市 merged into 济南 2019
    ("510117", "郫都区", "510124"), ("510118", "新津区", "510132"),  # 成都 2016, 2020
    ("610118", "鄠邑区", "610125"),  # 西安 2016
    ("500155", "梁平区", "500228"), ("500156", "武隆区", "500232"),  # 重庆 2016
    ("130284", "滦州市", "130223"), ("610482", "彬州市", "610427"), ("520281", "盘州市", "520222"),
    ("542421", "色尼区", "542421"),  # 那曲县 2017
    ("360113", "红谷滩区", None),  # 南昌 2019
    ("370215", "即墨区", "370282"),  # 青岛 2017
    ("530115", "晋宁区", "530122"),  # 昆明 2016
    ("220184", "公主岭市", "220381"),  # from 四平 to 长春 2020
    ("330383", "龙港市", None),  # 温州 2019
    ("659007", "双河市", None), ("659008", "可克达拉市", None), ("659009", "昆玉市", None),
    ("659010", "胡杨河市", None),  # 新疆生产建设兵团, directly under the region
)
#: prefecture-level units that no longer exist (their counties moved, see above)
_DISSOLVED_CITIES = frozenset({"3712"})
#: names couriers and buyers still use: alias → adcode of a county (6 digits) or a city key
ALIASES: Mapping[str, str] = {
    "龙华新区": "440309", "坪山新区": "440310", "光明新区": "440311", "大鹏新区": "440307",
    "两江新区": "50", "雄安新区": "1306", "内蒙": "15",
}
#: short county names that are everyday words or outlet names all over the country
GENERIC_SHORTS = frozenset(
    "城东 城西 城南 城北 城中 市中 新城 东城 西城 江南 江北 河西 河东 中原 互助 通道 东方 新华 和平 城关 "
    "长安 高新 开发 白云 南山 北山 东山 西山 青山 前进 向阳 红旗 胜利 友谊 新兴 永安 太平 安定 安吉 "
    "西湖 东湖 南湖 东港 南岸 北辰 宝山 金山 铁山 新市 平安 长寿 龙泉 三江 双江 大化 北关 东海 海城".split()
)
#: two-character full names that are everyday words (城区 is also 主城区, 东区 also 广东区域)
GENERIC_FULL = frozenset({"城区", "郊区", "矿区", "东区", "西区"})


@dataclass(frozen=True, slots=True)
class Atlas:
    provinces: Mapping[str, str]  # code2 → name
    cities: Mapping[str, str]  # key (2, 4 or 6 digits) → name
    counties: Mapping[str, str]  # code6 → name
    county_city: Mapping[str, str]  # code6 → city key
    province_alias: Mapping[str, str]  # name → code2
    city_alias: Mapping[str, frozenset[str]]  # name → city keys
    county_alias: Mapping[str, Mapping[str, tuple[str, ...]]]  # city key → name → code6s
    province_county_alias: Mapping[str, Mapping[str, tuple[str, ...]]]  # code2 → name → code6s


def city_key_of(code6: str) -> str:
    if code6[:2] in MUNICIPALITIES:
        return code6[:2]
    if code6[2:4] == "90":  # 省直辖县级行政区划
        return code6
    return code6[:4]


def _read_rows() -> list[tuple[str, str]]:
    # importlib.resources.files("cpca") would import cpca, and with it pandas (0.4 s): locate it instead
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package (administrative divisions) is not installed")
    path = Path(next(iter(spec.submodule_search_locations)), "resources", "adcodes.csv")
    raw = path.read_text(encoding="utf-8-sig")
    return [(row["adcode"][:6], row["name"].strip()) for row in csv.DictReader(io.StringIO(raw))]


@lru_cache(maxsize=1)
def load_atlas() -> Atlas:
    provinces: dict[str, str] = {}
    cities: dict[str, str] = {}
    counties: dict[str, str] = {}
    old_names: dict[str, list[str]] = defaultdict(list)
    for code, name in _read_rows():
        if code[2:] == "0000":
            provinces[code[:2]] = name
        elif code[4:] == "00":
            if name not in _PLACEHOLDERS and code[:4] not in _DISSOLVED_CITIES:
                cities[code[:4]] = name
        elif name != "市辖区":
            counties[code] = name
    for code, name, replaces in SUPPLEMENT:
        if replaces is not None and replaces in counties:
            old = counties.pop(replaces)
            if old != name:
                old_names[code].append(old)
        counties[code] = name
    for code in [c for c in counties if c[:4] in _DISSOLVED_CITIES]:
        del counties[code]
    for code2 in MUNICIPALITIES:
        cities[code2] = provinces[code2]
    for code in list(counties):  # county-level cities governed by the province
        if code[2:4] == "90":
            cities[code] = counties.pop(code)
    county_city = {code: city_key_of(code) for code in counties}

    province_alias: dict[str, str] = {}
    for code2, name in provinces.items():
        province_alias[name] = province_alias[short_name(name)] = code2
    city_alias: dict[str, set[str]] = defaultdict(set)
    for key, name in cities.items():
        for alias in (name, short_name(name), *old_names.get(key, ())):
            city_alias[alias].add(key)
        if name.endswith("自治州"):
            city_alias[short_name(name) + "州"].add(key)  # 甘孜州, 恩施州
    county_alias: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    province_county_alias: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for code, name in counties.items():
        for alias in {name, short_name(name), *old_names.get(code, ())}:
            county_alias[county_city[code]][alias].append(code)
            province_county_alias[code[:2]][alias].append(code)
    for alias, target in ALIASES.items():
        if len(target) == 2 and target not in MUNICIPALITIES:
            province_alias[alias] = target
        elif len(target) == 6 and target in counties:
            county_alias[county_city[target]][alias].append(target)
            province_county_alias[target[:2]][alias].append(target)
        else:
            city_alias[alias].add(target)
    return Atlas(
        provinces=provinces,
        cities=cities,
        counties=counties,
        county_city=county_city,
        province_alias=province_alias,
        city_alias={k: frozenset(v) for k, v in city_alias.items()},
        county_alias={k: {a: tuple(c) for a, c in v.items()} for k, v in county_alias.items()},
        province_county_alias={k: {a: tuple(c) for a, c in v.items()} for k, v in province_county_alias.items()},
    )


# --- resolve_place -----------------------------------------------------------------
