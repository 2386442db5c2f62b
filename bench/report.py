"""Benchmark: wall time and peak memory of the nightly stall report (``parcelwatch report``).

Issue 6 asks for "100,000 open parcels of which 5,000 are flagged", under 10 s and
300 MB on this machine.  Read here as: a store of ``--parcels`` (100,000) parcels
shipped over the last 40 days — every one of them in the table the report scans
for flags, and a month of them in its courier scorecard — 60 % delivered, the
rest open, ``--flagged`` (5,000) of the open ones flagged.  One report entry is
one (parcel, flag) pair; the rules give these parcels one flag each.

The store is a fresh SQLite file, written in bulk through SQLAlchemy core
(``conn.execute(insert(table), rows)``, values already in their stored form).  Its
rows are what the poller would have written:

* parcels over ten couriers and 31 provinces, Chinese buyer names, +86 phones,
  full addresses; tracking traces from the simulated provider's trace builder
  (``carriers.simulated.scenarios.build_trace``: each courier's house style, staff
  mobiles in the texts), outlet landlines on arrival scans.  Flagged parcels get
  traces of their own plus the order-info and loading scans (about 8–12
  checkpoints, more for returns); unflagged parcels share traces per courier,
  district and scenario, moved by whole days, with fewer hub scans (2–8, mostly
  6): about 510,000 checkpoints in all;
* ``status``, ``flags`` (``flags_value``), ``verdict`` (``Verdict.as_dict``) and the
  milestone columns (when the schema has them) from the real
  ``watcher.rules.evaluate`` at the parcel's last poll (a delivered shared trace is
  judged once and its times moved: its verdict has no flags and no thresholds);
* open ``flag_event`` rows for every flag, closed ones for stalls that cleared
  (some today); buyer notices with the planner's idempotency keys (sent, delivered,
  failed, suppressed, deferred; daily follow-ups); acknowledgements for
  ``--acks`` flagged parcels (most current, some a level behind the flag); nightly
  ``report_run`` rows; 30 days of ``poll_log`` (two providers, one row a minute
  each, as with ``tracking.cycle_seconds = 60``, with outages).

Then, each in its own process, alternating, ``--rounds`` times (medians):

* reference — ``python -c``: import sqlite3 and read what the report reads with
  plain SQL: the flagged parcels with their checkpoint texts, open flag episodes,
  notices and acknowledgements; episodes resolved today; failed notices; and for
  the courier scorecard a month of parcels, their flags and the poll log.
  Nothing else (no objects, no dates parsed): the I/O floor.
* report F  — ``parcelwatch --config C report --format F --output OUT`` for F in
  text, csv, json, html (interpreter start-up and imports included).

Time is wall time around the process.  Peak memory is the process's own high-water
RSS (``VmHWM``, written at exit by a ``sitecustomize`` hook this benchmark puts on
``PYTHONPATH``; MB = MiB): the ``ru_maxrss`` of a child on Linux includes the
forking parent's peak.  Each report records a ``report_run`` row; the benchmark
deletes it again so every round does the same work.  The JSON output is checked:
exactly the generated (parcel, flag) pairs, the acknowledged ones in "in hand" and
nowhere else.  Prints pass/fail against the targets and exits 0 either way.
``--profile`` then runs the slowest format once under cProfile and prints the top
functions by cumulative time.  ``--rounds 0`` only builds the store (with
``--keep DIR``, to look at it).
Usage: .venv/bin/python bench/report.py [--parcels 100000] [--flagged 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import column, inspect, insert, table  # noqa: E402

from carriers.base import Checkpoint as TrackedCheckpoint  # noqa: E402
from carriers.base import Status, Tracking  # noqa: E402
from carriers.simulated import phrases, scenarios  # noqa: E402
from carriers.simulated.scenarios import Place, build_trace  # noqa: E402
from watcher.planner import quiet_until  # noqa: E402
from watcher.rules import geo  # noqa: E402
from watcher.rules import ParcelFacts, Verdict, evaluate  # noqa: E402
from watcher.rules.evaluate import Milestones  # noqa: E402
from watcher.rules.calendar import HolidayCalendar, PeakPeriod  # noqa: E402
from watcher.settings import load_settings  # noqa: E402
from watcher.store.db import open_database  # noqa: E402
from watcher.store.models import (  # noqa: E402
    Acknowledgement, Checkpoint, FlagEvent, Notice, Parcel, PollLog, ReportRun,
)
from watcher.store.polling import checkpoint_hash, flags_value  # noqa: E402
from watcher.store.types import UTCDateTime  # noqa: E402

FORMATS = ("text", "csv", "json", "html")
TARGET_SECONDS, TARGET_MB = 10.0, 300.0
SHOP = "小鲸鱼旗舰店"
SEED = 6
POLL = timedelta(minutes=120)  # tracking.poll_minutes default

# Data generation only, in this process only: two pure helpers memoized (the trace
# builder's short place names; "is this scan in the buyer's city", asked again for
# every scan of every parcel).  Guarded: the first one is private.
if hasattr(scenarios, "_short"):
    scenarios._short = functools.lru_cache(maxsize=None)(scenarios._short)
geo.in_city = functools.lru_cache(maxsize=200_000)(geo.in_city)

#: courier code → (weight, tracking-number prefix, random digits before the running number)
COURIERS = {
    "zhongtong": (22, "75", 6), "yuantong": (15, "YT", 7), "yunda": (14, "43", 5), "shentong": (10, "77", 7),
    "jtexpress": (12, "JT", 7), "shunfeng": (10, "SF", 7), "youzhengguonei": (6, "98", 5), "ems": (4, "11", 5),
    "jd": (5, "JDVB", 5), "debangwuliu": (2, "DPK", 6),
}
COURIER_ZH = {"zhongtong": "中通快递", "yuantong": "圆通速递", "yunda": "韵达快递", "shentong": "申通快递",
              "jtexpress": "极兔速递", "shunfeng": "顺丰速运", "youzhengguonei": "邮政快递包裹", "ems": "EMS",
              "jd": "京东物流", "debangwuliu": "德邦快递"}
#: who we ask, per courier (the rest: kuaidi100)
PROVIDER_OF = {"shunfeng": "17track", "jd": "17track"}

#: (province, city, district, area code, weight): 31 provinces, big e-commerce cities weighted up
PLACES = [
    ("北京市", "北京市", "朝阳区", "010", 4), ("北京市", "北京市", "海淀区", "010", 3),
    ("天津市", "天津市", "南开区", "022", 2),
    ("河北省", "石家庄市", "长安区", "0311", 2), ("河北省", "保定市", "竞秀区", "0312", 1),
    ("河北省", "唐山市", "路北区", "0315", 1),
    ("山西省", "太原市", "小店区", "0351", 2), ("山西省", "大同市", "平城区", "0352", 1),
    ("内蒙古自治区", "呼和浩特市", "赛罕区", "0471", 1), ("内蒙古自治区", "包头市", "昆都仑区", "0472", 1),
    ("辽宁省", "沈阳市", "和平区", "024", 2), ("辽宁省", "大连市", "中山区", "0411", 2),
    ("吉林省", "长春市", "朝阳区", "0431", 2), ("吉林省", "吉林市", "船营区", "0432", 1),
    ("黑龙江省", "哈尔滨市", "南岗区", "0451", 2), ("黑龙江省", "大庆市", "萨尔图区", "0459", 1),
    ("上海市", "上海市", "浦东新区", "021", 5), ("上海市", "上海市", "闵行区", "021", 3),
    ("江苏省", "南京市", "鼓楼区", "025", 3), ("江苏省", "苏州市", "姑苏区", "0512", 3),
    ("江苏省", "无锡市", "梁溪区", "0510", 2),
    ("浙江省", "杭州市", "西湖区", "0571", 4), ("浙江省", "宁波市", "鄞州区", "0574", 2),
    ("浙江省", "温州市", "鹿城区", "0577", 2),
    ("安徽省", "合肥市", "蜀山区", "0551", 2), ("安徽省", "芜湖市", "镜湖区", "0553", 1),
    ("福建省", "福州市", "鼓楼区", "0591", 2), ("福建省", "厦门市", "思明区", "0592", 2),
    ("江西省", "南昌市", "东湖区", "0791", 2), ("江西省", "赣州市", "章贡区", "0797", 1),
    ("山东省", "济南市", "历下区", "0531", 2), ("山东省", "青岛市", "市南区", "0532", 2),
    ("山东省", "烟台市", "芝罘区", "0535", 1),
    ("河南省", "郑州市", "金水区", "0371", 3), ("河南省", "洛阳市", "西工区", "0379", 1),
    ("湖北省", "武汉市", "洪山区", "027", 3), ("湖北省", "宜昌市", "西陵区", "0717", 1),
    ("湖南省", "长沙市", "岳麓区", "0731", 3), ("湖南省", "株洲市", "天元区", "0731", 1),
    ("广东省", "广州市", "天河区", "020", 5), ("广东省", "深圳市", "南山区", "0755", 5),
    ("广东省", "佛山市", "禅城区", "0757", 2),
    ("广西壮族自治区", "南宁市", "青秀区", "0771", 2), ("广西壮族自治区", "桂林市", "七星区", "0773", 1),
    ("海南省", "海口市", "龙华区", "0898", 1), ("海南省", "三亚市", "吉阳区", "0898", 1),
    ("重庆市", "重庆市", "渝北区", "023", 3),
    ("四川省", "成都市", "武侯区", "028", 4), ("四川省", "绵阳市", "涪城区", "0816", 1),
    ("贵州省", "贵阳市", "云岩区", "0851", 2), ("贵州省", "遵义市", "汇川区", "0851", 1),
    ("云南省", "昆明市", "五华区", "0871", 2), ("云南省", "大理白族自治州", "大理市", "0872", 1),
    ("西藏自治区", "拉萨市", "城关区", "0891", 1),
    ("陕西省", "西安市", "雁塔区", "029", 3), ("陕西省", "宝鸡市", "渭滨区", "0917", 1),
    ("甘肃省", "兰州市", "城关区", "0931", 1),
    ("青海省", "西宁市", "城西区", "0971", 1),
    ("宁夏回族自治区", "银川市", "兴庆区", "0951", 1),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "0991", 1), ("新疆维吾尔自治区", "喀什地区", "喀什市", "0998", 1),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "晓东", "子涵", "雨轩", "欣怡", "浩然", "梓萱", "思远", "佳怡", "建华", "海燕")
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "长江路", "文化路", "学府路", "青年路", "迎宾大道")
ESTATES = phrases.ESTATES + ("紫金苑", "绿城桂花园", "保利香槟国际", "龙湖春江郦城", "华润二十四城", "融创玖玺台")
MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 166 170 176 "
                   "177 180 181 182 183 185 186 187 188 189 191 198 199").split()

#: scenario mixes per class: (scenario, weight, shipped how many days ago (lo, hi))
FLAGGED_MIX = [
    ("stall_transit", 30, (4, 20)), ("stall_city", 24, (4, 20)), ("unreachable", 14, (3, 15)),
    ("exception_refused", 7, (3, 12)), ("exception_damaged", 5, (3, 15)), ("returned", 4, (8, 20)),
    ("lost", 3, (6, 20)), ("never_collected", 9, (1.5, 8)), ("info_only", 4, (1.5, 8)),
]
OPEN_MIX = [("normal", 70, (0.1, 3)), ("failed_attempt_then_delivered", 6, (1.5, 4)), ("locker", 16, (2, 6)),
            ("never_collected", 8, (0.05, 0.8))]
DELIVERED_MIX = [("normal", 90, (4, 40)), ("failed_attempt_then_delivered", 10, (4, 40))]

#: classes of parcels (one byte each in CLASSES)
FLAGGED, FLAGGED_ACK, FLAGGED_UNREACHED, DELIVERED, DELIVERED_STALL_TODAY, DELIVERED_STALL_PAST, OPEN = range(7)

#: Kuaidi100's parcel states, for provider_state and raw codes
K100 = {Status.IN_TRANSIT: "0", Status.ARRIVED_DESTINATION_CITY: "0", Status.COLLECTED: "1",
        Status.EXCEPTION: "2", Status.FAILED_ATTEMPT: "2", Status.DELIVERED: "3", Status.RETURNED: "4",
        Status.OUT_FOR_DELIVERY: "5", Status.RETURNING: "6", Status.AVAILABLE_FOR_PICKUP: "501",
        Status.INFO_RECEIVED: "1"}

NOTE_TEXTS = (
    "已联系网点，派件员说明天上午派送", "已打网点电话{landline}，说今天加急派", "已申请理赔，等待快递公司回复",
    "买家同意改发顺丰，已补寄", "已联系买家核实地址，改派中", "快递说在中转站压件，已催", "超区，已改邮政发出",
    "已发起拦截退回，重新发货", "派件员电话{mobile}，约好下午送",
)
NOTE_BY = ("客服-小王", "客服-李娜", "售后-阿杰", "运营-周周", "")
FAIL_ERRORS = (
    "no channel reached the buyer (sms: 30003 unreachable destination handset): call the buyer",
    "no channel reached the buyer (sms: 21211 invalid 'To' phone number): call the buyer",
    "no channel reached the buyer (chat: buyer offline; sms: 21610 recipient unsubscribed): call the buyer",
)

TABLES = {"parcel": Parcel, "checkpoint": Checkpoint, "flag_event": FlagEvent, "notice": Notice,
          "acknowledgement": Acknowledgement}

# Set in main() before the worker pool forks.
CLASSES = b""
CONTEXT: dict = {}


def weighted(rng: random.Random, items, weights):  # type: ignore[no-untyped-def]
    return rng.choices(items, weights)[0]


def mobile(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area: str) -> str:
    return f"{area}-{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"


@functools.lru_cache(maxsize=None)
def outlet_phone(courier: str, city: str, area: str) -> str:
    """An outlet's landline: the same on every parcel it handles."""
    return landline(random.Random(f"{courier}|{city}"), area)


