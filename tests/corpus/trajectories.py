"""A labelled corpus of realistic Chinese parcel trajectories, built independently of ``watcher/``.

``build(now, seed)`` returns a few hundred :class:`Case` values: one shop-CSV row each
(courier as a shop writes it, buyer phone and address, ``shipped_at`` in shop time) and the
reply a Kuaidi100-compatible server gives for the number (a trace made with
:func:`tests.fakes.kuaidi100.trace_reply`, newest first, times in China time relative to
``now``; or ``returnCode 500 查询无结果`` when the courier has nothing yet).

Labels come from what the parcel means to an after-sales person, following
``/work/shared/DESIGN.md`` (vocabulary and default thresholds), never from the rules code:

- ``stalled``: no new scan for longer than the stage allows — in transit 48 h; in the
  buyer's city or out for delivery 24 h; +24 h for remote destinations (Xinjiang, Tibet,
  Qinghai, 甘孜/阿坝, 阿拉善); official holidays and peak sale days (11-11..11-15,
  12-12..12-14, 06-18..06-20) extend every threshold by the hours they cover. A parcel at a
  pickup point (驿站/快递柜/代收点) never stalls; a parcel silent for a week stays
  ``stalled`` (an escalated stall, not a declared loss).
- ``unreachable``: the newest event says the courier does not serve the address
  (超区, 超出派送范围, 不派送, 转邮政/转EMS).
- ``exception``: refused (拒收/拒签, also while it travels back), damaged (破损), address or
  phone problem (地址不详, 电话错误/空号), declared lost (遗失/丢失), returned to and signed
  by the sender.
- ``not_collected``: shipped in the shop's system more than 24 h ago (extensions apply)
  and the courier has not scanned it — no trace at all, or order data only (已下单/等待揽收).
- a problem the parcel has moved past (failed delivery, then delivered) is history: no flag.

Every label keeps a margin of at least :data:`MARGIN_HOURS` from every threshold any
reasonable reading of DESIGN.md could apply: where a reading is open (does the remote
extra apply in the buyer's city or before collection? is a sorting hub in the buyer's
city "in the city" or "in transit"?) the case is judged against both readings and its
timing is moved until both agree. Holiday cases exist only for a ``now`` chosen by the
caller (``holiday_cases=True``), since the real current date may have no holiday nearby.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from tests.fakes.kuaidi100 import trace_reply

__all__ = [
    "CHINA",
    "FLAGS",
    "MARGIN_HOURS",
    "CSV_COLUMNS",
    "Case",
    "build",
    "calendar_hours",
    "threshold_range",
]

CHINA = ZoneInfo("Asia/Shanghai")
FLAGS = ("stalled", "unreachable", "exception", "not_collected")
MARGIN_HOURS = 8.0
CSV_COLUMNS = ("carrier", "tracking_number", "buyer_phone", "province", "city", "district", "address", "shipped_at")

#: DESIGN.md default thresholds (hours)
NOT_COLLECTED_H = 24.0
TRANSIT_H = 48.0
CITY_H = 24.0
REMOTE_EXTRA_H = 24.0
PEAKS = (((11, 11), (11, 15)), ((12, 12), (12, 14)), ((6, 18), (6, 20)))

NOT_FOUND_REPLY = {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}


# --------------------------------------------------------------------------------------------
# The case


@dataclass(frozen=True)
class Case:
    tracking_number: str
    courier: str  # as the shop's CSV has it: 中通, 顺丰速运, EMS …
    com: str  # Kuaidi100 company code, the canonical courier code
    buyer_phone: str
    province: str
    city: str
    district: str
    address: str
    shipped_at: str  # shop-local "YYYY-MM-DD HH:MM"
    reply: dict[str, Any]
    expected_flags: frozenset[str]
    expected_status: str
    label_note: str
    family: str
    #: statuses that are also a fair reading of the newest event (reported, never asserted)
    statuses_ok: frozenset[str] = frozenset()
    detailed_codes: bool = False  # checkpoints carry resultv2=4 statusCode values
    remote: str = "no"  # destination: "yes" remote, "maybe" (some readings say remote), "no"
    #: how the timing label was judged: transit | city | city_hub | not_collected, "" when timing does not matter
    stage: str = ""

    def csv_row(self) -> dict[str, str]:
        return {
            "carrier": self.courier,
            "tracking_number": self.tracking_number,
            "buyer_phone": self.buyer_phone,
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "address": self.address,
            "shipped_at": self.shipped_at,
        }

    @property
    def latest_text(self) -> str:
        data = self.reply.get("data") or []
        return data[0]["context"] if data else f"({self.reply.get('returnCode')} {self.reply.get('message')})"

    def status_ok(self, status: str) -> bool:
        return status == self.expected_status or status in self.statuses_ok


# --------------------------------------------------------------------------------------------
# Thresholds, as DESIGN.md states them (independent of watcher/rules)


@lru_cache(maxsize=4096)
def _extending_day(day: date) -> bool:
    """An official holiday (per chinese_calendar; unknown years: none) or a peak sale day."""
    key = (day.month, day.day)
    if any(start <= key <= end for start, end in PEAKS):
        return True
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # the library does not know the year yet: no extension
        return False
    return bool(is_holiday and name is not None)  # plain weekends do not extend


def calendar_hours(start: datetime, end: datetime) -> float:
    """Hours of ``[start, end)`` on official holidays or peak days, by China local day."""
    if end <= start:
        return 0.0
    total = 0.0
    day = start.astimezone(CHINA).date()
    while True:
        day_start = datetime.combine(day, time(), CHINA)
        if day_start >= end:
            break
        day_end = day_start + timedelta(days=1)  # Asia/Shanghai has no DST
        if _extending_day(day):
            overlap = (min(end, day_end) - max(start, day_start)).total_seconds()
            total += max(0.0, overlap) / 3600
        day += timedelta(days=1)
    return total


def threshold_range(stage: str, start: datetime, now: datetime, remote: str) -> tuple[float, float]:
    """(lowest, highest) threshold in hours that a reasonable reading of DESIGN.md applies.

    ``stage``: ``transit``, ``city`` (outlet in the buyer's district, out for delivery),
    ``city_hub`` (a sorting hub in the buyer's city: city or transit reading),
    ``not_collected`` (measured from shipped_at).
    """
    ext = calendar_hours(start, now)
    any_remote = remote in ("yes", "maybe")
    if stage == "transit":
        lo = hi = TRANSIT_H
        if remote == "yes":
            lo += REMOTE_EXTRA_H
        if any_remote:
            hi += REMOTE_EXTRA_H
    elif stage == "city":
        lo, hi = CITY_H, CITY_H + (REMOTE_EXTRA_H if any_remote else 0.0)
    elif stage == "city_hub":
        lo, hi = CITY_H, TRANSIT_H + (REMOTE_EXTRA_H if any_remote else 0.0)
    elif stage == "not_collected":
        lo, hi = NOT_COLLECTED_H, NOT_COLLECTED_H + (REMOTE_EXTRA_H if any_remote else 0.0)
    else:
        raise ValueError(stage)
    return lo + ext, hi + ext


def _plain_hi(stage: str, remote: str) -> float:
    """The highest threshold on a day without holidays or peaks."""
    t0 = datetime(2000, 3, 1, tzinfo=CHINA)  # no holiday, no peak
    return threshold_range(stage, t0, t0, remote)[1]


# --------------------------------------------------------------------------------------------
# Places


@dataclass(frozen=True)
class Place:
    province: str
    prov_s: str
    city: str
    city_s: str
    district: str
    dist_s: str
    area: str  # neighbourhood the courier's outlet is named after
    roads: tuple[str, ...]
    hub: str  # short name of the sorting hub serving it
    remote: str  # yes / maybe / no


def _places(table: str) -> tuple[Place, ...]:
    out = []
    for line in table.strip().splitlines():
        prov, prov_s, city, city_s, dist, dist_s, area, roads, hub, remote = line.split()
        out.append(Place(prov, prov_s, city, city_s, dist, dist_s, area, tuple(roads.split(",")), hub, remote))
    return tuple(out)


#: buyers' places: province prov_s city city_s district dist_s area roads hub remote
DESTINATIONS = _places("""
北京市 北京 北京市 北京 朝阳区 朝阳 十里堡 朝阳北路,望京街,建国路 北京 no
北京市 北京 北京市 北京 海淀区 海淀 五道口 中关村大街,学院路,成府路 北京 no
上海市 上海 上海市 上海 浦东新区 浦东 张江 张江路,世纪大道,锦绣路 上海 no
上海市 上海 上海市 上海 闵行区 闵行 莘庄 七莘路,莘松路,都市路 上海 no
天津市 天津 天津市 天津 南开区 南开 王顶堤 红旗南路,卫津南路,复康路 天津 no
重庆市 重庆 重庆市 重庆 渝北区 渝北 两路 金开大道,新牌坊二路,龙溪路 重庆 no
河北省 河北 石家庄市 石家庄 长安区 长安 建华 中山东路,建设北大街,胜利北街 石家庄 no
河北省 河北 保定市 保定 竞秀区 竞秀 朝阳 朝阳北大街,七一西路,东风西路 石家庄 no
山西省 山西 太原市 太原 小店区 小店 长风 长治路,平阳路,学府街 太原 no
辽宁省 辽宁 沈阳市 沈阳 浑南区 浑南 浑南 浑南中路,世纪路,创新路 沈阳 no
辽宁省 辽宁 大连市 大连 甘井子区 甘井子 华北路 华北路,山东路,姚家街 沈阳 no
吉林省 吉林 长春市 长春 朝阳区 朝阳 红旗街 红旗街,西安大路,湖西路 长春 no
黑龙江省 黑龙江 哈尔滨市 哈尔滨 南岗区 南岗 学府 学府路,西大直街,红军街 哈尔滨 no
黑龙江省 黑龙江 齐齐哈尔市 齐齐哈尔 龙沙区 龙沙 五龙 龙华路,卜奎大街,中华路 哈尔滨 no
江苏省 江苏 南京市 南京 鼓楼区 鼓楼 湖南路 湖南路,中山北路,广州路 南京 no
江苏省 江苏 无锡市 无锡 梁溪区 梁溪 崇安寺 中山路,人民中路,解放北路 无锡 no
江苏省 江苏 徐州市 徐州 云龙区 云龙 彭城 和平路,解放南路,民主南路 南京 no
浙江省 浙江 宁波市 宁波 鄞州区 鄞州 钟公庙 天童南路,鄞州大道,四明中路 宁波 no
浙江省 浙江 温州市 温州 鹿城区 鹿城 五马 人民路,车站大道,学院中路 温州 no
安徽省 安徽 合肥市 合肥 蜀山区 蜀山 三里庵 长江西路,潜山路,黄山路 合肥 no
安徽省 安徽 阜阳市 阜阳 颍州区 颍州 文峰 清河东路,颍州中路,人民西路 合肥 no
福建省 福建 厦门市 厦门 思明区 思明 莲前 莲前西路,厦禾路,湖滨南路 厦门 no
福建省 福建 福州市 福州 鼓楼区 鼓楼 东街口 八一七北路,五四路,杨桥东路 福州 no
江西省 江西 南昌市 南昌 红谷滩区 红谷滩 红角洲 红谷中大道,丰和中大道,赣江中大道 南昌 no
江西省 江西 赣州市 赣州 章贡区 章贡 南外 文清路,红旗大道,章江路 南昌 no
山东省 山东 青岛市 青岛 市南区 市南 八大关 香港中路,延安三路,江西路 青岛 no
山东省 山东 济南市 济南 历城区 历城 洪家楼 花园路,工业北路,二环东路 济南 no
河南省 河南 郑州市 郑州 金水区 金水 花园路 花园路,农业路,经三路 郑州 no
河南省 河南 洛阳市 洛阳 洛龙区 洛龙 开元 开元大道,龙门大道,宜人路 郑州 no
湖北省 湖北 宜昌市 宜昌 西陵区 西陵 夜明珠 东山大道,沿江大道,夷陵大道 武汉 no
湖南省 湖南 长沙市 长沙 岳麓区 岳麓 望城坡 麓山南路,枫林三路,金星中路 长沙 no
湖南省 湖南 衡阳市 衡阳 蒸湘区 蒸湘 华新 解放大道,蒸湘北路,船山大道 长沙 no
广东省 广东 佛山市 佛山 南海区 南海 桂城 南海大道,桂澜路,海八路 佛山 no
广东省 广东 珠海市 珠海 香洲区 香洲 拱北 迎宾南路,情侣中路,凤凰路 广州 no
广东省 广东 汕头市 汕头 龙湖区 龙湖 金霞 长平路,黄山路,金砂东路 广州 no
广东省 广东 广州市 广州 天河区 天河 石牌 天河路,体育西路,中山大道 广州 no
广西壮族自治区 广西 南宁市 南宁 青秀区 青秀 民族 民族大道,东葛路,竹溪大道 南宁 no
广西壮族自治区 广西 桂林市 桂林 七星区 七星 七星 漓江路,穿山东路,七星路 南宁 no
四川省 四川 成都市 成都 武侯区 武侯 玉林 人民南路,玉林南路,科华北路 成都 no
四川省 四川 绵阳市 绵阳 涪城区 涪城 城郊 临园路,长虹大道,剑南路 成都 no
贵州省 贵州 贵阳市 贵阳 南明区 南明 花果园 花果园大街,遵义路,中华南路 贵阳 no
云南省 云南 昆明市 昆明 五华区 五华 翠湖 东风西路,人民中路,青年路 昆明 no
云南省 云南 大理白族自治州 大理 大理市 大理 下关 人民南路,建设路,苍山路 昆明 no
陕西省 陕西 西安市 西安 雁塔区 雁塔 小寨 长安中路,雁塔路,科技路 西安 no
陕西省 陕西 宝鸡市 宝鸡 渭滨区 渭滨 经二路 经二路,宝福路,清姜路 西安 no
浙江省 浙江 杭州市 杭州 西湖区 西湖 文新 文三路,古墩路,天目山路 杭州 no
江苏省 江苏 苏州市 苏州 姑苏区 姑苏 观前 人民路,干将西路,十全街 苏州 no
内蒙古自治区 内蒙古 呼和浩特市 呼和浩特 赛罕区 赛罕 昭乌达 昭乌达路,大学东街,新华东街 呼和浩特 maybe
内蒙古自治区 内蒙古 呼伦贝尔市 呼伦贝尔 海拉尔区 海拉尔 正阳 胜利大街,中央街,河东路 呼和浩特 maybe
甘肃省 甘肃 兰州市 兰州 城关区 城关 东岗 东岗西路,天水南路,庆阳路 兰州 maybe
甘肃省 甘肃 酒泉市 酒泉 敦煌市 敦煌 沙州 阳关中路,鸣山路,沙州北路 兰州 maybe
宁夏回族自治区 宁夏 银川市 银川 兴庆区 兴庆 鼓楼 解放西街,北京东路,文化东街 银川 maybe
海南省 海南 海口市 海口 美兰区 美兰 海甸 海甸五西路,人民大道,和平大道 海口 maybe
海南省 海南 三亚市 三亚 吉阳区 吉阳 大东海 榆亚路,迎宾路,凤凰路 海口 maybe
云南省 云南 迪庆藏族自治州 迪庆 香格里拉市 香格里拉 建塘 长征路,团结路,池慈卡街 昆明 maybe
新疆维吾尔自治区 新疆 乌鲁木齐市 乌鲁木齐 天山区 天山 大湾 解放南路,新华北路,延安路 乌鲁木齐 yes
新疆维吾尔自治区 新疆 喀什地区 喀什 喀什市 喀什 吾斯塘博依 人民西路,解放北路,色满路 乌鲁木齐 yes
新疆维吾尔自治区 新疆 伊犁哈萨克自治州 伊犁 伊宁市 伊宁 新华 解放路,斯大林街,新华西路 乌鲁木齐 yes
新疆维吾尔自治区 新疆 阿克苏地区 阿克苏 阿克苏市 阿克苏 英巴扎 新华东路,南大街,北京路 乌鲁木齐 yes
新疆维吾尔自治区 新疆 和田地区 和田 和田市 和田 古江巴格 北京西路,乌鲁木齐南路,迎宾路 乌鲁木齐 yes
西藏自治区 西藏 拉萨市 拉萨 城关区 城关 八廓 北京中路,江苏路,林廓北路 拉萨 yes
西藏自治区 西藏 日喀则市 日喀则 桑珠孜区 桑珠孜 城南 上海中路,珠峰路,山东路 拉萨 yes
西藏自治区 西藏 林芝市 林芝 巴宜区 巴宜 八一 广东路,福建路,双拥路 拉萨 yes
西藏自治区 西藏 那曲市 那曲 色尼区 色尼 那曲镇 浙江路,辽宁路,拉萨南路 拉萨 yes
青海省 青海 西宁市 西宁 城西区 城西 胜利路 五四西路,胜利路,西关大街 西宁 yes
青海省 青海 海西蒙古族藏族自治州 海西 格尔木市 格尔木 昆仑 昆仑中路,柴达木路,八一中路 西宁 yes
青海省 青海 玉树藏族自治州 玉树 玉树市 玉树 结古 胜利路,民主路,红卫路 西宁 yes
四川省 四川 甘孜藏族自治州 甘孜 康定市 康定 炉城 炉城南路,光明路,向阳街 成都 yes
四川省 四川 阿坝藏族羌族自治州 阿坝 马尔康市 马尔康 马尔康镇 达萨街,团结街,马江街 成都 yes
内蒙古自治区 内蒙古 阿拉善盟 阿拉善 阿拉善左旗 阿拉善左旗 巴彦浩特 额鲁特大街,王府街,和硕特大街 银川 yes
""")

#: where e-commerce shops ship from
ORIGINS = _places("""
浙江省 浙江 杭州市 杭州 萧山区 萧山 瓜沥 - 杭州 no
浙江省 浙江 金华市 金华 义乌市 义乌 福田 - 义乌 no
广东省 广东 广州市 广州 白云区 白云 太和 - 广州 no
广东省 广东 深圳市 深圳 龙岗区 龙岗 坂田 - 深圳 no
江苏省 江苏 苏州市 苏州 吴中区 吴中 木渎 - 苏州 no
福建省 福建 泉州市 泉州 晋江市 晋江 陈埭 - 泉州 no
山东省 山东 临沂市 临沂 兰山区 兰山 义堂 - 临沂 no
上海市 上海 上海市 上海 青浦区 青浦 华新 - 上海 no
湖北省 湖北 武汉市 武汉 东西湖区 东西湖 走马岭 - 武汉 no
""")

#: hub short name -> (province, province short, city)
HUBS: dict[str, tuple[str, str, str]] = {
    h: (p, ps, c)
    for h, p, ps, c in (
        line.split()
        for line in """
北京 北京市 北京 北京市
上海 上海市 上海 上海市
天津 天津市 天津 天津市
重庆 重庆市 重庆 重庆市
石家庄 河北省 河北 石家庄市
太原 山西省 山西 太原市
沈阳 辽宁省 辽宁 沈阳市
长春 吉林省 吉林 长春市
哈尔滨 黑龙江省 黑龙江 哈尔滨市
南京 江苏省 江苏 南京市
无锡 江苏省 江苏 无锡市
苏州 江苏省 江苏 苏州市
杭州 浙江省 浙江 杭州市
宁波 浙江省 浙江 宁波市
温州 浙江省 浙江 温州市
义乌 浙江省 浙江 金华市
合肥 安徽省 安徽 合肥市
福州 福建省 福建 福州市
厦门 福建省 福建 厦门市
泉州 福建省 福建 泉州市
南昌 江西省 江西 南昌市
济南 山东省 山东 济南市
青岛 山东省 山东 青岛市
临沂 山东省 山东 临沂市
郑州 河南省 河南 郑州市
武汉 湖北省 湖北 武汉市
长沙 湖南省 湖南 长沙市
广州 广东省 广东 广州市
深圳 广东省 广东 深圳市
佛山 广东省 广东 佛山市
南宁 广西壮族自治区 广西 南宁市
海口 海南省 海南 海口市
成都 四川省 四川 成都市
贵阳 贵州省 贵州 贵阳市
昆明 云南省 云南 昆明市
拉萨 西藏自治区 西藏 拉萨市
西安 陕西省 陕西 西安市
兰州 甘肃省 甘肃 兰州市
西宁 青海省 青海 西宁市
银川 宁夏回族自治区 宁夏 银川市
乌鲁木齐 新疆维吾尔自治区 新疆 乌鲁木齐市
呼和浩特 内蒙古自治区 内蒙古 呼和浩特市
""".strip().splitlines()
    )
}
NATIONAL_HUBS = ("郑州", "武汉", "长沙", "南昌", "济南", "合肥", "南京")
#: remote provinces: hubs a parcel passes before the destination hub
REMOTE_VIA: dict[str, tuple[tuple[str, ...], ...]] = {
    "新疆": (("西安", "兰州"), ("兰州",), ("西安",)),
    "西藏": (("成都",), ("西宁",)),
    "青海": (("兰州",), ("西安",)),
    "内蒙古": (("郑州",), ()),
}

ESTATES = ("阳光花园", "锦绣家园", "翠苑三区", "幸福里", "金色港湾", "万科城", "碧桂园", "滨江花园", "东方明珠苑",
           "紫荆小区", "桃源居", "绿城玉园", "龙湖春江郦城", "世纪新城", "和平里", "书香门第")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = ("建国", "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "海波", "志刚", "小龙", "晓东", "红梅",
         "丽", "静", "斌", "鹏")
AREA_CODES = ("010", "021", "020", "0755", "0571", "0579", "0512", "0595", "0539", "027", "025", "028")
MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 155 157 158 159 166 176 177 180 181 182 "
                   "183 185 186 187 188 189 191 198 199").split()


# --------------------------------------------------------------------------------------------
# Couriers and their house styles


@dataclass(frozen=True)
class Courier:
    com: str
    names: tuple[str, ...]  # how shops write it in the CSV
    style: str
    cname: str  # how its own texts name it
    number: Callable[[random.Random], str]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


COURIERS: tuple[Courier, ...] = (
    Courier("zhongtong", ("中通", "中通快递", "ZTO"), "zto", "中通快递", lambda r: "7" + r.choice("35678") + _digits(r, 12)),
    Courier("yuantong", ("圆通", "圆通速递", "圆通快递"), "yto", "圆通速递", lambda r: "YT" + r.choice("6789") + _digits(r, 12)),
    Courier("shentong", ("申通", "申通快递"), "sto", "申通快递", lambda r: "77" + r.choice("3456") + _digits(r, 12)),
    Courier("yunda", ("韵达", "韵达快递", "韵达速递"), "yunda", "韵达快递", lambda r: r.choice(("43", "46", "31")) + _digits(r, 13)),
    Courier("shunfeng", ("顺丰", "顺丰速运", "顺丰快递"), "sf", "顺丰速运", lambda r: "SF1" + r.choice("3456") + _digits(r, 11)),
    Courier("jtexpress", ("极兔", "极兔速递", "极兔快递"), "jt", "极兔速递", lambda r: "JT" + r.choice("35") + _digits(r, 12)),
    Courier("ems", ("EMS", "邮政EMS", "中国邮政EMS"), "ems", "EMS", lambda r: r.choice(("98", "11", "10")) + _digits(r, 11)),
    Courier("youzhengguonei", ("邮政", "邮政快递包裹", "中国邮政"), "post", "中国邮政", lambda r: "97" + _digits(r, 11)),
    Courier("jd", ("京东", "京东快递", "京东物流"), "jd", "京东快递", lambda r: "JDV" + r.choice("AC") + _digits(r, 11)),
    Courier("debangwuliu", ("德邦", "德邦快递"), "dbl", "德邦快递", lambda r: "DPK" + r.choice("36") + _digits(r, 11)),
)
COURIER_BY_COM = {c.com: c for c in COURIERS}
#: share of each courier in Chinese e-commerce volume, roughly
COURIER_WEIGHTS = {"zhongtong": 20, "yuantong": 16, "shentong": 11, "yunda": 13, "shunfeng": 9, "jtexpress": 11,
                   "ems": 5, "youzhengguonei": 5, "jd": 6, "debangwuliu": 4}
BRACKET_STYLES = {"zto", "jt", "yunda"}  # texts start with 【city】


def _outlet(style: str, p: Place) -> str:
    muni = p.province == p.city
    ds = "" if p.dist_s == p.city_s else p.dist_s  # 喀什地区喀什市: no "喀什喀什"
    return {
        "zto": f"{p.city_s}{p.area}",
        "yto": f"{'' if muni else p.province}{p.city}{p.district}{p.area}公司",
        "sto": f"{'' if muni else p.prov_s}{p.city_s}{ds}{p.area}公司",
        "yunda": f"{'' if muni else p.prov_s}{p.city_s}{ds}{p.area}公司",
        "sf": f"{p.city_s}{ds}{p.area}速运营业点",
        "jt": f"{p.city_s}{ds}{p.area}网点",
        "ems": f"{p.city}{p.district}{p.area}揽投部",
        "post": f"{p.city}{p.district}{p.area}揽投部",
        "jd": f"{p.city_s}{ds}{p.area}营业部",
        "dbl": f"{p.city_s}{ds}{p.area}营业部",
    }[style]


def _hub_name(style: str, hub: str) -> str:
    prov_s = HUBS[hub][1]
    return {
        "zto": f"{hub}中转部",
        "yto": f"{hub}转运中心",
        "sto": f"{hub}转运中心",
        "yunda": f"{'' if prov_s == hub else prov_s}{hub}分拨中心",
        "sf": f"{hub}集散中心",
        "jt": f"{hub}转运中心",
        "ems": f"{hub}邮区中心局",
        "post": f"{hub}处理中心",
        "jd": f"{hub}分拣中心",
        "dbl": f"{hub}枢纽中心",
    }[style]


# Templates per style; fields: city (the scan's city), outlet, o_outlet, hub, next, staff, phone,
# tel, locker, code, ocity, cname, hh.
STYLE_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "zto": {
        "collected": ("【{city}】 【{outlet}】（{tel}）的 {staff}（{phone}） 已揽收", "【{city}】 【{outlet}】 已揽收"),
        "hub_arrive": ("【{city}】 快件已经到达 【{hub}】",),
        "hub_depart": ("【{city}】 快件离开 【{hub}】 已发往 【{next}】",),
        "outlet_arrive": ("【{city}】 快件已经到达 【{outlet}】",),
        "ofd": ("【{city}】 【{outlet}】 的{staff}（{phone}） 正在第1次派件, 请保持电话畅通,并耐心等待（95720为中通快递员外呼专属号码，请放心接听）",
                "【{city}】 【{outlet}】 派件员：{staff} 电话：{phone} 正在为您派件"),
        "ofd2": ("【{city}】 【{outlet}】 的{staff}（{phone}） 正在第2次派件, 请保持电话畅通,并耐心等待",),
        "pickup": ("【{city}】 快件已被【{locker}】代收，请凭取件码{code}及时取件，如有问题请电联（{phone}），感谢使用中通快递，期待再次为您服务！",
                   "【{city}】 快件已送达【{locker}】，取件码{code}，请及时领取，如有疑问请电联（{phone}）"),
        "delivered": ("【{city}】 快件已在 【{outlet}】 签收, 签收人: 本人, 如有疑问请电联:（{phone}）, 投诉电话:（{tel}）, 您的快递已经妥投。风里来雨里去, 只为客官您满意。",
                      "【{city}】 您的快递已签收, 签收人在【{locker}】领取。如有疑问请电联:（{phone}）, 您的快递已经妥投。"),
        "delivered_proxy": ("【{city}】 快件已在 【{outlet}】 签收, 签收人: 门卫, 如有疑问请电联:（{phone}）, 您的快递已经妥投。",),
    },
    "yto": {
        "collected": ("【{outlet}】 已揽收 取件人: {staff} ({phone})",),
        "hub_arrive": ("【{hub}】 已收入",),
        "hub_depart": ("【{hub}】 已发出 下一站 【{next}】",),
        "outlet_arrive": ("【{outlet}】 已收入",),
        "ofd": ("【{outlet}】 派件中  派件人: {staff} 电话 {phone}  如有疑问，请联系：{phone}",),
        "ofd2": ("【{outlet}】 再次派件中  派件人: {staff} 电话 {phone}",),
        "pickup": ("快件已由{city}{locker}代收，请及时取件，取件码{code}，如有疑问请联系{phone}",),
        "delivered": ("客户签收人: 本人签收 已签收  感谢使用圆通速递，期待再次为您服务 如有疑问请联系：{phone}，投诉电话：{tel}",
                      "客户签收人: 已签收，签收人凭取货码签收。 已签收 感谢使用圆通速递，期待再次为您服务"),
        "delivered_proxy": ("客户签收人: 家人代签 已签收  感谢使用圆通速递，期待再次为您服务",),
    },
    "sto": {
        "collected": ("【{outlet}】-【{staff}】已收件",),
        "hub_arrive": ("快件已到达【{hub}】扫描员是【{staff}】",),
        "hub_depart": ("快件由【{hub}】发往【{next}】",),
        "outlet_arrive": ("快件已到达【{outlet}】扫描员是【{staff}】",),
        "ofd": ("【{outlet}】-【{staff}】（{phone}）正在派件",),
        "ofd2": ("【{outlet}】-【{staff}】（{phone}）正在派件（第2次）",),
        "pickup": ("您的快件已放入【{locker}】，请凭取件码{code}及时领取，如有疑问请联系{phone}",),
        "delivered": ("已签收，签收人是【本人】，感谢使用申通快递，期待再次为您服务", "已签收，签收人是【本人】，如有疑问请联系派件员【{staff}，{phone}】"),
        "delivered_proxy": ("已签收，签收人是【前台】，感谢使用申通快递，期待再次为您服务",),
    },
    "yunda": {
        "collected": ("【{city}】{outlet} 进行揽件扫描", "【{city}】【{outlet}】已揽收"),
        "hub_arrive": ("【{city}】已到达【{hub}】",),
        "hub_depart": ("【{city}】【{hub}】进行装车扫描，发往：{next}",),
        "outlet_arrive": ("【{city}】【{outlet}】进行快件扫描",),
        "ofd": ("【{city}】【{outlet}】进行派件扫描；派送业务员：{staff}；联系电话：{phone}",),
        "ofd2": ("【{city}】【{outlet}】再次进行派件扫描；派送业务员：{staff}；联系电话：{phone}",),
        "pickup": ("【{city}】快件已被【{locker}】代收，取件码：{code}，请及时取件。如有疑问请联系：{phone}",),
        "delivered": ("【{city}】【{outlet}】快件已被 本人 签收，如有疑问请联系业务员：{staff}，联系电话：{phone}",),
        "delivered_proxy": ("【{city}】【{outlet}】快件已被 快递超市 签收，如有疑问请联系业务员：{staff}，联系电话：{phone}",),
    },
    "sf": {
        "collected": ("顺丰速运 已收取快件", "您的快件已由【{outlet}】收取，收件员：{staff}"),
        "hub_arrive": ("快件到达 【{hub}】",),
        "hub_depart": ("快件在【{hub}】完成分拣，准备发往 【{next}】",),
        "outlet_arrive": ("快件到达 【{outlet}】",),
        "ofd": ("快件交给{staff}，正在派送途中（联系电话：{phone}，顺丰已开启“安全呼叫”保护您的电话隐私，请放心接听！）",),
        "ofd2": ("快件交给{staff}，正在再次派送途中（联系电话：{phone}）",),
        "pickup": ("快件已放至【{locker}】，请凭取件码{code}领取，如有疑问请电联快递员：{staff}【{phone}】",),
        "delivered": ("快件已签收，签收人：本人，如有疑问请电联快递员：{staff}【{phone}】。感谢使用顺丰，期待再次为您服务。",
                      "您的快件已签收，签收人：本人。感谢使用顺丰，期待再次为您服务"),
        "delivered_proxy": ("快件已签收，签收人：同事，如有疑问请电联快递员：{staff}【{phone}】。",),
    },
    "jt": {
        "collected": ("【{city}】您的快件已由【{outlet}】揽收，揽收员：{staff}，电话：{phone}",),
        "hub_arrive": ("【{city}】快件已到达【{hub}】",),
        "hub_depart": ("【{city}】快件离开【{hub}】，发往【{next}】",),
        "outlet_arrive": ("【{city}】快件已到达【{outlet}】",),
        "ofd": ("【{city}】【{outlet}】快递员【{staff}】正在为您派件，联系电话：{phone}，投诉电话：956025",),
        "ofd2": ("【{city}】【{outlet}】快递员【{staff}】正在为您第2次派件，联系电话：{phone}",),
        "pickup": ("【{city}】您的快件已暂存至【{locker}】，取件码{code}，请及时取件",),
        "delivered": ("【{city}】您的快件已签收，签收人：本人签收，感谢使用极兔速递，期待再次为您服务",),
        "delivered_proxy": ("【{city}】您的快件已签收，签收人：他人代收（家人），感谢使用极兔速递",),
    },
    "ems": {
        "collected": ("【{outlet}】已收寄,揽投员:{staff},电话:{phone}",),
        "hub_arrive": ("到达【{hub}】",),
        "hub_depart": ("离开【{hub}】，下一站【{next}】",),
        "outlet_arrive": ("到达【{outlet}】",),
        "ofd": ("【{outlet}】安排投递，预计{hh}:00前投递（投递员姓名：{staff};联系电话：{phone}）",),
        "ofd2": ("【{outlet}】再次安排投递（投递员姓名：{staff};联系电话：{phone}）",),
        "pickup": ("已投递至【{locker}】，请凭提取码{code}及时取件，投递员：{staff}，电话：{phone}",),
        "delivered": ("已签收，本人收，投递员：{staff}，电话：{phone}", "投递并签收，签收人：本人收"),
        "delivered_proxy": ("投递并签收，签收人：他人收 单位收发室",),
    },
    "post": {
        "collected": ("【{outlet}】已收寄",),
        "hub_arrive": ("到达【{hub}】",),
        "hub_depart": ("【{hub}】已发出，下一站【{next}】",),
        "outlet_arrive": ("到达【{outlet}】",),
        "ofd": ("【{outlet}】正在投递，投递员：{staff}，电话：{phone}",),
        "ofd2": ("【{outlet}】再次投递，投递员：{staff}，电话：{phone}",),
        "pickup": ("包裹已放入【{locker}】，请凭提取码{code}取件",),
        "delivered": ("【{outlet}】已妥投，签收人：本人",),
        "delivered_proxy": ("【{outlet}】已妥投，签收人：他人收（物业）",),
    },
    "jd": {
        "collected": ("您的快件已由【{outlet}】揽收，快递员：{staff}",),
        "hub_arrive": ("您的快件已到达【{hub}】",),
        "hub_depart": ("您的快件在【{hub}】分拣完成，已发往【{next}】",),
        "outlet_arrive": ("您的快件已到达【{outlet}】",),
        "ofd": ("配送员【{staff}】已出发，联系电话【{phone}】，感谢您的耐心等待，参加评价还能赢取京豆呦",),
        "ofd2": ("配送员【{staff}】再次出发，联系电话【{phone}】，请保持电话畅通",),
        "pickup": ("您的快件已到达【{locker}】，请凭取件码{code}取件",),
        "delivered": ("您的快件已由本人签收，如有疑问请联系配送员【{staff}】，电话【{phone}】。感谢您使用京东物流，欢迎再次光临！",),
        "delivered_proxy": ("您的快件已由家人代收签收。感谢您使用京东物流，欢迎再次光临！",),
    },
    "dbl": {
        "collected": ("您的快件已被【{outlet}】揽收",),
        "hub_arrive": ("运输中，到达【{hub}】",),
        "hub_depart": ("运输中，离开【{hub}】，下一站【{next}】",),
        "outlet_arrive": ("到达【{outlet}】",),
        "ofd": ("派送中，派送人员：{staff}，电话：{phone}，请保持电话畅通",),
        "ofd2": ("再次派送中，派送人员：{staff}，电话：{phone}",),
        "pickup": ("您的快件已放入【{locker}】，请凭取件码{code}取件",),
        "delivered": ("正常签收，签收人类型：本人，感谢您使用德邦快递",),
        "delivered_proxy": ("正常签收，签收人类型：代签收（门卫），感谢您使用德邦快递",),
    },
}

# Texts every courier writes in much the same words; {pre} is "【城市】 " for bracket styles.
SHARED_TEXTS: dict[str, tuple[str, ...]] = {
    "info": ("{pre}商家已下单，等待{cname}揽收", "{pre}您的包裹已打包完成，待快递员上门揽收", "{pre}{cname}已接单，等待快递员上门取件",
             "{pre}已下单，等待揽收", "{pre}快递员已接单，正在上门揽收途中", "{pre}包裹已出库，等待快递员揽收",
             "{pre}商家已打单，等待揽收"),
    "pickup_expired": ("{pre}快件在【{locker}】超时未取，已退回寄件人",
                       "{pre}您的快件因超过保管期限未领取，正在退回寄件人"),
    "delay": ("{pre}受暴雪天气影响，部分班车延误，您的快件可能延迟送达，敬请谅解",
              "{pre}因交通管制，快件在【{hub}】延误发出，我们将尽快为您转运",
              "{pre}快件量激增，【{hub}】正在加紧处理，可能延误送达，敬请谅解"),
    "failed": ("{pre}【{outlet}】 快件派送不成功，原因：收件人电话无人接听，将于次日再次派送",
               "{pre}派送不成功，原因：收件人不在家，已与收件人约定改日派送",
               "{pre}快件派送不成功，收件人要求改日派送，派件员：{staff} 电话：{phone}",
               "派送不成功,政府机关、学校等特殊单位,正在安排处理中。"),
    "unreachable": ("{pre}快件派送不成功，原因：收件地址超出派送范围（超区），请联系寄件人协商处理",
                    "{pre}【{outlet}】 该区域为我司未开通区域，暂无法派送，请联系寄件方",
                    "{pre}收件地址属于超区范围，本网点无法派送，已反馈寄件方",
                    "{pre}此件收件地址为偏远乡镇，不在服务范围内，无法派送",
                    "{pre}收件地址无派送网点覆盖，无法派送，请联系寄件人",
                    "{pre}该地址暂不支持派送服务（超出服务区域）",
                    "{pre}【{outlet}】：该地址不在我司派送范围内，无法派送，已通知寄件方",
                    "{pre}您的快件因收件地址超区暂不派送，请联系商家改寄其他快递",
                    "{pre}【{outlet}】 乡镇地址本网点不派送，请收件人自行到网点领取或联系商家",
                    "{pre}快件超出服务范围，无法派送，网点：{outlet}"),
    "transfer": ("{pre}收件地址超出派送范围，快件已转邮政派送，邮政单号：{post_no}，请留意邮政投递信息",
                 "{pre}快件转EMS派送，EMS单号：{post_no}（原因：超区）",
                 "{pre}【{outlet}】 因超区，快件已交由中国邮政转寄，转寄单号：{post_no}",
                 "{pre}偏远地区，快件已转邮政EMS派送，新单号{post_no}",
                 "{pre}【{outlet}】 超区件已转交中国邮政投递，邮件号：{post_no}"),
    "refused": ("{pre}快件派送不成功，原因：收件人拒收，已联系寄件方处理",
                "{pre}收件人拒绝签收，原因：未订购此商品",
                "{pre}派件员：{staff}（{phone}） 反馈：客户拒收，已办理退回",
                "{pre}【{outlet}】 收件人拒收，拒收原因：不想要了，快件将退回寄件人",
                "{pre}客户拒签，原因：商品与描述不符，派件员：{staff} 电话：{phone}",
                "{pre}收件人拒付到付运费，拒收快件，待寄件人确认处理"),
    "return_transit": ("{pre}退回件 快件离开 【{hub}】 已发往 【{next}】",
                       "{pre}退回件 已到达 【{hub}】",
                       "{pre}快件已退回，正在发往寄件地【{ocity}】，当前到达【{hub}】",
                       "{pre}【{hub}】 退件已发出，下一站 【{next}】",
                       "{pre}您的快件因拒收正在退回寄件人途中，已到达【{hub}】"),
    "returned": ("【{ocity}】 退回件已签收，签收人：寄件人",
                 "【{ocity}】 退回件已妥投，签收人：寄件人本人",
                 "快件已退回至寄件人处，寄件人已签收",
                 "【{ocity}】 您的快件已退回寄件人，寄件人已签收",
                 "退件已妥投，签收人：商家仓库，退回件处理完毕",
                 "【{o_outlet}】 退回件已由寄件人签收"),
    "damaged": ("{pre}快件在【{hub}】发现外包装破损，已登记问题件，正在核实处理",
                "{pre}快件在运输过程中损坏，已联系寄件人协商处理",
                "{pre}【{hub}】 内件破损，已做留仓处理，等待寄件方确认",
                "{pre}【{hub}】 快件破损，暂停转运，已联系寄件方处理",
                "{pre}【{outlet}】 快件外包装严重破损，内件受损，已做问题件处理，请联系寄件人",
                "{pre}快件运输途中破损，已拍照留存并通知寄件方，等待处理意见"),
    "address": ("{pre}快件派送不成功，原因：收件地址不详，无法联系收件人，请寄件人提供详细地址",
                "{pre}收件人电话停机，地址不详，无法派送",
                "{pre}查无此人，收件人电话无法接通且地址有误，快件滞留【{outlet}】",
                "{pre}收件地址不完整，请联系寄件方补充详细地址",
                "{pre}【{outlet}】 问题件：收件人电话错误（空号），无法联系收件人，快件滞留网点",
                "{pre}收件人地址错误，无法派送，需寄件人更正收件地址",
                "{pre}【{outlet}】 收件人信息不全：电话号码错误，地址不详，已联系寄件方"),
    "address_fixed": ("{pre}已联系收件人更正地址，快件重新安排派送",),
    "lost": ("{pre}很抱歉，您的快件在【{hub}】遗失，已启动理赔流程，请联系寄件方处理",
             "{pre}快件丢件，已上报理赔",
             "很抱歉，您的包裹在运输途中遗失，我们已为寄件人办理理赔",
             "{pre}快件丢失，我司已登记理赔，给您带来不便深表歉意",
             "{pre}快件在运输途中遗失，{cname}已联系寄件人协商赔付",
             "经核实，快件已丢失，请寄件方申请理赔"),
}

#: further real-world phrasings of some kinds, used beside the house style's own
EXTRA_TEXTS: dict[str, tuple[str, ...]] = {
    "pickup": ("{pre}快件已存放至【{locker}】，请凭取件码{code}及时取件，超时未取将收取保管费",
               "{pre}您的快递已入柜【{locker}】，取件码{code}，超过18小时将收取超时费",
               "{pre}您的包裹已到达【{locker}】自提点，请凭取件码{code}前往领取"),
    "delivered": ("{pre}投递结果反馈-投递成功，签收人：本人",
                  "{pre}您的快件已签收，签收人：本人签收，如有疑问请联系{staff}：{phone}"),
    "outlet_arrive": ("{pre}快件已到达【{outlet}】，正在安排派送，如有疑问请联系{phone}",),
}

LOCKERS = ("{estate}菜鸟驿站", "丰巢智能快递柜（{estate}{n}号楼旁）", "兔喜生活{estate}店", "妈妈驿站（{road}店）",
           "{estate}快递代收点", "中邮驿站{estate}店", "{estate}丰巢快递柜")

#: kind -> (expected status, other fair statuses, (detailed name, code) choices)
KIND_META: dict[str, tuple[str, frozenset[str], tuple[tuple[str, str], ...]]] = {
    "info": ("info_received", frozenset({"pending"}), (("已下单", "101"), ("待揽收", "102"))),
    "collected": ("collected", frozenset({"in_transit"}), (("揽收", "1"), ("已揽收", "103"))),
    "hub_arrive": ("in_transit", frozenset(), (("干线", "1002"), ("在途", "0"))),
    "hub_depart": ("in_transit", frozenset(), (("干线", "1002"), ("在途", "0"))),
    "city_hub": ("arrived_destination_city", frozenset({"in_transit"}), (("到达派件城市", "1001"),)),
    "outlet_arrive": ("arrived_destination_city", frozenset({"in_transit"}), (("到达派件城市", "1001"),)),
    "ofd": ("out_for_delivery", frozenset(), (("派件", "5"),)),
    "ofd2": ("out_for_delivery", frozenset(), (("派件", "5"),)),
    "pickup": ("available_for_pickup", frozenset(), (("投柜或驿站", "501"),)),
    "delivered": ("delivered", frozenset(), (("本人签收", "301"), ("签收", "3"))),
    "delivered_proxy": ("delivered", frozenset({"available_for_pickup"}), (("代签", "303"),)),
    "failed": ("failed_attempt", frozenset({"exception"}), (("派件异常", "204"),)),
    "unreachable": ("exception", frozenset({"failed_attempt"}), (("超区", "207"),)),
    "transfer": ("exception", frozenset({"in_transit", "failed_attempt"}), (("转投", "7"),)),
    "refused": ("exception", frozenset({"failed_attempt", "returning"}), (("拒收", "203"), ("拒签", "14"))),
    "return_transit": ("returning", frozenset({"exception"}), (("退回", "6"),)),
    "returned": ("returned", frozenset({"exception"}), (("退签", "4"),)),
    "damaged": ("exception", frozenset(), (("破损", "209"),)),
    "address": ("exception", frozenset({"failed_attempt"}), (("疑难", "2"),)),
    "address_fixed": ("out_for_delivery", frozenset({"arrived_destination_city", "in_transit"}), (("派件", "5"),)),
    "lost": ("exception", frozenset(), (("疑难", "2"),)),
    "delay": ("in_transit", frozenset({"arrived_destination_city"}), (("在途", "0"),)),
    "intl": ("in_transit", frozenset({"arrived_destination_city"}), (("干线", "1002"),)),
    "customs": ("in_transit", frozenset({"arrived_destination_city"}), (("清关中", "11"), ("已清关", "12"))),
    "pickup_expired": ("returning", frozenset({"exception"}), (("柜或驿站超时未取", "205"), ("退回", "6"))),
}
#: detailed code -> the coarse group a basic reply carries
COARSE = {"101": "1", "102": "1", "1": "1", "103": "1", "1002": "0", "0": "0", "1001": "0", "5": "5", "501": "5",
          "301": "3", "3": "3", "302": "3", "303": "3", "304": "3", "204": "2", "207": "2", "7": "7", "203": "2",
          "14": "14", "6": "6", "4": "4", "205": "2", "209": "2", "2": "2", "11": "8", "12": "8", "202": "0", "201": "2"}


# --------------------------------------------------------------------------------------------
# Events and traces


#: event kinds after which a parcel is moving (its silence is judged against a stall threshold)
_MOVING = frozenset({"collected", "hub_arrive", "hub_depart", "outlet_arrive", "ofd", "ofd2", "intl", "customs",
                     "address_fixed", "delay"})


@dataclass
class Ev:
    kind: str  # a KIND_META key
    where: Place | None  # outlet place (collected / outlet / delivery events)
    hub: str | None = None  # hub short name (hub events)
    next: str = ""  # next stop's display name
    stage: str = "transit"  # transit | city_hub | city (for stall judgement of the newest event)
    text: str = ""  # pre-rendered (international legs)
    city: str = ""  # the scan's city (full), set by _locate
    prov_s: str = ""
    gap: float = 0.0  # hours after the previous event
    at: datetime | None = None


@dataclass
class Trip:
    origin: Place
    dest: Place
    courier: Courier
    events: list[Ev] = field(default_factory=list)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + _digits(rng, 8)


def _staff(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(SURNAMES) + "师傅"
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _fmt(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


class _Gen:
    def __init__(self, now: datetime, seed: int) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.now = now.astimezone(timezone.utc)
        self.rng = random.Random(seed)
        self.numbers: set[str] = set()
        self.cases: list[Case] = []
        self._holiday_ages: dict[tuple[str, str], list[float]] = {}

    # -- choices ---------------------------------------------------------------------------

    def courier(self, exclude: Iterable[str] = ()) -> Courier:
        pool = [c for c in COURIERS if c.com not in set(exclude)]
        return self.rng.choices(pool, weights=[COURIER_WEIGHTS[c.com] for c in pool])[0]

    def dest(self, remote: str | None = None) -> Place:
        pool = [p for p in DESTINATIONS if remote is None or p.remote == remote]
        return self.rng.choice(pool)

    def origin_for(self, dest: Place) -> Place:
        pool = [o for o in ORIGINS if o.city != dest.city]
        return self.rng.choice(pool)

    def number(self, courier: Courier) -> str:
        while True:
            n = courier.number(self.rng)
            if n not in self.numbers:
                self.numbers.add(n)
                return n

    # -- routes ----------------------------------------------------------------------------

    def hubs(self, origin: Place, dest: Place) -> list[str]:
        chain = [origin.hub]
        via = REMOTE_VIA.get(dest.prov_s)
        if via:
            chain += list(self.rng.choice(via))
        elif dest.province != origin.province and self.rng.random() < 0.45:
            chain.append(self.rng.choice([h for h in NATIONAL_HUBS if h not in (origin.hub, dest.hub)]))
        chain.append(dest.hub)
        out: list[str] = []
        for h in chain:
            if not out or out[-1] != h:
                out.append(h)
        return out

    def forward(self, trip: Trip, *, info: bool | None = None) -> list[Ev]:
        """collected … outlet_arrive, ofd: the forward path up to the first delivery run."""
        r, o, d, style = self.rng, trip.origin, trip.dest, trip.courier.style
        far = d.remote == "yes"
        evs: list[Ev] = []
        if info if info is not None else r.random() < 0.3:
            evs.append(Ev("info", o, gap=0.0))
        evs.append(Ev("collected", o, gap=r.uniform(1, 6)))
        chain = self.hubs(o, d)
        for i, hub in enumerate(chain):
            in_buyer_city = HUBS[hub][2] == d.city
            stage = "city_hub" if in_buyer_city else "transit"
            nxt = _hub_name(style, chain[i + 1]) if i + 1 < len(chain) else _outlet(style, d)
            leg = r.uniform(2, 6) if i == 0 else (r.uniform(18, 40) if far and i >= 1 else r.uniform(6, 26))
            evs.append(Ev("hub_arrive", None, hub=hub, stage=stage, gap=leg))
            evs.append(Ev("hub_depart", None, hub=hub, next=nxt, stage=stage, gap=r.uniform(0.5, 4)))
        last_leg = r.uniform(20, 40) if far and HUBS[chain[-1]][2] != d.city else r.uniform(3, 12)
        evs.append(Ev("outlet_arrive", d, stage="city", gap=last_leg))
        evs.append(Ev("ofd", d, stage="city", gap=r.uniform(0.5, 3)))
        return evs

    # -- rendering -------------------------------------------------------------------------

    def render(self, trip: Trip, evs: list[Ev], latest_at: datetime, detailed: bool,
               state: str | None = None) -> dict[str, Any]:
        """Times backwards from ``latest_at``; texts; the Kuaidi100 reply (newest first)."""
        r, style, c = self.rng, trip.courier.style, trip.courier
        at = latest_at
        for ev in reversed(evs):
            ev.at = at
            at = at - timedelta(hours=ev.gap) - timedelta(seconds=r.randint(0, 900))
        staff_d, phone_d = _staff(r), _mobile(r)
        if r.random() < 0.2:  # some couriers mask their staff's numbers too
            phone_d = phone_d[:3] + "****" + phone_d[7:]
        fields_common = {
            "cname": c.cname, "ocity": trip.origin.city, "o_outlet": _outlet(style, trip.origin),
            "tel": f"{r.choice(AREA_CODES)}-{r.randint(6000000, 8999999)}",
            "post_no": r.choice(("98", "11", "97")) + _digits(r, 11), "code": self.pickup_code(),
            "locker": self.locker(trip.dest), "hh": str(r.randint(12, 20)),
        }
        items = []
        bare = r.random() < 0.5  # coarse replies: no code fields at all, or statusCode "0" everywhere
        for ev in evs:
            if ev.hub:
                ev.prov_s, ev.city = HUBS[ev.hub][1], HUBS[ev.hub][2]
            elif ev.where is not None:
                ev.prov_s, ev.city = ev.where.prov_s, ev.where.city
            at_origin = ev.where is trip.origin
            f = dict(fields_common)
            f.update(
                city=ev.city, hub=_hub_name(style, ev.hub) if ev.hub else "", next=ev.next,
                outlet=_outlet(style, ev.where) if ev.where else "",
                staff=_staff(r) if at_origin or ev.hub else staff_d,
                phone=_mobile(r) if at_origin or ev.hub else phone_d,
            )
            f["pre"] = f"【{ev.city}】 " if style in BRACKET_STYLES and ev.city else ""
            if not ev.text:
                variants = STYLE_TEXTS[style].get(ev.kind) or SHARED_TEXTS[ev.kind]
                if ev.kind in EXTRA_TEXTS and r.random() < 0.3:
                    variants = EXTRA_TEXTS[ev.kind]
                ev.text = r.choice(variants).format_map(f)
            items.append(self.item(ev, detailed, bare))
            if r.random() < 0.03:  # couriers' systems sometimes report one scan twice
                items.append(dict(items[-1]))
        items.reverse()  # newest first
        latest_code = items[0].get("statusCode") if detailed else None
        if state is None:
            kind = evs[-1].kind
            code = latest_code or r.choice(KIND_META[kind][2])[1]
            state = code if detailed else COARSE.get(code, "0")
        return trace_reply("", trip.courier.com, state, items)

    def item(self, ev: Ev, detailed: bool, bare: bool) -> dict[str, Any]:
        assert ev.at is not None
        when = _fmt(ev.at)
        out: dict[str, Any] = {"time": when, "ftime": when, "context": ev.text}
        kind = "city_hub" if ev.kind.startswith("hub_") and ev.stage == "city_hub" else ev.kind
        if detailed:
            name, code = self.rng.choice(KIND_META[kind][2])
            out.update(location=ev.city, areaCode=None, areaName=f"{ev.prov_s},{ev.city}" if ev.city else None,
                       status=name, statusCode=code)
        elif not bare:
            out.update(location=self.rng.choice(("", None)), status="", statusCode="0")
        return out

    def pickup_code(self) -> str:
        r = self.rng
        return r.choice((f"{r.randint(1, 9)}-{r.randint(1, 6)}-{r.randint(1000, 9999)}", _digits(r, 8),
                         f"{r.randint(10, 99)}-{r.randint(1000, 9999)}"))

    def locker(self, p: Place) -> str:
        r = self.rng
        return r.choice(LOCKERS).format(estate=r.choice(ESTATES), n=r.randint(1, 30), road=r.choice(p.roads))

    # -- ages ------------------------------------------------------------------------------

    def fit(self, want: float, target: str, stage: str, remote: str, *, limit_days: int = 40) -> float:
        """An age near ``want`` hours whose label (stall / ok) holds under every reading.

        Thresholds only grow with the age (a longer window holds more holiday hours), so a
        stall moves up to ``hi + margin`` and an ok case down to ``lo - margin`` until it holds.
        """
        a = want
        while 0.5 < a < want + 24 * limit_days:
            lo, hi = threshold_range(stage, self.now - timedelta(hours=a), self.now, remote)
            if target == "stall":
                if a >= hi + MARGIN_HOURS:
                    return a
                a = max(a + 0.5, hi + MARGIN_HOURS)
            else:
                if a <= lo - MARGIN_HOURS:
                    return a
                a = min(a - 0.5, lo - MARGIN_HOURS)
        raise RuntimeError(f"no unambiguous age near {want} h for {target} {stage}")

    def holiday_fit(self, stage: str, remote: str) -> float | None:
        """An age that is a stall on a plain day but within the extended threshold now."""
        key = (stage, remote)
        if key not in self._holiday_ages:
            plain = _plain_hi(stage, remote) + MARGIN_HOURS
            ages, a = [], plain
            while a < 24 * 21:
                lo, _ = threshold_range(stage, self.now - timedelta(hours=a), self.now, remote)
                if a <= lo - MARGIN_HOURS:
                    ages.append(a)
                a += 1.0
            self._holiday_ages[key] = ages
        ages = self._holiday_ages[key]
        return self.rng.choice(ages) if ages else None

    # -- cases -----------------------------------------------------------------------------

    def add(self, family: str, trip: Trip, reply: dict[str, Any], shipped: datetime, flags: Iterable[str],
            status: str, note: str, detailed: bool, statuses_ok: Iterable[str] = (), stage: str = "") -> None:
        number = self.number(trip.courier)
        if reply.get("data") is not None:
            reply["nu"] = number
        d = trip.dest
        r = self.rng
        address = (f"{d.district}{r.choice(d.roads)}{r.randint(1, 999)}号{r.choice(ESTATES)}"
                   f"{r.randint(1, 30)}栋{r.randint(1, 6)}单元{r.randint(1, 33)}{r.randint(1, 4):02d}室")
        if shipped > self.now:
            raise AssertionError(f"{family}: shipped in the future")
        self.cases.append(Case(
            tracking_number=number,
            courier=r.choice(trip.courier.names),
            com=trip.courier.com,
            buyer_phone=_mobile(r),
            province=d.province, city=d.city, district=d.district, address=address,
            shipped_at=shipped.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            reply=reply,
            expected_flags=frozenset(flags),
            expected_status=status,
            statuses_ok=frozenset(statuses_ok) - {status},
            label_note=note,
            family=family,
            detailed_codes=detailed,
            remote=d.remote,
            stage=stage,
        ))

    def trace_case(self, family: str, trip: Trip, evs: list[Ev], age: float, flags: Iterable[str], note: str,
                   detailed: bool, state: str | None = None, status: str | None = None) -> None:
        latest = self.now - timedelta(hours=age)
        reply = self.render(trip, evs, latest, detailed, state)
        first = evs[0].at
        assert first is not None
        shipped = first - timedelta(hours=self.rng.uniform(0.3, 1.5) if evs[0].kind == "info"
                                    else self.rng.uniform(1.0, 8.0))
        last = evs[-1]
        kind = "city_hub" if last.kind.startswith("hub_") and last.stage == "city_hub" else last.kind
        exp, ok, _ = KIND_META[kind]
        if "安排派送" in last.text:  # "arrived, arranging delivery": out for delivery is a fair reading too
            ok = ok | {"out_for_delivery"}
        stage = last.stage if last.stage in ("transit", "city", "city_hub") and last.kind in _MOVING else ""
        self.add(family, trip, reply, shipped, flags, status or exp,
                 f"{note}; newest: {last.kind} {age:.0f} h ago", detailed, ok, stage)

    def trip(self, *, remote: str | None = None, exclude: Iterable[str] = (), dest: Place | None = None) -> Trip:
        d = dest or self.dest(remote)
        return Trip(self.origin_for(d), d, self.courier(exclude))


# --------------------------------------------------------------------------------------------
# Families


def _transit_prefix(g: _Gen, evs: list[Ev], *, allow_collected: bool = True, towards_buyer: float = 0.0) -> list[Ev]:
    """A prefix of ``evs`` ending at an event in transit (not in the buyer's city).

    ``towards_buyer``: chance to end at the departure whose text names the buyer's city as
    the next stop (快件离开【杭州中转部】已发往【北京中转部】 while the buyer is in 北京):
    the parcel is still outside the buyer's city.
    """
    idx = [i for i, e in enumerate(evs) if e.stage == "transit" and e.kind != "info"
           and (allow_collected or e.kind != "collected")]
    if g.rng.random() < towards_buyer:
        last_depart = [i for i in idx if evs[i].kind == "hub_depart"]
        if last_depart:
            return evs[: last_depart[-1] + 1]
    return evs[: g.rng.choice(idx) + 1]


def fam_fresh(g: _Gen, i: int) -> None:
    """Moving normally: the newest scan is recent, wherever it is."""
    trip = g.trip()
    evs = g.forward(trip)
    cut = g.rng.randrange(1 if evs[0].kind == "info" else 0, len(evs))
    evs = evs[: cut + 1]
    if evs[-1].hub and g.rng.random() < 0.2:  # a delay notice: news, not a problem
        evs.append(Ev("delay", None, hub=evs[-1].hub, stage=evs[-1].stage, gap=g.rng.uniform(0.5, 3)))
    stage = {"city": "city", "city_hub": "city_hub"}.get(evs[-1].stage, "transit")
    age = g.fit(g.rng.uniform(1, 14), "ok", stage, trip.dest.remote)
    g.trace_case("fresh", trip, evs, age, (), "moving normally", i % 2 == 0)


def fam_transit_stalled(g: _Gen, i: int) -> None:
    trip = g.trip(remote=g.rng.choice(("no", "no", "no", "maybe")))
    evs = _transit_prefix(g, g.forward(trip))
    age = g.fit(g.rng.uniform(58, 80), "stall", "transit", trip.dest.remote)
    detailed = i % 2 == 0
    state = "202" if detailed and g.rng.random() < 0.4 else None
    g.trace_case("transit_stalled", trip, evs, age, {"stalled"}, "in transit, no scan past the 48 h threshold",
                 detailed, state)


def fam_transit_ok(g: _Gen, i: int) -> None:
    trip = g.trip(remote=g.rng.choice(("no", "no", "maybe")))
    evs = _transit_prefix(g, g.forward(trip), towards_buyer=0.4)
    age = g.fit(g.rng.uniform(26, 38), "ok", "transit", trip.dest.remote)
    g.trace_case("transit_ok", trip, evs, age, (), "in transit, within the 48 h threshold", i % 2 == 0)


def fam_remote_ok(g: _Gen, i: int) -> None:
    """Long journey to Xinjiang/Tibet/Qinghai/甘孜/阿坝/阿拉善: 48 h + 24 h remote extra."""
    trip = g.trip(remote="yes")
    evs = _transit_prefix(g, g.forward(trip), allow_collected=False)
    age = g.fit(g.rng.uniform(54, 64), "ok", "transit", "yes")
    g.trace_case("remote_ok", trip, evs, age, (), "remote destination in transit, within 48+24 h", i % 2 == 0)


def fam_remote_stalled(g: _Gen, i: int) -> None:
    trip = g.trip(remote="yes")
    evs = _transit_prefix(g, g.forward(trip), allow_collected=False)
    age = g.fit(g.rng.uniform(84, 110), "stall", "transit", "yes")
    g.trace_case("remote_stalled", trip, evs, age, {"stalled"}, "remote destination, silent past 48+24 h",
                 i % 2 == 0)


def _city_hub(g: _Gen, i: int, stalled: bool) -> None:
    """The newest scan is at the sorting hub of the buyer's own city (北京 buyer, 北京中转部)."""
    dest = g.rng.choice([p for p in DESTINATIONS if HUBS[p.hub][2] == p.city and p.remote == "no"])
    trip = g.trip(dest=dest)
    evs = g.forward(trip)
    last = max(i for i, e in enumerate(evs) if e.stage == "city_hub")
    evs = evs[: last + 1 - g.rng.randint(0, 1)]
    if stalled:
        age = g.fit(g.rng.uniform(56, 70), "stall", "city_hub", dest.remote)
        g.trace_case("city_hub_stalled", trip, evs, age, {"stalled"},
                     "at the buyer's city hub, past both the 24 h and the 48 h threshold", i % 2 == 0)
    else:
        age = g.fit(g.rng.uniform(3, 16), "ok", "city_hub", dest.remote)
        g.trace_case("city_hub_ok", trip, evs, age, (), "at the buyer's city hub, within 24 h", i % 2 == 0)


def fam_city_hub_stalled(g: _Gen, i: int) -> None:
    _city_hub(g, i, stalled=True)


def fam_city_hub_ok(g: _Gen, i: int) -> None:
    _city_hub(g, i, stalled=False)


def _city_prefix(g: _Gen, trip: Trip) -> list[Ev]:
    evs = g.forward(trip)
    return evs if g.rng.random() < 0.6 else evs[:-1]  # out for delivery, or arrived at the outlet


def fam_city_stalled(g: _Gen, i: int) -> None:
    trip = g.trip(remote=g.rng.choice(("no", "no", "no", "no", "maybe", "yes")))
    evs = _city_prefix(g, trip)
    age = g.fit(g.rng.uniform(33, 46), "stall", "city", trip.dest.remote)
    detailed = i % 2 == 0
    state = "201" if detailed and evs[-1].kind == "ofd" and g.rng.random() < 0.4 else None
    g.trace_case("city_stalled", trip, evs, age, {"stalled"}, "in the buyer's district, past the 24 h threshold",
                 detailed, state)


def fam_city_ok(g: _Gen, i: int) -> None:
    trip = g.trip(remote=g.rng.choice(("no", "no", "no", "maybe", "yes")))
    evs = _city_prefix(g, trip)
    age = g.fit(g.rng.uniform(4, 16), "ok", "city", trip.dest.remote)
    g.trace_case("city_ok", trip, evs, age, (), "in the buyer's district, within 24 h", i % 2 == 0)


def fam_pickup(g: _Gen, i: int) -> None:
    """At a 驿站 / locker for days: waiting for the buyer, never stalled."""
    trip = g.trip()
    evs = g.forward(trip)
    if g.rng.random() < 0.25:
        evs += [Ev("failed", trip.dest, stage="city", gap=g.rng.uniform(2, 6))]
    elif g.rng.random() < 0.1:
        evs += [Ev("address", trip.dest, stage="city", gap=g.rng.uniform(2, 6)),
                Ev("address_fixed", trip.dest, stage="city", gap=g.rng.uniform(2, 10))]
    evs.append(Ev("pickup", trip.dest, stage="pickup", gap=g.rng.uniform(0.5, 4)))
    age = g.rng.uniform(100, 140)
    g.trace_case("pickup", trip, evs, age, (), "at a pickup point for ~5 days", i % 2 == 0)


def fam_pickup_expired(g: _Gen, i: int) -> None:
    """Never collected from the 驿站 / locker, now going back to the shop: returned to sender."""
    r = g.rng
    trip = g.trip()
    evs = g.forward(trip) + [Ev("pickup", trip.dest, stage="pickup", gap=r.uniform(0.5, 4)),
                             Ev("pickup_expired", trip.dest, stage="city", gap=r.uniform(72, 170))]
    if r.random() < 0.5:
        hub = trip.dest.hub
        evs.append(Ev("return_transit", None, hub=hub, next=_hub_name(trip.courier.style, trip.origin.hub),
                      gap=r.uniform(4, 12)))
    age = g.fit(r.uniform(2, 15), "ok", "city", trip.dest.remote)
    g.trace_case("pickup_expired_returning", trip, evs, age, {"exception"},
                 "not collected from the pickup point, returning to the sender", i % 2 == 0)


def fam_delivered(g: _Gen, i: int) -> None:
    trip = g.trip()
    evs = g.forward(trip)
    r = g.rng
    if r.random() < 0.3:
        evs.append(Ev("pickup", trip.dest, stage="pickup", gap=r.uniform(0.5, 3)))
    evs.append(Ev(r.choice(("delivered", "delivered", "delivered_proxy")), trip.dest, stage="done",
                  gap=r.uniform(0.3, 30 if evs[-1].kind == "pickup" else 5)))
    age = r.uniform(1, 120)
    g.trace_case("delivered", trip, evs, age, (), "delivered", i % 2 == 0)


def fam_delivered_after_problem(g: _Gen, i: int) -> None:
    """A failed attempt or an address query, then delivered: history, not a flag."""
    trip = g.trip()
    r = g.rng
    evs = g.forward(trip)
    if r.random() < 0.65:
        evs.append(Ev("failed", trip.dest, stage="city", gap=r.uniform(2, 8)))
    else:
        evs.append(Ev("address", trip.dest, stage="city", gap=r.uniform(2, 8)))
        evs.append(Ev("address_fixed", trip.dest, stage="city", gap=r.uniform(3, 20)))
    evs.append(Ev("ofd2", trip.dest, stage="city", gap=r.uniform(12, 24)))
    evs.append(Ev("delivered", trip.dest, stage="done", gap=r.uniform(0.5, 5)))
    detailed = i % 2 == 0
    g.trace_case("delivered_after_problem", trip, evs, r.uniform(2, 72), (), "problem then delivered: history",
                 detailed, "302" if detailed else "3")


def fam_redelivery_ok(g: _Gen, i: int) -> None:
    """Failed yesterday, out for delivery again now: no flag."""
    trip = g.trip()
    r = g.rng
    evs = g.forward(trip) + [Ev("failed", trip.dest, stage="city", gap=r.uniform(2, 8)),
                             Ev("ofd2", trip.dest, stage="city", gap=r.uniform(12, 22))]
    age = g.fit(r.uniform(1, 8), "ok", "city", trip.dest.remote)
    g.trace_case("redelivery_ok", trip, evs, age, (), "failed once, out for delivery again", i % 2 == 0)


def fam_unreachable(g: _Gen, i: int) -> None:
    r = g.rng
    trip = g.trip(remote=r.choice(("yes", "yes", "maybe", "no")), exclude=("ems", "youzhengguonei"))
    evs = g.forward(trip)
    evs = evs[:-1] if r.random() < 0.5 else evs  # refused at the outlet, or on the delivery run
    kind = r.choice(("unreachable", "unreachable", "transfer"))
    evs.append(Ev(kind, trip.dest, stage="city", gap=r.uniform(1, 10)))
    age = g.fit(r.uniform(2, 15), "ok", "city", trip.dest.remote)
    g.trace_case("unreachable", trip, evs, age, {"unreachable"}, "courier does not serve the address", i % 2 == 0)


def fam_refused(g: _Gen, i: int) -> None:
    """Refused; half of them already travelling back to the shop."""
    r = g.rng
    trip = g.trip()
    evs = g.forward(trip) + [Ev("refused", trip.dest, stage="city", gap=r.uniform(0.5, 6))]
    family = "refused"
    if i % 3 != 0:
        family = "refused_returning"
        back = list(reversed(g.hubs(trip.origin, trip.dest)))
        for j, hub in enumerate(back[: r.randint(1, len(back))]):
            nxt = _hub_name(trip.courier.style, back[j + 1]) if j + 1 < len(back) else _outlet(trip.courier.style,
                                                                                              trip.origin)
            evs.append(Ev("return_transit", None, hub=hub, next=nxt, gap=r.uniform(4, 20)))
    age = g.fit(r.uniform(2, 15), "ok", "city", trip.dest.remote)
    g.trace_case(family, trip, evs, age, {"exception"}, "refused by the buyer", i % 2 == 0)


def fam_returned(g: _Gen, i: int) -> None:
    """Refused or undeliverable, back at the shop and signed for by the sender."""
    r = g.rng
    trip = g.trip()
    cause = r.choice(("refused", "refused", "address"))
    evs = g.forward(trip) + [Ev(cause, trip.dest, stage="city", gap=r.uniform(0.5, 6))]
    back = list(reversed(g.hubs(trip.origin, trip.dest)))
    for j, hub in enumerate(back):
        nxt = _hub_name(trip.courier.style, back[j + 1]) if j + 1 < len(back) else _outlet(trip.courier.style,
                                                                                          trip.origin)
        evs.append(Ev("return_transit", None, hub=hub, next=nxt, gap=r.uniform(4, 20)))
    evs.append(Ev("returned", trip.origin, stage="done", gap=r.uniform(4, 14)))
    g.trace_case("returned", trip, evs, r.uniform(2, 60), {"exception"}, f"returned to the sender ({cause})",
                 i % 2 == 0)


def fam_damaged(g: _Gen, i: int) -> None:
    r = g.rng
    trip = g.trip()
    evs = g.forward(trip)
    if r.random() < 0.5:
        evs = [e for e in evs if e.kind != "ofd"]
        evs = _transit_prefix(g, evs, allow_collected=False)
        evs.append(Ev("damaged", None, hub=evs[-1].hub, gap=r.uniform(0.5, 4)))
    else:
        evs = evs[:-1]
        evs.append(Ev("damaged", trip.dest, stage="city", gap=r.uniform(0.5, 4)))
    age = g.fit(r.uniform(2, 15), "ok", "city", trip.dest.remote)
    g.trace_case("damaged", trip, evs, age, {"exception"}, "damaged", i % 2 == 0)


def fam_address(g: _Gen, i: int) -> None:
    r = g.rng
    trip = g.trip()
    evs = g.forward(trip)
    if r.random() < 0.4:
        evs = evs[:-1]
    evs.append(Ev("address", trip.dest, stage="city", gap=r.uniform(0.5, 6)))
    age = g.fit(r.uniform(2, 15), "ok", "city", trip.dest.remote)
    g.trace_case("address_problem", trip, evs, age, {"exception"}, "address or phone problem", i % 2 == 0)


def fam_lost(g: _Gen, i: int) -> None:
    """The carrier declares the parcel lost, often days after its last scan."""
    r = g.rng
    trip = g.trip()
    evs = [e for e in g.forward(trip) if e.kind != "ofd"]
    evs = _transit_prefix(g, evs, allow_collected=False)
    evs.append(Ev("lost", None, hub=evs[-1].hub, gap=r.uniform(30, 120)))
    age = g.fit(r.uniform(2, 15), "ok", "city", trip.dest.remote)
    g.trace_case("lost", trip, evs, age, {"exception"}, "declared lost by the carrier", i % 2 == 0)


def fam_silent_week(g: _Gen, i: int) -> None:
    """No scan for about a week in transit: probably lost, but still a stall."""
    trip = g.trip(remote="no")
    evs = _transit_prefix(g, g.forward(trip), allow_collected=False)
    age = g.fit(g.rng.uniform(160, 180), "stall", "transit", "no")
    detailed = i % 2 == 0
    g.trace_case("silent_week", trip, evs, age, {"stalled"}, "silent for ~7 days in transit", detailed,
                 "202" if detailed else None)


def _shipped_only(g: _Gen, family: str, i: int, want: float, target: str, info: bool) -> None:
    r = g.rng
    trip = g.trip(remote=r.choice(("no", "no", "no", "maybe")))
    age = g.fit(want, "stall" if target == "stall" else "ok", "not_collected", trip.dest.remote)
    shipped = g.now - timedelta(hours=age)
    shipped = shipped.replace(second=0, microsecond=0)  # the CSV keeps minutes
    flags = {"not_collected"} if target == "stall" else set()
    detailed = i % 2 == 0
    if not info:
        g.add(family, trip, dict(NOT_FOUND_REPLY), shipped, flags, "pending",
              f"no trace at all {age:.0f} h after shipping", detailed, {"unknown"}, "not_collected")
        return
    evs = [Ev("info", trip.origin)]
    if r.random() < 0.4:
        evs.append(Ev("info", trip.origin, gap=r.uniform(0.2, 2)))
    # the newest order event; render() spaces older ones back by their gaps (plus up to 15 min each)
    latest = shipped + timedelta(hours=sum(e.gap for e in evs), minutes=r.randint(35, 120))
    reply = g.render(trip, evs, latest, detailed)
    g.add(family, trip, reply, shipped, flags, "info_received",
          f"order data only (已下单/等待揽收) {age:.0f} h after shipping", detailed, {"pending"}, "not_collected")


def fam_no_trace_old(g: _Gen, i: int) -> None:
    _shipped_only(g, "no_trace_old", i, g.rng.uniform(33, 44), "stall", info=False)


def fam_no_trace_fresh(g: _Gen, i: int) -> None:
    _shipped_only(g, "no_trace_fresh", i, g.rng.uniform(3, 14), "ok", info=False)


def fam_info_old(g: _Gen, i: int) -> None:
    _shipped_only(g, "info_only_old", i, g.rng.uniform(38, 50), "stall", info=True)


def fam_info_fresh(g: _Gen, i: int) -> None:
    _shipped_only(g, "info_only_fresh", i, g.rng.uniform(3, 14), "ok", info=True)


INTL_ORIGINS = (
    ("JAPAN", "TOKYO", "OSAKA"), ("KOREA", "SEOUL", "INCHEON"), ("UNITED STATES", "LOS ANGELES", "NEW YORK"),
    ("GERMANY", "FRANKFURT", "LEIPZIG"), ("AUSTRALIA", "SYDNEY", "MELBOURNE"), ("HONG KONG", "HONG KONG", "KOWLOON"),
)
INTL_ENTRY = (("上海", "上海邮政国际邮件处理中心"), ("广州", "广州邮政国际邮件处理中心"), ("北京", "北京邮政国际邮件处理中心"),
              ("深圳", "深圳邮政国际邮件处理中心"))


def _intl(g: _Gen, i: int, stalled: bool) -> None:
    """Cross-border: an English international leg, customs, then the domestic network."""
    r = g.rng
    com = r.choice(("ems", "shunfeng"))
    dest = g.dest(remote="no")
    courier = COURIER_BY_COM[com]
    country, c1, c2 = r.choice(INTL_ORIGINS)
    entry_hub, office = r.choice(INTL_ENTRY)
    trip = Trip(g.origin_for(dest), dest, courier)
    legs = [
        Ev("intl", None, text=f"Posting/Collection, {c1}, {country}", gap=0),
        Ev("intl", None, text=f"Departed from the Office of Exchange, {c2}, {country}", gap=r.uniform(10, 30)),
        Ev("intl", None, text=f"Arrival at inward Office of Exchange, 【{office}】", gap=r.uniform(20, 48)),
        Ev("customs", None, text=f"【{office}】海关查验中", gap=r.uniform(2, 12)),
        Ev("customs", None, text=f"【{office}】海关已放行", gap=r.uniform(6, 30)),
        Ev("hub_depart", None, hub=entry_hub, next=_hub_name(courier.style, dest.hub), gap=r.uniform(2, 8),
           stage="city_hub" if HUBS[entry_hub][2] == dest.city else "transit"),
    ]
    if com == "shunfeng":
        legs[0].text = f"[{c1}] Shipment picked up"
        legs[1].text = f"[{c2}] Shipment departed from facility"
        legs[2].text = f"[{entry_hub}] Shipment arrived at facility, pending customs clearance"
        legs[3].text = f"[{entry_hub}] 清关中"
        legs[4].text = f"[{entry_hub}] 清关完成，快件已交国内段运输"
    for ev in legs:
        if ev.kind == "customs":
            ev.city = HUBS[entry_hub][2]
            ev.prov_s = HUBS[entry_hub][1]
    if stalled:
        evs = legs
        if dest.hub != entry_hub and r.random() < 0.5:
            evs = legs + [Ev("hub_arrive", None, hub=dest.hub, stage="city_hub" if HUBS[dest.hub][2] == dest.city
                             else "transit", gap=r.uniform(8, 24))]
        stage = "city_hub" if evs[-1].stage == "city_hub" else "transit"
        age = g.fit(r.uniform(80, 110), "stall", stage, "no")
        flags, note = {"stalled"}, "cross-border, silent in the domestic network"
    else:
        cut = r.randrange(1, len(legs))
        evs = legs[: cut + 1]
        age = g.fit(r.uniform(2, 12), "ok", "transit", "no")
        flags, note = set(), "cross-border, moving"
    latest = g.now - timedelta(hours=age)
    reply = g.render(trip, evs, latest, i % 2 == 0)
    first = evs[0].at
    assert first is not None
    kind = "city_hub" if evs[-1].stage == "city_hub" else evs[-1].kind
    exp, ok, _ = KIND_META[kind]
    g.add("intl_stalled" if stalled else "intl_fresh", trip, reply, first - timedelta(hours=r.uniform(2, 20)), flags,
          exp, f"{note}; newest {age:.0f} h ago", i % 2 == 0, ok, stage if stalled else "transit")


def fam_intl_fresh(g: _Gen, i: int) -> None:
    _intl(g, i, stalled=False)


def fam_intl_stalled(g: _Gen, i: int) -> None:
    _intl(g, i, stalled=True)


# Holiday / peak families: only when the caller picks a ``now`` near one.


def _holiday(g: _Gen, i: int, stage: str) -> bool:
    remote = "no"
    age = g.holiday_fit(stage, remote)
    if age is None:
        return False
    trip = g.trip(remote=remote)
    if stage == "transit":
        evs = _transit_prefix(g, g.forward(trip), allow_collected=False)
    elif stage == "city":
        evs = _city_prefix(g, trip)
    else:
        shipped = (g.now - timedelta(hours=age)).replace(second=0, microsecond=0)
        g.add("holiday_not_collected_ok", trip, dict(NOT_FOUND_REPLY), shipped, (), "pending",
              f"no trace {age:.0f} h after shipping, holiday/peak hours extend 24 h", i % 2 == 0, {"unknown"},
              "not_collected")
        return True
    ext = calendar_hours(g.now - timedelta(hours=age), g.now)
    g.trace_case(f"holiday_{stage}_ok", trip, evs, age, (),
                 f"would stall on a plain day; {ext:.0f} holiday/peak hours extend it", i % 2 == 0)
    return True


# --------------------------------------------------------------------------------------------
# The corpus

#: family -> (generator, count)
FAMILIES: dict[str, tuple[Callable[[_Gen, int], None], int]] = {
    "fresh": (fam_fresh, 50),
    "transit_ok": (fam_transit_ok, 24),
    "transit_stalled": (fam_transit_stalled, 30),
    "remote_ok": (fam_remote_ok, 20),
    "remote_stalled": (fam_remote_stalled, 10),
    "city_ok": (fam_city_ok, 22),
    "city_stalled": (fam_city_stalled, 24),
    "city_hub_ok": (fam_city_hub_ok, 8),
    "city_hub_stalled": (fam_city_hub_stalled, 8),
    "silent_week": (fam_silent_week, 10),
    "pickup": (fam_pickup, 20),
    "delivered": (fam_delivered, 28),
    "delivered_after_problem": (fam_delivered_after_problem, 12),
    "redelivery_ok": (fam_redelivery_ok, 6),
    "unreachable": (fam_unreachable, 26),
    "refused": (fam_refused, 18),
    "returned": (fam_returned, 10),
    "pickup_expired_returning": (fam_pickup_expired, 6),
    "damaged": (fam_damaged, 10),
    "address_problem": (fam_address, 12),
    "lost": (fam_lost, 10),
    "no_trace_old": (fam_no_trace_old, 14),
    "no_trace_fresh": (fam_no_trace_fresh, 10),
    "info_only_old": (fam_info_old, 12),
    "info_only_fresh": (fam_info_fresh, 6),
    "intl_fresh": (fam_intl_fresh, 8),
    "intl_stalled": (fam_intl_stalled, 4),
}
HOLIDAY_COUNTS = {"transit": 12, "city": 8, "not_collected": 6}


def build(now: datetime, seed: int = 0, *, holiday_cases: bool = False) -> list[Case]:
    """The labelled corpus for ``now`` (timezone-aware), deterministic for a given seed.

    ``holiday_cases``: add parcels that would stall on a plain day but are within a threshold
    extended by official holidays / peak days around ``now`` (none if ``now`` has no such
    days nearby).  The CLI test uses the real clock and leaves them out.
    """
    g = _Gen(now, seed)
    for name, (make, count) in FAMILIES.items():
        for i in range(count):
            make(g, i)
    if holiday_cases:
        for stage, count in HOLIDAY_COUNTS.items():
            for i in range(count):
                if not _holiday(g, i, stage):
                    break
    return g.cases


def summary(cases: Sequence[Case]) -> dict[str, Counter[str]]:
    """Counts by family, flag, courier and remoteness (for the README and sanity tests)."""
    return {
        "family": Counter(c.family for c in cases),
        "flag": Counter(f for c in cases for f in c.expected_flags),
        "courier": Counter(c.com for c in cases),
        "remote": Counter(c.remote for c in cases),
        "detailed": Counter("detailed" if c.detailed_codes else "coarse" for c in cases),
    }
