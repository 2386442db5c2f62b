"""Pre-dispatch check: does a courier serve an address?  (``parcelwatch coverage``)

Two sources, neither of which any tracking service offers:

* the shop's configuration: ``detection.unreachable_areas`` lists areas a
  courier is known not to serve (``"新疆维吾尔自治区/喀什地区"``, a whole province …);
* the shop's own history: areas where that courier produced out-of-area
  (超区/不派送/转邮政 …) checkpoints, and couriers that did deliver there.

EMS and China Post reach every address and are always suggested last.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from carriers.couriers import resolve_courier
from watcher.errors import InputError
from watcher.intake.address import locate
from watcher.rules import geo
from watcher.settings import Settings
from watcher.store.db import Database
from watcher.store.models import FlagEvent, Parcel

__all__ = ["Coverage", "Suggestion", "check_coverage", "UNIVERSAL_FALLBACKS"]

#: couriers that deliver everywhere in mainland China
UNIVERSAL_FALLBACKS = ("ems", "youzhengguonei")


@dataclass(frozen=True, slots=True)
class Suggestion:
    courier: str
    delivered: int  # parcels this courier delivered to the area, in the shop's history
    why: str


@dataclass(frozen=True, slots=True)
class Coverage:
    courier: str
    area: str  # "省/市/区"
    #: False: known not to serve; True: delivered there before and never refused it; None: no evidence
    served: bool | None
    reasons: tuple[str, ...] = ()
    delivered: int = 0
    unreachable: int = 0
    suggestions: tuple[Suggestion, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "courier": self.courier, "area": self.area, "served": self.served, "reasons": list(self.reasons),
            "delivered": self.delivered, "unreachable": self.unreachable,
            "suggestions": [{"courier": s.courier, "delivered": s.delivered, "why": s.why} for s in self.suggestions],
        }


def _place_of(address: str) -> geo.Place:
    region = locate([address])[0]
    place = geo.resolve_place(region.province, region.city, region.district)
    if place is None:
        raise InputError(f"cannot find a province and city in address {address!r}")
    return place


def _within(place: geo.Place, area: str) -> bool:
    """Is ``place`` inside ``area`` ("省", "省/市" or "省/市/区", full or short names)?"""
    parts = [p for p in area.split("/") if p]
    target = geo.resolve_place(*(parts + [None] * (3 - len(parts)))[:3]) if len(parts) > 1 else None
    if target is None:
        province = geo.resolve_place(parts[0], None, None) if parts else None
        return province is not None and province.province == place.province
    if len(parts) >= 3 and target.district:
        return target.adcode[:6] == place.adcode[:6]
    return target.province == place.province and target.city == place.city


def _history(db: Database, place: geo.Place) -> tuple[Counter[str], Counter[str]]:
    """Per courier: parcels delivered to the place's city, parcels flagged out of area there."""
    core = place.city.rstrip("市")[:2]
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Parcel.id, Parcel.courier, Parcel.status, Parcel.province, Parcel.city, Parcel.district)
            .where(Parcel.city.contains(core))  # type: ignore[union-attr]
        ).all()
        flagged = {
            pid for (pid,) in conn.execute(
                select(FlagEvent.parcel_id).where(FlagEvent.code == "out_of_area").distinct()
            )
        }
    delivered: Counter[str] = Counter()
    unreachable: Counter[str] = Counter()
    for pid, courier, status, province, city, district in rows:
        other = geo.resolve_place(province, city, district)
        if other is None or other.province != place.province or other.city != place.city:
            continue
        if place.district and other.district and other.district != place.district:
            continue
        if pid in flagged:
            unreachable[courier] += 1
        elif status == "delivered":
            delivered[courier] += 1
    return delivered, unreachable


def check_coverage(db: Database, settings: Settings, courier: str, address: str) -> Coverage:
    code = resolve_courier(courier)
    place = _place_of(address)
    reasons: list[str] = []
    configured = [a for a in settings.detection.unreachable_areas.get(code, []) if _within(place, a)]
    for area in configured:
        reasons.append(f"configured as not served: detection.unreachable_areas.{code} lists {area}")
    delivered, unreachable = _history(db, place)
    if unreachable[code]:
        reasons.append(f"{unreachable[code]} of the shop's {code} parcels to this area came back out of area")
    if configured or unreachable[code]:
        served: bool | None = False
    elif delivered[code]:
        served = True
        reasons.append(f"{delivered[code]} {code} parcels were delivered to this area")
    else:
        served = None
        reasons.append("no configuration and no history for this courier here")
    suggestions = [
        Suggestion(other, n, f"delivered {n} parcels to this area")
        for other, n in delivered.most_common()
        if other != code and not unreachable[other]
    ]
    for fallback in UNIVERSAL_FALLBACKS:
        if fallback != code and all(s.courier != fallback for s in suggestions):
            suggestions.append(Suggestion(fallback, delivered[fallback], "China Post network reaches every address"))
    return Coverage(code, geo.area_label(place), served, tuple(reasons), delivered[code], unreachable[code],
                    tuple(suggestions) if served is not True else ())