# --- one parcel ------------------------------------------------------------------------


def _events(courier: str, number: str, start: datetime, place: Place, scenario: str) -> list[list]:
    """The simulated provider's whole trace, oldest first, as mutable [time, kind, status, city, text]."""
    return [[e.time, e.kind, e.status, e.city, e.text]
            for e in build_trace(SEED, courier, number, start, place, scenario).events]


def _augment(ev: list[list], rng: random.Random, courier: str, city: str, area: str, start: datetime,
             flagged: bool) -> None:
    """Outlet landlines on arrival scans; for flagged parcels also the order-info and
    loading scans Kuaidi100 shows and the simulated traces leave out."""
    for e in ev:
        if e[1] == "city_arrive" and rng.random() < (0.6 if flagged else 0.3):
            tail = rng.choice(("，如有疑问请联系：{n}", "，网点电话：{n}", "，如有疑问请联系：{n}，投诉请拨打95311"))
            e[4] = e[4] + tail.format(n=outlet_phone(courier, city, area))
    if not flagged or not ev:
        return
    extra = []
    for a, b in zip(ev, ev[1:]):
        if a[1] == "hub_arrive" and b[1] == "hub_depart" and rng.random() < 0.7:
            extra.append([a[0] + (b[0] - a[0]) / 2, "hub_load", Status.IN_TRANSIT, a[3],
                          f"【{a[3]}】快件已装车，准备发往下一站"])
    first = ev[0][0]
    gap = max((first - start).total_seconds(), 600.0)
    infos = phrases.SHARED_TEMPLATES["info"]
    for k in range(rng.choice((1, 2, 2))):
        when = start + timedelta(seconds=gap * (0.2 + 0.3 * k))
        text = infos[(k + len(courier)) % len(infos)].format(courier=COURIER_ZH[courier], city=city)
        extra.append([when, "info", Status.INFO_RECEIVED, city, text])
    ev.extend(extra)
    ev.sort(key=lambda e: e[0])


