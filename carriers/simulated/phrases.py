"""Checkpoint texts of the simulated provider, as data.

Each courier writes its traces in its own house style (ZTO puts the city in
``【…】`` and names the outlet after it, SF speaks of 集散中心 and 安全呼叫, EMS of
揽投部 and 邮区中心局 …).  The six forward kinds have one table per style; the
rarer kinds (lockers, exceptions, returns) share one table.  Templates use
``str.format`` fields filled by :func:`render`:

``city`` (the scan's city), ``outlet`` (the courier's outlet in that city),
``hub``, ``next``, ``staff``, ``phone``, ``courier``, ``locker``, ``code``,
``post_no``, ``ocity`` (origin city), ``dest_city``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

__all__ = [
    "STYLE_OF_COURIER",
    "OUTLET_FORMAT",
    "HUB_FORMAT",
    "STYLE_TEMPLATES",
    "SHARED_TEMPLATES",
    "LOCKER_FORMATS",
    "ESTATES",
    "SURNAMES",
    "GIVEN_NAMES",
    "CAPITALS",
    "ORIGINS",
    "NATIONAL_HUBS",
    "REMOTE_VIA",
    "HUB_CITIES",
    "PHONE_PREFIXES",
    "style_for",
    "courier_name",
    "render",
]

#: canonical courier code -> house style; anything else writes in the "generic" style
STYLE_OF_COURIER: Mapping[str, str] = {
    "zhongtong": "zto",
    "yuantong": "yto",
    "shentong": "sto",
    "yunda": "yunda",
    "shunfeng": "sf",
    "fengwang": "sf",
    "jtexpress": "jt",
    "ems": "ems",
    "youzhengguonei": "ems",
    "youzhengbk": "ems",
}

#: fields: prov / prov_s, city / city_s, dist / dist_s (``_s``: short name, 杭州 for 杭州市)
OUTLET_FORMAT: Mapping[str, str] = {
    "zto": "{city_s}{dist_s}",
    "yto": "{prov}{city}{dist}公司",
    "sto": "{prov_s}{city_s}{dist_s}公司",
    "yunda": "{prov_s}{city_s}{dist}公司",
    "sf": "{city}{dist}营业点",
    "jt": "{city_s}{dist_s}网点",
    "ems": "{city}{dist}揽投部",
    "generic": "{city_s}{dist_s}营业部",
}

HUB_FORMAT: Mapping[str, str] = {
    "zto": "{city_s}中转部",
    "yto": "{city_s}转运中心",
    "sto": "{city_s}转运中心",
    "yunda": "{prov_s}{city_s}分拨中心",
    "sf": "{city_s}集散中心",
    "jt": "{city_s}转运中心",
    "ems": "{city_s}邮区中心局",
    "generic": "{city_s}分拨中心",
}

STYLE_TEMPLATES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "zto": {
        "collected": ("【{city}】{outlet} 的业务员【{staff}】已揽收", "【{city}】{outlet} 已揽收"),
        "hub_arrive": ("【{city}】快件已到达 {hub}",),
        "hub_depart": ("【{city}】快件离开 {hub} 已发往 {next}",),
        "city_arrive": ("【{city}】快件已到达 {outlet}",),
        "out_for_delivery": ("【{city}】{outlet} 派件员：{staff} 电话：{phone} 正在为您派件",),
        "delivered": (
            "【{city}】快件已在 {outlet} 签收，签收人：本人，如有疑问请电联：{staff}，电话：{phone}",
            "【{city}】您的快件已签收，签收人：本人",
        ),
    },
    "yto": {
        "collected": ("【{outlet}】 已收件 取件人: {staff} ({phone})",),
        "hub_arrive": ("【{hub}】 已收入",),
        "hub_depart": ("【{hub}】 已发出 下一站 【{next}】",),
        "city_arrive": ("【{outlet}】 已收入",),
        "out_for_delivery": ("【{outlet}】 派件中 派件人: {staff} 电话 {phone} 如有疑问，请联系：{phone}",),
        "delivered": ("客户 签收人: 本人 已签收 感谢使用圆通速递，期待再次为您服务",),
    },
    "sto": {
        "collected": ("【{outlet}】的收件员【{staff}】已收件",),
        "hub_arrive": ("快件已到达【{hub}】",),
        "hub_depart": ("快件由【{hub}】发往【{next}】",),
        "city_arrive": ("快件已到达【{outlet}】",),
        "out_for_delivery": ("【{outlet}】的派件员【{staff}】正在派件，电话：{phone}",),
        "delivered": ("已签收，签收人是【本人】，如有疑问请联系派件员【{staff}，{phone}】",),
    },
    "yunda": {
        "collected": ("【{city}】{outlet} 已揽收",),
        "hub_arrive": ("【{city}】已到达 {hub}",),
        "hub_depart": ("【{city}】{hub} 已发出，下一站 {next}",),
        "city_arrive": ("【{city}】已到达 {outlet}",),
        "out_for_delivery": ("【{city}】{outlet} 进行派件扫描；派送业务员：{staff}；联系电话：{phone}",),
        "delivered": ("【{city}】快件已被 本人 签收",),
    },
    "sf": {
        "collected": ("顺丰速运 已收取快件", "您的快件已由【{outlet}】收取"),
        "hub_arrive": ("快件到达【{hub}】",),
        "hub_depart": ("快件在【{hub}】完成分拣，准备发往【{next}】",),
        "city_arrive": ("快件到达【{outlet}】",),
        "out_for_delivery": (
            "快件交给{staff}，正在派送途中（联系电话：{phone}，顺丰已开启“安全呼叫”保护您的电话隐私，请放心接听！）",
        ),
        "delivered": ("快件已签收，签收人：本人，如有疑问请电联快递员：{staff}【{phone}】。感谢使用顺丰，期待再次为您服务。",),
    },
    "jt": {
        "collected": ("【{city}】【{outlet}】的{staff}已取件",),
        "hub_arrive": ("【{city}】快件已到达【{hub}】",),
        "hub_depart": ("【{city}】快件离开【{hub}】，发往【{next}】",),
        "city_arrive": ("【{city}】快件已到达【{outlet}】",),
        "out_for_delivery": ("【{city}】【{outlet}】的小哥{staff}（{phone}）正在派件",),
        "delivered": ("【{city}】快件已签收，签收人：本人，感谢使用极兔速递",),
    },
    "ems": {
        "collected": ("【{outlet}】已收寄，揽投员：{staff}，电话：{phone}",),
        "hub_arrive": ("到达【{hub}】处理中心",),
        "hub_depart": ("离开【{hub}】，下一站【{next}】",),
        "city_arrive": ("到达【{outlet}】",),
        "out_for_delivery": ("【{outlet}】安排投递，投递员：{staff}，电话：{phone}",),
        "delivered": ("已签收，本人收，投递员：{staff}，电话：{phone}",),
    },
    "generic": {
        "collected": ("【{city}】{outlet} 已揽收",),
        "hub_arrive": ("快件已到达【{hub}】",),
        "hub_depart": ("【{city}】快件离开【{hub}】已发往【{next}】",),
        "city_arrive": ("【{city}】快件已到达【{outlet}】",),
        "out_for_delivery": ("【{city}】{outlet} 派件员：{staff} 电话：{phone} 正在为您派件",),
        "delivered": ("您的快件已签收，签收人：本人",),
    },
}

SHARED_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "info": (
        "商家已通知{courier}揽收，等待快递员上门",
        "您的订单已打包完成，等待{courier}揽收",
        "【{city}】{courier}已下单，等待揽收",
    ),
    "remote_note": ("【{city}】快件已发往{dest_city}，偏远地区运输时效较长，请耐心等待",),
    "locker": (
        "【{city}】快件已送达【{locker}】，请凭取件码{code}取件。如有疑问请联系：{phone}",
        "【{city}】您的快件已暂存至【{locker}】，取件码{code}，请及时取件",
        "快件已投递至【{locker}】，请凭取件码{code}取件",
    ),
    "failed_attempt": (
        "【{city}】{outlet} 派件员：{staff} 电话：{phone} 派件未成功：电话无人接听，将于次日再次派送",
        "【{city}】收件人电话无人接听，快件已滞留【{outlet}】，改日派送",
    ),
    "unreachable": (
        "【{city}】该地址超出派送范围，转邮政派送",
        "【{city}】{outlet}：收件地址不在派送范围内（超区），快件已转中国邮政派送，邮政单号：{post_no}",
        "【{city}】快件因超区无法派送，请联系发件人协商处理",
    ),
    "refused": (
        "【{city}】收件人拒收，原因：不想要了，快件将退回寄件人",
        "【{city}】{outlet}：客户拒收，已联系寄件方处理",
    ),
    "address_problem": (
        "【{city}】收件地址不详且电话联系不上收件人，快件将退回寄件人",
        "【{city}】收件人电话空号，地址信息有误，无法派送，快件将退回",
    ),
    "returning": (
        "【{city}】快件已退回，正在发往寄件地【{ocity}】",
        "【{city}】退件已从【{outlet}】发出，退回寄件人",
    ),
    "return_transit": ("【{city}】退回件经【{hub}】发往【{next}】",),
    "returned": (
        "【{city}】退回件已签收，签收人：寄件人",
        "【{city}】您的快件已退回寄件人，寄件人已签收",
    ),
    "damaged": (
        "【{city}】快件在【{hub}】发现外包装破损，已联系寄件方核实处理",
        "【{city}】快件在【{hub}】操作时破损，暂停发出，等待处理",
    ),
    "lost": (
        "【{city}】很抱歉，您的快件在【{hub}】遗失，已登记理赔，请联系寄件方",
        "【{city}】快件在运输途中丢失，{courier}已启动赔付流程",
    ),
}

LOCKER_FORMATS: tuple[str, ...] = (
    "菜鸟驿站",
    "{dist_s}{estate}菜鸟驿站",
    "丰巢智能快递柜",
    "{estate}丰巢快递柜",
    "兔喜生活{estate}店",
    "妈妈驿站",
    "{estate}快递代收点",
)

ESTATES: tuple[str, ...] = ("阳光花园", "锦绣家园", "翠苑三区", "幸福里", "金色港湾", "万科城", "碧桂园", "滨江花园")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES: tuple[str, ...] = ("建国", "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "海波")


# --- place names ----------------------------------------------------------------------

#: province short name -> capital (the provincial sorting hub)
CAPITALS: Mapping[str, str] = dict(
    pair.split(":")
    for pair in (
        "北京:北京市 天津:天津市 河北:石家庄市 山西:太原市 内蒙古:呼和浩特市 辽宁:沈阳市 吉林:长春市 "
        "黑龙江:哈尔滨市 上海:上海市 江苏:南京市 浙江:杭州市 安徽:合肥市 福建:福州市 江西:南昌市 "
        "山东:济南市 河南:郑州市 湖北:武汉市 湖南:长沙市 广东:广州市 广西:南宁市 海南:海口市 "
        "重庆:重庆市 四川:成都市 贵州:贵阳市 云南:昆明市 西藏:拉萨市 陕西:西安市 甘肃:兰州市 "
        "青海:西宁市 宁夏:银川市 新疆:乌鲁木齐市"
    ).split()
)
#: where e-commerce parcels are shipped from: (province, city, districts)
ORIGINS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("浙江省", "杭州市", ("萧山区", "余杭区", "滨江区")),
    ("广东省", "广州市", ("白云区", "番禺区")),
    ("广东省", "深圳市", ("宝安区", "龙岗区")),
    ("江苏省", "苏州市", ("吴中区", "昆山市")),
    ("上海市", "上海市", ("青浦区", "松江区")),
    ("福建省", "泉州市", ("晋江市", "石狮市")),
    ("山东省", "临沂市", ("兰山区",)),
    ("湖北省", "武汉市", ("东西湖区",)),
)
#: national transfer hubs a cross-province parcel may pass: (province, city)
NATIONAL_HUBS: tuple[tuple[str, str], ...] = (
    ("湖北省", "武汉市"), ("河南省", "郑州市"), ("湖南省", "长沙市"), ("江苏省", "南京市"),
    ("山东省", "济南市"), ("安徽省", "合肥市"), ("江西省", "南昌市"),
)
#: cities with their own sorting hub: parcels to them skip the provincial capital
HUB_CITIES = frozenset({*CAPITALS.values(), *(city for _, city, _ in ORIGINS), "苏州市", "东莞市", "宁波市", "厦门市"})
#: mobile prefixes couriers' staff phones start with (fictional numbers follow)
PHONE_PREFIXES = tuple("133 135 136 137 138 139 150 151 152 155 158 159 176 177 180 181 185 186 187 188 189 199".split())
#: remote provinces (short name) -> the hubs every parcel to them passes
REMOTE_VIA: Mapping[str, tuple[tuple[str, str], ...]] = {
    "新疆": (("陕西省", "西安市"), ("甘肃省", "兰州市")),
    "西藏": (("四川省", "成都市"),),
}


def _canonical(courier: str) -> str | None:
    from carriers.couriers import UnknownCourier, resolve_courier

    try:
        return resolve_courier(courier)
    except UnknownCourier:
        return None


def style_for(courier: str) -> str:
    """House style of a courier code (aliases such as 中通 resolve too)."""
    return STYLE_OF_COURIER.get(courier) or STYLE_OF_COURIER.get(_canonical(courier) or "", "generic")


def courier_name(courier: str) -> str:
    """The courier's Chinese name for texts such as 等待中通快递揽收."""
    from carriers.couriers import couriers

    code = _canonical(courier)
    return couriers()[code].zh if code else "快递公司"


def render(style: str, kind: str, rng: random.Random, fields: Mapping[str, str]) -> str:
    """One checkpoint text of ``kind`` in ``style``, picking a variant with ``rng``."""
    variants = STYLE_TEMPLATES.get(style, STYLE_TEMPLATES["generic"]).get(kind) or SHARED_TEMPLATES[kind]
    return rng.choice(variants).format_map(fields)
