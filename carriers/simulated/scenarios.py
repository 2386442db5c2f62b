"""Pure trajectory generation for the simulated provider.

:func:`build_trace` turns (seed, courier, number, start, destination, scenario)
into every checkpoint the parcel will ever get, oldest first.  It reads no clock
and does no I/O; all randomness comes from a ``random.Random`` seeded by a
stable hash of its arguments, so the same inputs give the same trace in every
process.  The adapter reveals the checkpoints whose time has come.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from carriers.base import Status
from carriers.simulated import phrases

__all__ = [
    "SCENARIO_TABLE",
    "SCENARIOS",
    "KIND_STATUS",
    "Place",
    "SimEvent",
    "Trace",
    "DEFAULT_DESTINATION",
    "stable_unit",
    "is_remote",
    "resolve_destination",
    "build_trace",
]

SHOP_TZ = ZoneInfo("Asia/Shanghai")

#: scenario -> (weight in the hash-picked mix, steps).  ``remote_slow`` is never
#: drawn: a drawn ``normal`` to Xinjiang/Tibet becomes ``remote_slow``.  A step is
#: a single scan from ``_SCANS`` or a composite step (a method of ``_Builder``).
SCENARIO_TABLE: Mapping[str, tuple[int, str]] = {
    "normal": (56, "collect legs arrive out delivered"),
    "locker": (8, "collect legs arrive out locker"),
    "stall_transit": (5, "collect legs_to_stop"),
    "stall_city": (4, "collect legs arrive"),
    "unreachable": (4, "collect legs arrive unreachable"),
    "failed_attempt_then_delivered": (4, "collect legs arrive out failed_attempt out_next_day delivered"),
    "exception_refused": (3, "collect legs arrive out refused back"),
    "info_only": (3, "info"),
    "never_collected": (3, ""),
    "returned": (2, "collect legs arrive out address_problem back"),
    "exception_damaged": (2, "collect legs_to_stop damaged"),
    "lost": (1, "collect legs_to_stop lost"),
    "remote_slow": (0, "slow collect legs arrive out delivered"),
}
SCENARIOS: tuple[str, ...] = tuple(SCENARIO_TABLE)

#: single-scan steps: hours after the previous scan, and where: origin, dest or
#: stop (the hub where a parcel that never arrives stopped)
_SCANS: Mapping[str, tuple[tuple[float, float], str]] = {
    "info": ((0.1, 1.5), "origin"),
    "delivered": ((1.0, 5.0), "dest"),
    "locker": ((0.5, 3.0), "dest"),
    "failed_attempt": ((2.0, 6.0), "dest"),
    "unreachable": ((2.0, 10.0), "dest"),
    "refused": ((1.0, 4.0), "dest"),
    "address_problem": ((2.0, 5.0), "dest"),
    "damaged": ((1.0, 5.0), "stop"),
    "lost": ((48.0, 96.0), "stop"),
}

#: scan kind (also the checkpoint's raw code) -> normalized status
KIND_STATUS: Mapping[str, Status] = {
    "info": Status.INFO_RECEIVED,
    "collected": Status.COLLECTED,
    **dict.fromkeys(("hub_arrive", "hub_depart", "remote_note"), Status.IN_TRANSIT),
    "city_arrive": Status.ARRIVED_DESTINATION_CITY,
    "out_for_delivery": Status.OUT_FOR_DELIVERY,
    "locker": Status.AVAILABLE_FOR_PICKUP,
    "delivered": Status.DELIVERED,
    "failed_attempt": Status.FAILED_ATTEMPT,
    **dict.fromkeys(("unreachable", "refused", "address_problem", "damaged", "lost"), Status.EXCEPTION),
    **dict.fromkeys(("returning", "return_transit"), Status.RETURNING),
    "returned": Status.RETURNED,
}

_PROV_SUFFIX = re.compile(r"(维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|省|市)$")
_CITY_SUFFIX = re.compile(r"(地区|市|盟)$")
_DIST_SUFFIX = re.compile(r"(新区|区|县|市|旗|镇)$")


def _short(name: str, suffix: re.Pattern[str]) -> str:
    if name.endswith(("自治州", "自治县")):
        return name[:2]
    short = suffix.sub("", name)
    return short if len(short) >= 2 else name


@dataclass(frozen=True, slots=True)
class Place:
    province: str
    city: str
    district: str = ""

    @property
    def prov_s(self) -> str:
        return _short(self.province, _PROV_SUFFIX)

    def fields(self) -> dict[str, str]:
        city_s = _short(self.city, _CITY_SUFFIX)
        municipality = self.prov_s == city_s  # 上海松江区公司, not 上海上海松江区公司
        return {
            "prov": "" if municipality else self.province, "prov_s": "" if municipality else self.prov_s,
            "city": self.city, "city_s": city_s, "dist": self.district,
            "dist_s": _short(self.district, _DIST_SUFFIX) if self.district else "",
        }


DEFAULT_DESTINATION = Place("上海市", "上海市", "浦东新区")
_REMOTE_DEFAULT = Place("新疆维吾尔自治区", "乌鲁木齐市", "天山区")


def is_remote(place: Place) -> bool:
    return place.prov_s in phrases.REMOTE_VIA or place.city in {"乌鲁木齐市", "拉萨市", "喀什地区", "日喀则市"}


@dataclass(frozen=True, slots=True)
class SimEvent:
    time: datetime  # aware, Asia/Shanghai
    kind: str  # also the checkpoint's raw code
    status: Status
    city: str
    text: str


@dataclass(frozen=True, slots=True)
class Trace:
    scenario: str
    events: tuple[SimEvent, ...]  # oldest first


def stable_unit(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts`` (not on PYTHONHASHSEED)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# --- trace building ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Route:
    origin: Place
    hubs: tuple[Place, ...]
    dest: Place

    @property
    def stop(self) -> int:
        return min(1, len(self.hubs) - 1)


def _route(rng: random.Random, dest: Place) -> _Route:
    province, city, districts = rng.choice(phrases.ORIGINS)
    origin = Place(province, city, rng.choice(districts))
    capital = phrases.CAPITALS.get(dest.prov_s)
    big = dest.city in phrases.HUB_CITIES or not capital  # big cities sort their own parcels
    dest_hub = Place(dest.province, dest.city if big else capital)
    via = list(phrases.REMOTE_VIA.get(dest.prov_s, ()))
    if not via and origin.prov_s != dest.prov_s and rng.random() < 0.6:
        via = [rng.choice(phrases.NATIONAL_HUBS)]
    if origin.city == dest.city:
        via, dest_hub = [], Place(origin.province, origin.city)
    hubs: list[Place] = []
    for place in (Place(origin.province, origin.city), *(Place(p, c) for p, c in via), dest_hub):
        if not hubs or hubs[-1].city != place.city:
            hubs.append(place)
    return _Route(origin, tuple(hubs), dest)


class _Builder:
    def __init__(self, rng: random.Random, style: str, fields: dict[str, str], route: _Route, start: datetime) -> None:
        self.rng, self.style, self.fields, self.route, self.t = rng, style, fields, route, start
        self.events: list[SimEvent] = []
        self.pace = 1.0

    def run(self, script: str) -> None:
        for step in script.split():
            if step in _SCANS:
                hours, where = _SCANS[step]
                r = self.route
                self.add(step, {"origin": r.origin, "dest": r.dest, "stop": r.hubs[r.stop]}[where], hours)
            else:
                getattr(self, step)()

    def hub(self, place: Place) -> str:
        return phrases.HUB_FORMAT[self.style].format_map(place.fields())

    def outlet(self, place: Place) -> str:
        return phrases.OUTLET_FORMAT[self.style].format_map(place.fields())

    def add(self, kind: str, place: Place, hours: tuple[float, float], **extra: str) -> None:
        self.t += timedelta(hours=self.rng.uniform(*hours))
        fields = {**self.fields, **place.fields(), "outlet": self.outlet(place), "hub": self.hub(place), **extra}
        text = phrases.render(self.style, kind, self.rng, fields)
        self.events.append(SimEvent(self.t, kind, KIND_STATUS[kind], place.city, text))

    def daytime(self, first: float, last: float, *, next_day: bool = False) -> None:
        """Wait for working hours (shop time): stay if inside them, else the next morning."""
        local = self.t.astimezone(SHOP_TZ)
        hour = local.hour + local.minute / 60
        if not next_day and first <= hour <= last:
            return
        day = local.date() + timedelta(days=0 if hour < first and not next_day else 1)
        morning = datetime(day.year, day.month, day.day, tzinfo=SHOP_TZ) + timedelta(hours=first)
        self.t = morning + timedelta(minutes=self.rng.uniform(0, 60))

    # composite steps ---------------------------------------------------------------

    def slow(self) -> None:
        """A remote destination: long hauls take about twice as long."""
        self.pace = 1.6

    def collect(self) -> None:
        self.daytime(8.0, 20.0)
        f = self.fields
        self.add("collected", self.route.origin, (0.3, 3.0), staff=f["staff1"], phone=f["phone1"])

    def legs(self, upto: int | None = None) -> None:
        """Hub scans; with ``upto`` stop after arriving at hub number ``upto``."""
        hubs, pace = self.route.hubs, self.pace
        for i, hub in enumerate(hubs):
            self.add("hub_arrive", hub, (1.5, 4.0) if i == 0 else (12.0 * pace, 30.0 * pace))
            if i == upto:
                return
            nxt = self.hub(hubs[i + 1]) if i + 1 < len(hubs) else self.outlet(self.route.dest)
            self.add("hub_depart", hub, (1.0, 3.0), next=nxt)
            if pace > 1 and i == 0:
                self.add("remote_note", hub, (0.2, 1.0))

    def legs_to_stop(self) -> None:
        self.legs(upto=self.route.stop)

    def arrive(self) -> None:
        same = self.route.hubs[-1].city == self.route.dest.city
        self.add("city_arrive", self.route.dest, (4.0, 12.0) if same else (4.0 * self.pace, 10.0 * self.pace))

    def out(self, next_day: bool = False) -> None:
        self.daytime(7.5, 16.0, next_day=next_day)
        self.add("out_for_delivery", self.route.dest, (0.2, 1.5))

    def out_next_day(self) -> None:
        self.out(next_day=True)

    def back(self) -> None:
        r = self.route
        self.add("returning", r.dest, (12.0, 24.0))
        hubs = r.hubs[::-1]
        for i, hub in enumerate(hubs):
            nxt = self.hub(hubs[i + 1]) if i + 1 < len(hubs) else self.outlet(r.origin)
            self.add("return_transit", hub, (6.0, 12.0) if i == 0 else (10.0, 24.0), next=nxt)
        self.daytime(8.0, 18.0)
        self.add("returned", r.origin, (0.5, 4.0))


def resolve_destination(dest: Place, scenario: str = "normal") -> Place:
    """The buyer's place, completed: province only → its capital; nothing → a default city."""
    if dest.city:
        return dest
    if not dest.province:
        return _REMOTE_DEFAULT if scenario == "remote_slow" else DEFAULT_DESTINATION
    capital = phrases.CAPITALS.get(dest.prov_s)
    return Place(dest.province, capital, dest.district) if capital else DEFAULT_DESTINATION