#: traces of unflagged parcels per (courier, place, scenario, variant): a courier's outlet and
#: its delivery staff serve many buyers in one district, so their texts repeat across parcels
VARIANTS = 4
_TEMPLATES: dict[tuple, tuple[datetime, list[list]]] = {}


def _from_template(ctx: dict, rng: random.Random, courier: str, pi: int, scenario: str,
                   target: datetime) -> tuple[list[list], datetime, tuple]:
    """A copy of a shared trace moved by whole days (couriers' working hours stay) to start near ``target``."""
    variant = rng.randrange(VARIANTS)
    key = (courier, pi, scenario, variant)
    if key not in _TEMPLATES:
        province, city, district, area, _ = PLACES[pi]
        base = ctx["epoch"] + timedelta(minutes=97 * variant)
        ev = _trim(_events(courier, f"T{variant:02d}{pi:03d}", base, Place(province, city, district), scenario))
        _augment(ev, random.Random(repr(key)), courier, city, area, base, False)
        _TEMPLATES[key] = (base, ev)
    base, ev = _TEMPLATES[key]
    delta = timedelta(days=round((target - base).total_seconds() / 86400))
    return [[e[0] + delta, *e[1:]] for e in ev], base + delta, key


_VERDICTS: dict[tuple, tuple[str | None, Verdict] | None] = {}


def _delivered_verdict(ctx: dict, key: tuple, ev: list[list], facts: ParcelFacts,
                       polled: datetime) -> tuple[str | None, Verdict]:
    """A delivered trace's verdict does not depend on when it is read (no flags, no
    thresholds): judge each shared trace once and move its times by whole days."""
    base, template = _TEMPLATES[key]
    if key not in _VERDICTS:
        raw, v = _judge(ctx, facts, template, template[-1][0] + timedelta(hours=1))
        _VERDICTS[key] = (raw, v) if v.status is Status.DELIVERED and not v.flags else None
    cached = _VERDICTS[key]
    if cached is None or len(ev) != len(template):
        return _judge(ctx, facts, ev, polled)
    raw, v = cached
    delta = ev[0][0] - template[0][0]
    ms = v.milestones
    moved = Milestones(**{n: (t + delta if (t := getattr(ms, n)) else None) for n in Milestones.__slots__})
    last = v.last_checkpoint
    return raw, dataclasses.replace(v, milestones=moved,
                                    last_checkpoint=dataclasses.replace(last, time=last.time + delta) if last else None)


def _trim(ev: list[list]) -> list[list]:
    """Unflagged parcels keep fewer hub scans (mostly 6 checkpoints a delivered parcel): the
    first and last hub arrival, no departures."""
    arrivals = [k for k, e in enumerate(ev) if e[1] == "hub_arrive"]
    drop = set(arrivals[1:-1]) | {k for k, e in enumerate(ev) if e[1] == "hub_depart"}
    return [e for k, e in enumerate(ev) if k not in drop]


def _shift(ev: list[list], delta: timedelta) -> None:
    for e in ev:
        e[0] = e[0] + delta


def _after(t: datetime, rng: random.Random, limit: datetime) -> datetime:
    """The first poll after ``t``, at most ``limit``."""
    return min(t + rng.uniform(0.02, 1.0) * POLL, limit)


def _judge(ctx: dict, facts: ParcelFacts, ev: list[list], at: datetime) -> tuple[str | None, Verdict]:
    """The poller's verdict on what the provider showed at ``at``, and the provider's parcel state
    (``None``: nothing found yet)."""
    shown = [e for e in ev if e[0] <= at]
    if not shown:
        return None, evaluate(facts, None, at, ctx["calendar"], ctx["detection"])
    cps = tuple(TrackedCheckpoint(time=e[0], text=e[4], location=e[3], raw_code=K100.get(e[2], "0"), status=e[2])
                for e in reversed(shown))
    tracking = Tracking(status=cps[0].status or Status.UNKNOWN, checkpoints=cps, provider="kuaidi100",
                        raw_status=K100.get(cps[0].status, "0"))
    return tracking.raw_status, evaluate(facts, tracking, at, ctx["calendar"], ctx["detection"])