@lru_cache(maxsize=8192)
def build_trace(seed: int, courier: str, number: str, start: datetime, dest: Place, scenario: str) -> Trace:
    """Every checkpoint ``number`` will get, oldest first; ``start`` is when it was shipped."""
    if scenario not in SCENARIO_TABLE:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    dest = resolve_destination(dest, scenario)
    key = (seed, courier, number.strip(), start.isoformat(), dest.province, dest.city, dest.district, scenario)
    rng = random.Random(int(stable_unit(*key) * 2**53))
    route = _route(rng, dest)
    staff = [f"{rng.choice(phrases.SURNAMES)}{rng.choice(('师傅', *phrases.GIVEN_NAMES))}" for _ in range(2)]
    phones = [f"{rng.choice(phrases.PHONE_PREFIXES)}{rng.randrange(10**8):08d}" for _ in range(2)]
    locker = rng.choice(phrases.LOCKER_FORMATS).format(estate=rng.choice(phrases.ESTATES), **dest.fields())
    base = {
        "courier": phrases.courier_name(courier), "staff": staff[1], "phone": phones[1], "staff1": staff[0],
        "phone1": phones[0], "locker": locker, "code": f"{rng.randint(1, 30)}-{rng.randint(1, 6)}-{rng.randint(1000, 9999)}",
        "ocity": route.origin.city, "dest_city": dest.city, "next": "",
        "post_no": f"98{rng.randrange(10**10, 10**11)}",
    }
    builder = _Builder(rng, phrases.style_for(courier), base, route, start.astimezone(SHOP_TZ))
    builder.run(SCENARIO_TABLE[scenario][1])
    return Trace(scenario, tuple(builder.events))