def make_parcel(i: int, cls: int, rng: random.Random, ctx: dict, out: dict) -> None:
    now: datetime = ctx["now"]
    pid = i + 1
    courier = weighted(rng, ctx["courier_codes"], ctx["courier_weights"])
    _, prefix, head = COURIERS[courier]
    number = f"{prefix}{rng.randrange(10**(head - 1), 10**head)}{i:07d}"
    pi = weighted(rng, ctx["place_index"], ctx["place_weights"])
    province, city, district, area, _ = PLACES[pi]
    place = Place(province, city, district)
    remote = scenarios.is_remote(place)
    flagged = cls in (FLAGGED, FLAGGED_ACK, FLAGGED_UNREACHED)
    delivered = cls in (DELIVERED, DELIVERED_STALL_TODAY, DELIVERED_STALL_PAST)
    mix = FLAGGED_MIX if flagged else DELIVERED_MIX if delivered else OPEN_MIX
    scenario, _, (lo, hi) = weighted(rng, mix, [m[1] for m in mix])
    if remote and scenario == "normal":
        scenario = "remote_slow"
    age = timedelta(days=rng.uniform(lo, hi))
    if flagged:  # more recent stalls than old ones
        age = timedelta(days=lo + (hi - lo) * rng.random() ** 2)
    facts_kw = dict(courier=courier, tracking_number=number, province=province, city=city, district=district)
    closed = None  # a stall episode that cleared: (flag, raised_at, cleared_at)
    for _attempt in range(4):
        if flagged:
            shipped = now - age
            ev = _events(courier, number, shipped, place, scenario)
            _augment(ev, rng, courier, city, area, shipped, True)
        else:
            ev, shipped, tkey = _from_template(ctx, rng, courier, pi, scenario, now - age)
        if delivered and ev:
            if cls in (DELIVERED_STALL_TODAY, DELIVERED_STALL_PAST):
                j = next((k for k, e in enumerate(ev) if e[1] == "out_for_delivery"), None)
                if j:
                    _shift(ev[j:], timedelta(days=rng.choice((2, 2, 3))))
            if cls == DELIVERED_STALL_TODAY:  # whole days keep the couriers' working hours
                local_now = now.astimezone(ctx["tz"])
                days = (local_now.date() - ev[-1][0].astimezone(ctx["tz"]).date()).days
                _shift(ev, timedelta(days=days))
                shipped += timedelta(days=days)
            if ev[-1][0] > now - timedelta(minutes=30):
                days = math.ceil((ev[-1][0] - now).total_seconds() / 86400 + 0.05)
                _shift(ev, timedelta(days=-days))
                shipped -= timedelta(days=days)
        created = shipped - timedelta(minutes=rng.uniform(5, 240))
        facts = ParcelFacts(shipped_at=shipped, created_at=created, **facts_kw)
        if delivered and ev:
            polled = _after(ev[-1][0], rng, now)
        else:
            polled = now - rng.uniform(0.0, 1.0) * POLL
        if cls == DELIVERED and ev:
            raw_state, verdict = _delivered_verdict(ctx, tkey, ev, facts, polled)
        else:
            raw_state, verdict = _judge(ctx, facts, ev, polled)
        done = verdict.status is Status.DELIVERED
        if flagged and not verdict.flags:
            age += timedelta(days=3)
        elif cls == OPEN and (verdict.flags or done or verdict.terminal):
            age = age / 2
        else:
            break
    if cls in (DELIVERED_STALL_TODAY, DELIVERED_STALL_PAST) and verdict.status is Status.DELIVERED:
        j = next((k for k, e in enumerate(ev) if e[1] == "out_for_delivery"), None)
        if j:
            t = ev[j - 1][0] + timedelta(hours=24) + rng.uniform(0.02, 1.0) * POLL
            while t < ev[j][0]:
                _, v = _judge(ctx, facts, ev[:j], t)
                if v.flags:
                    closed = (v.flags[0], t, _after(ev[j][0], rng, polled))
                    break
                t += timedelta(hours=2)

    shown = [e for e in ev if e[0] <= polled]
    last = shown[-1] if shown else None
    buyer = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = "+86" + mobile(rng)
    chat = f"tb_{rng.randrange(16**10):010x}" if rng.random() < 0.35 else None
    flags = {f.name: f for f in verdict.flags}
    verdict_json = json.dumps(verdict.as_dict(polled), ensure_ascii=False)
    status_changed = _after(last[0], rng, polled) if last else None
    row = {
        "id": pid, "courier": courier, "tracking_number": number,
        "order_id": f"{rng.randrange(10**18, 10**19)}", "buyer_name": buyer, "buyer_phone": phone,
        "buyer_chat_id": chat, "province": province, "city": city, "district": district,
        "address": f"{province}{city}{district}{rng.choice(STREETS)}{rng.randrange(1, 999)}号{rng.choice(ESTATES)}"
                   f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(1, 33)}0{rng.randrange(1, 6)}室",
        "language": "zh-CN" if rng.random() < 0.9 else None,
        "shipped_at": shipped, "created_at": created, "updated_at": polled,
        "status": verdict.status.value, "status_changed_at": status_changed,
        "flags": flags_value(flags), "verdict": verdict_json, "provider": PROVIDER_OF.get(courier, "kuaidi100"),
        "provider_state": raw_state,
        "problem": None if raw_state else "not_found: 查无结果，请检查单号和快递公司是否正确",
        "last_checkpoint_at": last[0] if last else None, "last_checkpoint_text": last[4] if last else None,
        "last_checkpoint_location": last[3] if last else None,
        "last_queried_at": polled, "last_polled_at": polled, "last_poll_error": None, "poll_failures": 0,
        "next_poll_at": None if verdict.terminal else polled + POLL, "lease_owner": None, "lease_until": None,
    }
    if ctx["milestone_columns"]:
        row["collected_at"] = verdict.milestones.collected_at
        row["delivered_at"] = verdict.milestones.delivered_at
    out["parcel"].append(row)
    for e in shown:
        cp = TrackedCheckpoint(time=e[0], text=e[4], location=e[3])
        out["checkpoint"].append({
            "parcel_id": pid, "time": e[0], "location": e[3], "text": e[4], "raw_code": K100.get(e[2], "0"),
            "status": e[2].value, "provider": "kuaidi100", "content_hash": checkpoint_hash(cp),
            "recorded_at": _after(e[0], rng, polled),
        })

    # Flag history: one open episode per flag; a closed one for stalls that cleared.
    raised_at = {}
    for name, f in flags.items():
        wait = timedelta(hours=f.threshold_hours or 0)
        raised = min(f.since + wait + rng.uniform(0.02, 1.0) * POLL, polled)
        raised_at[name] = raised
        out["flag_event"].append({"parcel_id": pid, "flag": name, "code": f.code, "reason": f.reason,
                                  "since": f.since, "raised_at": raised, "cleared_at": None, "level": f.level})
        out["pairs"].append((number, name))
    if closed is not None:
        f, raised, cleared = closed
        out["flag_event"].append({"parcel_id": pid, "flag": f.name, "code": f.code, "reason": f.reason,
                                  "since": f.since, "raised_at": raised, "cleared_at": cleared, "level": f.level})
        out["closed"] += 1

    # Buyer notices: what the planner would have queued over the parcel's life.
    ms = verdict.milestones
    planned = []  # (kind, key, reason, created_at, superseded)
    if ms.collected_at and scenario not in ("never_collected", "info_only") and (
            ms.arrived_city_at is None or ms.arrived_city_at - ms.collected_at > timedelta(hours=6)):
        planned.append(("dispatch", f"dispatch:{pid}", "collected by the courier", _after(ms.collected_at, rng, polled),
                        ms.arrived_city_at is not None and rng.random() < 0.03))
    if ms.arrived_city_at and "unreachable" not in flags and (
            ms.delivered_at is None or ms.delivered_at - ms.arrived_city_at > timedelta(hours=4)):
        planned.append(("arrived_city", f"arrived_city:{pid}", "arrived in the buyer's city",
                        _after(ms.arrived_city_at, rng, polled), ms.delivered_at is not None and rng.random() < 0.05))
    if closed is not None:
        f, raised, _ = closed
        planned.append(("delay", f"delay:{pid}:{f.since.isoformat()}", f.reason, raised, False))
    for name in ("stalled", "unreachable"):
        if name in flags:
            kind = "delay" if name == "stalled" else "unreachable"
            planned.append((kind, f"{kind}:{pid}:{flags[name].since.isoformat()}", flags[name].reason,
                            raised_at[name], False))
    case = next((flags[n] for n in ("stalled", "unreachable", "exception") if n in flags), None)
    if case is not None:
        tz = ctx["tz"]
        day = raised_at[case.name].astimezone(tz).date() + timedelta(days=1)
        for _ in range(3):  # notices.follow_up_max
            at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz).astimezone(timezone.utc)
            if at > polled:
                break
            planned.append(("follow_up", f"follow_up:{pid}:{case.since.isoformat()}:{day.isoformat()}",
                            f"{case.name} case still open: {case.reason}", at, False))
            day += timedelta(days=1)
    names = {"dispatch": "已发出", "arrived_city": "已到达{city}，今明两天派送，请保持电话畅通",
             "delay": "在途中耽搁了，我们已联系快递公司加急处理", "unreachable": "所在地址快递不能派送，我们将改发其他快递",
             "follow_up": "我们仍在跟进，有进展会第一时间通知您"}
    for kind, key, reason, created, superseded in planned:
        channel = "chat" if chat and rng.random() < 0.5 else "sms"
        body = (f"【{SHOP}】亲，您的包裹（{COURIER_ZH[courier]} {number}）"
                + names[kind].format(city=city) + "。退订回T")
        sent_at = quiet_until(created, "21:00-08:00", ctx["tz"]) or created
        sent_at += timedelta(seconds=rng.uniform(1, 90))
        base = {"parcel_id": pid, "kind": kind, "idempotency_key": key, "channel": channel, "language": "zh-CN",
                "reason": reason[:300], "created_at": created, "not_before": created, "claim_token": None,
                "attempts": 1, "last_attempt_at": sent_at, "sent_at": None, "delivered_at": None,
                "provider_message_id": None, "error": None, "body": body, "state": "sent"}
        r = rng.random()
        if superseded:
            base.update(state="suppressed", channel=None, body=None, attempts=0, last_attempt_at=None,
                        reason="superseded by a later checkpoint")
        elif sent_at > now:
            base.update(state="deferred", not_before=sent_at - timedelta(seconds=1), attempts=0, last_attempt_at=None,
                        body=None, channel=None)
        elif cls == FLAGGED_UNREACHED or r < 0.01:
            base.update(state="failed", attempts=rng.choice((2, 3, 4)), error=rng.choice(FAIL_ERRORS), channel="sms")
        else:
            mid = ("SM" if channel == "sms" else "wx-") + f"{rng.getrandbits(128):032x}"
            base.update(sent_at=sent_at, provider_message_id=mid)
            if r < 0.35:
                base.update(state="delivered", delivered_at=sent_at + timedelta(seconds=rng.uniform(2, 40)))
        out["notice"].append(base)

    # Acknowledgements: most cover the episode as it is now; some are a level behind.
    if cls == FLAGGED_ACK:
        for name, f in flags.items():
            stale = f.level >= 2 and rng.random() < 0.4
            at = min(raised_at[name] + timedelta(hours=rng.uniform(0.5, 30)), now - timedelta(minutes=10))
            note = rng.choice(NOTE_TEXTS).format(landline=landline(rng, area), mobile=mobile(rng))
            out["acknowledgement"].append({"parcel_id": pid, "flag": name, "level": f.level - 1 if stale else f.level,
                                           "note": note, "by": rng.choice(NOTE_BY), "created_at": at})
            if not stale and at >= raised_at[name]:
                out["in_hand"].append((number, name))
    out["status"][verdict.status.value] += 1


def make_chunk(task: tuple[int, int]) -> dict:
    lo, hi = task
    ctx = CONTEXT
    rng = random.Random(SEED * 1_000_003 + lo)
    out = {"parcel": [], "checkpoint": [], "flag_event": [], "notice": [], "acknowledgement": [], "pairs": [],
           "in_hand": [], "closed": 0, "status": Counter()}
    for i in range(lo, hi):
        make_parcel(i, CLASSES[i], rng, ctx, out)
    for name, model in TABLES.items():
        _stored(out[name], model)
    return out


def _stored(rows: list[dict], model) -> list[dict]:  # type: ignore[no-untyped-def]
    """Times as the store keeps them: naive UTC text (``UTCDateTime`` on SQLite)."""
    keys = [c.name for c in model.__table__.columns if isinstance(c.type, UTCDateTime)]
    utc = timezone.utc
    for row in rows:
        for k in keys:
            v = row.get(k)
            if v is not None:
                row[k] = v.astimezone(utc).isoformat(" ", "microseconds")[:26]
    return rows


def _light(model) -> object:  # type: ignore[no-untyped-def]
    """The model's table without column types: rows arrive with their values already as stored,
    so the bulk insert skips SQLAlchemy's per-value conversions."""
    return table(model.__tablename__, *(column(c.name) for c in model.__table__.columns))


# --- the store -------------------------------------------------------------------------


def poll_log_rows(now: datetime, rng: random.Random) -> list[dict]:
    """30 days, one cycle a minute per provider, with a few outages of 10–90 minutes each."""
    start = (now - timedelta(days=30)).replace(second=0, microsecond=0)
    minutes = 30 * 24 * 60
    rows = []
    for provider, size in (("kuaidi100", 60), ("17track", 12)):
        outages = set()
        for _ in range(rng.randint(4, 8)):
            first = rng.randrange(minutes)
            outages.update(range(first, first + rng.randint(10, 90)))
        error = "ProviderTransient: " + ("HTTP 502 from the provider" if provider == "kuaidi100" else "timeout")
        for m in range(minutes):
            t = start + timedelta(minutes=m)
            parcels = max(1, int(rng.gauss(size, size / 4)))
            down = m in outages
            rows.append({"provider": provider, "owner": "shop-1:poller", "started_at": t,
                         "finished_at": t + timedelta(seconds=rng.uniform(1, 25 if not down else 60)),
                         "requests": parcels if provider == "kuaidi100" else math.ceil(parcels / 40),
                         "parcels": parcels, "updated": 0 if down else int(parcels * rng.uniform(0.05, 0.3)),
                         "problems": 0 if down else int(parcels * rng.uniform(0, 0.03)),
                         "failed": parcels if down else 0, "error": error if down else None})
    return rows


def report_run_rows(now: datetime, tz: ZoneInfo) -> list[dict]:
    """Nightly 21:30 reports for the last 30 days (the last one at least an hour ago)."""
    rows = []
    today = now.astimezone(tz).date()
    for back in range(30, -1, -1):
        day = today - timedelta(days=back)
        at = datetime(day.year, day.month, day.day, 21, 30, tzinfo=tz).astimezone(timezone.utc)
        if at < now - timedelta(hours=1):
            rows.append({"generated_at": at, "format": "html", "entries": 0})
    return rows


def build_store(work: Path, parcels: int, flagged: int, acks: int, jobs: int) -> dict:
    global CLASSES
    config = work / "bench-report.toml"
    db_path = work / "bench-report.db"
    config.write_text(f'[shop]\nname = "{SHOP}"\ntimezone = "Asia/Shanghai"\n'
                      f'[database]\nurl = "sqlite:///{db_path}"\n', encoding="utf-8")
    settings = load_settings(config, environ={})
    db = open_database(settings.database.url)
    columns = {c["name"] for c in inspect(db.engine).get_columns("parcel")}
    now = datetime.now(timezone.utc)
    rng = random.Random(SEED)

    # Classes: `flagged` flagged parcels (some acknowledged, some whose buyer no notice reached),
    # 60 % delivered (some after a stall that cleared, a few of those today), the rest open.
    n_delivered = round(parcels * 0.6)
    n_flagged = min(flagged, parcels - n_delivered)
    n_acks = min(acks, n_flagged)
    n_unreached = min(round(n_flagged * 0.04), n_flagged - n_acks)
    n_today = min(150, n_delivered // 20)
    n_past = n_delivered // 25
    classes = ([FLAGGED_ACK] * n_acks + [FLAGGED_UNREACHED] * n_unreached
               + [FLAGGED] * (n_flagged - n_acks - n_unreached)
               + [DELIVERED_STALL_TODAY] * n_today + [DELIVERED_STALL_PAST] * n_past
               + [DELIVERED] * (n_delivered - n_today - n_past))
    classes += [OPEN] * (parcels - len(classes))
    rng.shuffle(classes)
    CLASSES = bytes(classes)
    detection = settings.detection
    CONTEXT.update(
        now=now, tz=settings.shop.tz, detection=detection,
        milestone_columns={"collected_at", "delivered_at"} <= columns,
        calendar=HolidayCalendar(settings.shop.tz, [PeakPeriod.parse(p) for p in detection.peaks],
                                 holidays=detection.holidays),
        courier_codes=list(COURIERS), courier_weights=[w for w, _, _ in COURIERS.values()],
        place_weights=[p[4] for p in PLACES], place_index=list(range(len(PLACES))),
        epoch=datetime.combine((now - timedelta(days=45)).astimezone(settings.shop.tz).date(),
                               datetime.min.time(), settings.shop.tz),
    )

    size = 2000
    tasks = [(lo, min(lo + size, parcels)) for lo in range(0, parcels, size)]
    tables = [(name, _light(model)) for name, model in TABLES.items()]
    counts: Counter = Counter()
    pairs: list[tuple[str, str]] = []
    in_hand: list[tuple[str, str]] = []
    statuses: Counter = Counter()

    def store(chunk: dict) -> None:
        began = time.perf_counter()
        with db.engine.begin() as conn:
            # a loading connection: index pages stay in memory, no syncing
            conn.exec_driver_sql("PRAGMA cache_size=-400000")
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            for name, light in tables:
                rows = chunk[name]
                t0 = time.perf_counter()
                if rows:
                    conn.execute(insert(light), rows)
                counts[f"insert_{name}"] += time.perf_counter() - t0
                counts[name] += len(rows)
        pairs.extend(chunk["pairs"])
        in_hand.extend(chunk["in_hand"])
        counts["closed_episodes"] += chunk["closed"]
        statuses.update(chunk["status"])
        counts["insert_seconds"] += time.perf_counter() - began

    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for chunk in pool.imap(make_chunk, tasks):
                store(chunk)
    else:
        for task in tasks:
            store(make_chunk(task))
    other = [(PollLog, poll_log_rows(now, rng)), (ReportRun, report_run_rows(now, settings.shop.tz))]
    with db.engine.begin() as conn:
        for model, rows in other:
            for k in range(0, len(rows), 20000):
                conn.execute(insert(_light(model)), _stored(rows[k:k + 20000], model))
            counts[model.__tablename__] += len(rows)
    with db.engine.connect() as conn:
        last_run = conn.exec_driver_sql("SELECT max(id) FROM report_run").scalar() or 0
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return {"config": config, "db": db_path, "timezone": settings.shop.timezone, "counts": counts, "pairs": pairs,
            "in_hand": in_hand, "statuses": statuses, "last_run": last_run, "milestones": CONTEXT["milestone_columns"]}


# --- measuring -------------------------------------------------------------------------

REFERENCE = r"""
import sqlite3, sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
con = sqlite3.connect(sys.argv[1])
now = datetime.now(timezone.utc)
local = now.astimezone(ZoneInfo(sys.argv[2]))
t = lambda d: d.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
as_of, call, month = t(now), t(now - timedelta(days=3)), t(now - timedelta(days=30))
today = t(local.replace(hour=0, minute=0, second=0, microsecond=0))
q = lambda sql, *args: con.execute(sql, args).fetchall()
flagged = "SELECT id FROM parcel WHERE flags != ''"
reads = [
    q("SELECT * FROM parcel WHERE flags != '' ORDER BY id"),
    q(f"SELECT * FROM flag_event WHERE parcel_id IN ({flagged}) AND cleared_at IS NULL ORDER BY raised_at, id"),
    q(f"SELECT * FROM acknowledgement WHERE parcel_id IN ({flagged}) AND created_at <= ? ORDER BY created_at, id",
      as_of),
    q(f"SELECT * FROM notice WHERE parcel_id IN ({flagged}) AND created_at <= ? ORDER BY created_at, id", as_of),
    q(f"SELECT parcel_id, text FROM checkpoint WHERE parcel_id IN ({flagged}) ORDER BY parcel_id, time DESC"),
    q("SELECT * FROM flag_event JOIN parcel ON parcel.id = flag_event.parcel_id "
      "WHERE cleared_at IS NOT NULL AND cleared_at >= ? AND cleared_at <= ?", today, as_of),
    q("SELECT * FROM notice JOIN parcel ON parcel.id = notice.parcel_id WHERE notice.state = 'failed' "
      "AND coalesce(last_attempt_at, notice.created_at) >= ? AND parcel.status != 'delivered'", call),
    # the courier scorecard: a month of parcels, the flags they ever had, provider health
    q("SELECT DISTINCT parcel_id, flag FROM flag_event WHERE parcel_id IN (SELECT id FROM parcel "
      "WHERE coalesce(shipped_at, created_at) BETWEEN ? AND ?)", month, as_of),
    q("SELECT id, courier, province, collected_at, delivered_at FROM parcel "
      "WHERE coalesce(shipped_at, created_at) BETWEEN ? AND ?", month, as_of),
    q("SELECT provider, started_at, requests, parcels, failed, error FROM poll_log "
      "WHERE started_at BETWEEN ? AND ? ORDER BY provider, started_at", month, as_of),
]
print(*map(len, reads))
"""


#: Loaded by every measured process through PYTHONPATH: at exit it writes the process's
#: own high-water RSS (VmHWM).  ru_maxrss from wait4 is no good here: Linux carries the
#: forking parent's peak (this benchmark, after generating the data) over exec.
PEAK_HOOK = """
import atexit, os
_path = os.environ.get("BENCH_PEAK_FILE")
if _path:
    def _peak():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    with open(_path, "w") as out:
                        out.write(line.split()[1])
    atexit.register(_peak)
"""


def run_child(argv: list[str], work: Path) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of one process; fails loudly on a non-zero exit."""
    hook = work / "peak-hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(PEAK_HOOK, encoding="utf-8")
    peak_file = work / "peak.kib"
    peak_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
    env.update(BENCH_PEAK_FILE=str(peak_file),
               PYTHONPATH=os.pathsep.join(filter(None, (str(hook), os.environ.get("PYTHONPATH")))))
    with tempfile.TemporaryFile(dir=work) as err, tempfile.TemporaryFile(dir=work) as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=work, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        message = (err.read() + out.read()).decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-6:])} exited {proc.returncode}: {message[-2000:]}")
    try:
        peak_kib = int(peak_file.read_text())
    except (OSError, ValueError):  # no /proc: the rusage figure, an upper bound
        peak_kib = usage.ru_maxrss
    return elapsed, peak_kib / 1024, message


def report_argv(config: Path, fmt: str, output: Path) -> list[str]:
    exe = Path(sys.executable).with_name("parcelwatch")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "watcher"]
    return [*cli, "--config", str(config), "report", "--format", fmt, "--output", str(output)]


def forget_runs(db_path: Path, last_seeded: int) -> None:
    with sqlite3.connect(db_path) as con:
        con.execute("DELETE FROM report_run WHERE id > ?", (last_seeded,))


def check_json(path: Path, pairs: list[tuple[str, str]], in_hand: list[tuple[str, str]]) -> tuple[bool, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    got = Counter((e["tracking_number"], e["flag"]) for e in data["flagged"])
    want = Counter(pairs)
    hand = {(e["tracking_number"], e["flag"]) for e in data["flagged"] if e["section"] == "in_hand"}
    acked_flags = {(e["tracking_number"], e["flag"]) for e in data["flagged"] if e["acknowledgements"]}
    ok = got == want and hand == set(in_hand) and data["summary"]["entries"] == sum(want.values())
    sections = dict(Counter(e["section"] for e in data["flagged"]))
    line = (f"JSON lists {sum(got.values())} entries for {sum(want.values())} generated (parcel, flag) pairs "
            f"({len(want - got)} missing, {len(got - want)} extra); in hand {len(hand)} = current acks "
            f"{len(set(in_hand))}; {len(acked_flags)} entries carry acks; sections {sections}; resolved today "
            f"{len(data.get('resolved_today', []))}, buyers to phone {len(data.get('buyers_to_phone', []))}, "
            f"call list {len(data.get('call_list', []))} numbers")
    return ok, line


def profile(config: Path, fmt: str, work: Path, top: int) -> None:
    import pstats

    out = work / "profile.out"
    argv = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "watcher", "--config", str(config), "report",
            "--format", fmt, "--output", str(work / f"profiled.{fmt}")]
    elapsed, peak, _ = run_child(argv, work)
    print(f"\ncProfile of report --format {fmt} ({elapsed:.2f} s, {peak:.0f} MB under the profiler), "
          f"top {top} by cumulative time:", flush=True)
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--flagged", type=int, default=5000)
    parser.add_argument("--acks", type=int, default=300, help="flagged parcels acknowledged by ops")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4), help="data generation processes")
    parser.add_argument("--profile", action="store_true", help="profile the slowest format once at the end")
    parser.add_argument("--keep", metavar="DIR", help="build the store in DIR and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for old in work.glob("bench-report.db*"):
            old.unlink()
        start = time.perf_counter()
        data = build_store(work, args.parcels, args.flagged, args.acks, args.jobs)
        gen_seconds = time.perf_counter() - start
        c, st = data["counts"], data["statuses"]
        flagged_parcels = len({n for n, _ in data["pairs"]})
        by_flag = Counter(f for _, f in data["pairs"])
        size_mb = sum(p.stat().st_size for p in work.glob("bench-report.db*")) / 2**20
        print(f"store: {c['parcel']} parcels ({st['delivered'] / max(c['parcel'], 1):.1%} delivered), "
              f"{flagged_parcels} flagged parcels, {len(data['pairs'])} (parcel, flag) pairs "
              f"({', '.join(f'{k} {v}' for k, v in by_flag.most_common())})")
        print(f"       {c['checkpoint']} checkpoints, {c['flag_event']} flag episodes ({c['closed_episodes']} closed), "
              f"{c['notice']} notices, {c['acknowledgement']} acks, {c['poll_log']} poll-log rows, "
              f"{c['report_run']} report runs; milestone columns: {'filled' if data['milestones'] else 'absent'}")
        print(f"       generated in {gen_seconds:.1f} s ({args.jobs} processes; "
              f"{c['insert_seconds']:.1f} s inserting), {size_mb:.0f} MB on disk\n", flush=True)
        if args.rounds < 1:
            return 0

        results: dict[str, list[tuple[float, float]]] = {name: [] for name in ("reference", *FORMATS)}
        for r in range(args.rounds):
            line = [f"round {r + 1}:"]
            t, mb, _ = run_child([sys.executable, "-c", REFERENCE, str(data["db"]), data["timezone"]], work)
            results["reference"].append((t, mb))
            line.append(f"reference {t:5.2f} s {mb:4.0f} MB")
            for fmt in FORMATS:
                out = work / f"report.{fmt}"
                t, mb, _ = run_child(report_argv(data["config"], fmt, out), work)
                forget_runs(data["db"], data["last_run"])
                results[fmt].append((t, mb))
                line.append(f"{fmt} {t:5.2f} s {mb:4.0f} MB")
            print("  ".join(line), flush=True)

        ok, sanity = check_json(work / "report.json", data["pairs"], data["in_hand"])
        ref_t = statistics.median(t for t, _ in results["reference"])
        ref_mb = statistics.median(mb for _, mb in results["reference"])
        print(f"\n{args.parcels} parcels, {flagged_parcels} flagged, {args.rounds} rounds, medians "
              f"(targets: under {TARGET_SECONDS:g} s and {TARGET_MB:g} MB):")
        print(f"  {'':34} {'time':>8} {'peak RSS':>9} {'time ratio':>11}")
        print(f"  {'reference (sqlite3, same reads)':34} {ref_t:7.2f}s {ref_mb:6.0f} MB {1:10.2f}")
        slowest, slowest_t = FORMATS[0], -1.0
        for fmt in FORMATS:
            t = statistics.median(x for x, _ in results[fmt])
            mb = statistics.median(m for _, m in results[fmt])
            if t > slowest_t:
                slowest, slowest_t = fmt, t
            verdict = "PASS" if t < TARGET_SECONDS and mb < TARGET_MB else "FAIL"
            label = f"parcelwatch report --format {fmt}"
            print(f"  {label:34} {t:7.2f}s {mb:6.0f} MB {t / ref_t:10.1f}   {verdict}")
        print(f"\nsanity: {'OK' if ok else 'MISMATCH'}: {sanity}")
        print(f"data generation: {gen_seconds:.1f} s")
        if args.profile:
            profile(data["config"], slowest, work, 25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
