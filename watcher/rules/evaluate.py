"""The verdict on one parcel: normalized status, flags with reasons, milestones.

``evaluate(parcel, tracking, now, calendar, settings)`` is pure: it reads no clock,
database or network.  It is called only when a provider *answered* (possibly
"nothing yet"), so ``now`` is the time of that answer: a provider outage never
makes a parcel look stalled.

How a parcel is judged, newest checkpoint first:

1. Each checkpoint becomes an :class:`~watcher.rules.text.Event` from its text,
   falling back to the provider's per-checkpoint status when the text says
   nothing specific.
2. Problems (refused, damaged, address problem, out of area, lost, returned)
   raise ``exception`` or ``unreachable`` unless the parcel has since moved past
   them (a failed delivery followed by delivery is history, not a flag).  One
   problem episode gets one flag, named by its cause: an out-of-area parcel
   sent back to the shop is ``unreachable``; a refused one is ``exception``.
3. Otherwise a parcel never scanned by the courier is ``not_collected`` after
   ``not_collected_hours``; a moving parcel is ``stalled`` when its last
   checkpoint is older than the threshold of its stage (transit, or in the
   buyer's city / out for delivery).  A parcel at a pickup point is never
   stalled.  Remote destinations get extra time; hours on official holidays and
   peak sale days extend every threshold.  A stall past ``lost_after_days``
   escalates to level 2 ("probably lost: open a claim") and stays ``stalled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from carriers.base import TERMINAL_STATUSES, Checkpoint, Status, Tracking
from watcher.rules import geo
from watcher.rules.calendar import HolidayCalendar
from watcher.rules.text import Event, classify
from watcher.settings import DetectionSettings

__all__ = ["ParcelFacts", "Flag", "Milestones", "Verdict", "evaluate", "FLAGS"]

FLAGS = ("stalled", "unreachable", "exception", "not_collected")

_PROBLEMS = {
    Event.REFUSED: ("exception", "refused"),
    Event.DAMAGED: ("exception", "damaged"),
    Event.ADDRESS_PROBLEM: ("exception", "address_problem"),
    Event.LOST: ("exception", "lost"),
    Event.RETURNING: ("exception", "returned_to_sender"),
    Event.RETURNED: ("exception", "returned_to_sender"),
    Event.UNREACHABLE: ("unreachable", "out_of_area"),
}
#: the parcel is on its way back: later scans belong to the return, not to progress
_RETURN_FAMILY = {Event.REFUSED, Event.RETURNING, Event.RETURNED}
#: a later checkpoint of these kinds means the parcel moved past an earlier problem
_PROGRESS = {Event.COLLECTED, Event.TRANSIT, Event.OUT_FOR_DELIVERY, Event.PICKUP_POINT, Event.DELIVERED,
             Event.CUSTOMS}
_CITY_EVENTS = {Event.OUT_FOR_DELIVERY, Event.FAILED_ATTEMPT}

_FROM_STATUS = {
    Status.INFO_RECEIVED: Event.INFO,
    Status.COLLECTED: Event.COLLECTED,
    Status.IN_TRANSIT: Event.TRANSIT,
    Status.ARRIVED_DESTINATION_CITY: Event.TRANSIT,
    Status.OUT_FOR_DELIVERY: Event.OUT_FOR_DELIVERY,
    Status.AVAILABLE_FOR_PICKUP: Event.PICKUP_POINT,
    Status.DELIVERED: Event.DELIVERED,
    Status.FAILED_ATTEMPT: Event.FAILED_ATTEMPT,
    Status.RETURNING: Event.RETURNING,
    Status.RETURNED: Event.RETURNED,
}
_TO_STATUS = {
    Event.INFO: Status.INFO_RECEIVED,
    Event.COLLECTED: Status.COLLECTED,
    Event.TRANSIT: Status.IN_TRANSIT,
    Event.CUSTOMS: Status.IN_TRANSIT,
    Event.DELAYED: Status.IN_TRANSIT,
    Event.OUT_FOR_DELIVERY: Status.OUT_FOR_DELIVERY,
    Event.PICKUP_POINT: Status.AVAILABLE_FOR_PICKUP,
    Event.DELIVERED: Status.DELIVERED,
    Event.FAILED_ATTEMPT: Status.FAILED_ATTEMPT,
    Event.REFUSED: Status.EXCEPTION,
    Event.DAMAGED: Status.EXCEPTION,
    Event.ADDRESS_PROBLEM: Status.EXCEPTION,
    Event.UNREACHABLE: Status.EXCEPTION,
    Event.LOST: Status.EXCEPTION,
    Event.RETURNING: Status.RETURNING,
    Event.RETURNED: Status.RETURNED,
}
#: statuses at which a parcel is in (or past) the buyer's city
_CITY_STATUSES = {Status.ARRIVED_DESTINATION_CITY, Status.OUT_FOR_DELIVERY, Status.FAILED_ATTEMPT}


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    """What the rules may know about a parcel besides its checkpoints."""

    courier: str
    tracking_number: str
    status: str = Status.PENDING.value
    shipped_at: datetime | None = None
    created_at: datetime | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None


@dataclass(frozen=True, slots=True)
class Flag:
    name: str  # one of FLAGS
    code: str  # why, machine-readable: refused, out_of_area, transit_stall, city_stall, no_collection_scan …
    reason: str  # why, for people (the checkpoint text, or the stall arithmetic)
    since: datetime  # when the condition started
    hours: float | None = None  # hours since the last movement (stalls, not_collected)
    threshold_hours: float | None = None  # threshold applied, extensions included
    extended_hours: float = 0.0  # of which holidays, peak days and remote destination
    extended_by: tuple[str, ...] = ()
    level: int = 0  # stalls: 1 contact the courier, 2 probably lost (claim)

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "flag": self.name, "code": self.code, "reason": self.reason, "since": self.since.isoformat(),
            "hours": rounded(self.hours), "threshold_hours": rounded(self.threshold_hours),
            "extended_hours": rounded(self.extended_hours), "extended_by": list(self.extended_by),
            "level": self.level,
        }


@dataclass(frozen=True, slots=True)
class Milestones:
    collected_at: datetime | None = None
    arrived_city_at: datetime | None = None
    out_for_delivery_at: datetime | None = None
    pickup_point_at: datetime | None = None
    delivered_at: datetime | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {name: (getattr(self, name).isoformat() if getattr(self, name) else None) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    terminal: bool
    last_checkpoint: Checkpoint | None
    flags: tuple[Flag, ...] = ()
    milestones: Milestones = field(default_factory=Milestones)
    stage: str = "pre_collection"
    remote: bool = False

    @property
    def flag_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.flags)

    def as_dict(self, evaluated_at: datetime) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "stage": self.stage,
            "remote": self.remote,
            "evaluated_at": evaluated_at.isoformat(),
            "flags": [f.as_dict() for f in self.flags],
            "milestones": self.milestones.as_dict(),
        }


_GENERIC = {Event.UNKNOWN, Event.TRANSIT, Event.INFO}


def _event(cp: Checkpoint) -> Event:
    """The text decides; when it says nothing specific, the provider's label for its code
    (Kuaidi100 "超区", "拒收" …), then its normalized per-checkpoint status."""
    event = classify(cp.text)
    if event in _GENERIC and cp.label:
        labelled = classify(cp.label)
        if labelled not in _GENERIC:
            return labelled
    if event is Event.UNKNOWN or (event is Event.TRANSIT and cp.status not in (None, Status.IN_TRANSIT)):
        from_status = _FROM_STATUS.get(cp.status) if cp.status is not None else None
        if from_status is not None:
            return from_status
    return event


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def evaluate(
    parcel: ParcelFacts,
    tracking: Tracking | None,
    now: datetime,
    calendar: HolidayCalendar | None = None,
    settings: DetectionSettings | None = None,
) -> Verdict:
    """Judge ``parcel`` from the provider's latest answer (``None``: nothing known yet)."""
    settings = settings or DetectionSettings()
    place = geo.resolve_place(parcel.province, parcel.city, parcel.district)
    remote = place is not None and geo.is_remote(place)
    checkpoints = tuple(sorted(tracking.checkpoints, key=lambda c: c.time, reverse=True)) if tracking else ()
    events = [_event(cp) for cp in checkpoints]
    in_city = [place is not None and geo.in_city(place, cp.text, cp.location) for cp in checkpoints]

    status = _status(tracking, checkpoints, events, in_city)
    milestones = _milestones(checkpoints, events, in_city)
    last = checkpoints[0] if checkpoints else None
    terminal = status in TERMINAL_STATUSES
    problem = _open_problem(checkpoints, events, tracking)

    flags: list[Flag] = []
    stage = _stage(status, events, in_city)
    if status is Status.DELIVERED:
        pass  # delivered: nothing for ops to look at
    elif problem is not None:
        flags.append(problem)
    elif stage == "pre_collection":
        flags.extend(_not_collected(parcel, now, calendar, settings, remote))
    elif stage in ("transit", "city"):
        flags.extend(_stalled(checkpoints[0], stage, now, calendar, settings, remote))
    return Verdict(status, terminal, last, tuple(flags), milestones, stage, remote)


def _status(tracking: Tracking | None, checkpoints: tuple[Checkpoint, ...], events: list[Event],
            in_city: list[bool]) -> Status:
    if tracking is None or not checkpoints:
        status = tracking.status if tracking is not None else Status.PENDING
        return Status.UNKNOWN if status in TERMINAL_STATUSES else status  # a terminal state with no trace
    provider = tracking.status
    latest = _TO_STATUS.get(events[0])
    if provider is Status.DELIVERED and latest is not Status.RETURNED:
        return provider  # the provider's signed-for state is authoritative
    if latest is None:
        return provider if provider is not Status.UNKNOWN else (checkpoints[0].status or Status.UNKNOWN)
    if latest is Status.IN_TRANSIT and (in_city[0] or provider is Status.ARRIVED_DESTINATION_CITY):
        return Status.ARRIVED_DESTINATION_CITY
    return latest


def _milestones(checkpoints: tuple[Checkpoint, ...], events: list[Event], in_city: list[bool]) -> Milestones:
    first: dict[str, datetime] = {}
    for cp, event, city in zip(reversed(checkpoints), reversed(events), reversed(in_city)):  # oldest first
        if event in (Event.COLLECTED, Event.TRANSIT) or event in _CITY_EVENTS or event is Event.DELIVERED:
            first.setdefault("collected_at", cp.time)
        if city or event in _CITY_EVENTS or cp.status is Status.ARRIVED_DESTINATION_CITY:
            first.setdefault("arrived_city_at", cp.time)
        if event is Event.OUT_FOR_DELIVERY:
            first.setdefault("out_for_delivery_at", cp.time)
        if event is Event.PICKUP_POINT:
            first.setdefault("pickup_point_at", cp.time)
        if event is Event.DELIVERED:
            first.setdefault("delivered_at", cp.time)
    return Milestones(**first)


def _open_problem(checkpoints: tuple[Checkpoint, ...], events: list[Event], tracking: Tracking | None) -> Flag | None:
    """The problem the parcel has not moved past, named by its cause; ``None`` if none."""
    moved_on = False  # a progress event newer than the one being looked at
    found: tuple[int, Event] | None = None
    for i, event in enumerate(events):  # newest first
        if event in _PROBLEMS:
            if event in _RETURN_FAMILY or not moved_on:
                found = (i, event)
                break
        if event in _PROGRESS and event is not Event.CUSTOMS:
            moved_on = True
            if event is Event.DELIVERED:
                return None
    if found is None:
        if tracking is not None and tracking.status is Status.EXCEPTION and checkpoints and not moved_on:
            cp = checkpoints[0]
            return Flag("exception", "carrier_exception", cp.text, cp.time)
        return None
    index, event = found
    if event in _RETURN_FAMILY:
        # Look further back in the same episode for its cause (out of area → sent back).
        for older, cause in zip(range(index + 1, len(events)), events[index + 1 :]):
            if cause in _PROGRESS and cause is not Event.CUSTOMS:
                break
            if cause in _PROBLEMS and cause not in _RETURN_FAMILY:
                index, event = older, cause
                break
            if cause is Event.REFUSED:
                index, event = older, cause
    name, code = _PROBLEMS[event]
    cp = checkpoints[index]
    return Flag(name, code, cp.text, cp.time)


def _stage(status: Status, events: list[Event], in_city: list[bool]) -> str:
    if status is Status.DELIVERED:
        return "delivered"
    if status is Status.RETURNED:
        return "returned"
    if all(e is Event.INFO for e in events):  # order data only: the courier has not scanned it
        return "pre_collection"
    if not events:
        return "pre_collection"
    if events[0] is Event.PICKUP_POINT or status is Status.AVAILABLE_FOR_PICKUP:
        return "pickup"
    if status in _CITY_STATUSES or events[0] in _CITY_EVENTS or in_city[0]:
        return "city"
    return "transit"


def _extension(start: datetime, now: datetime, calendar: HolidayCalendar | None, remote: bool,
               settings: DetectionSettings) -> tuple[float, tuple[str, ...]]:
    hours, reasons = 0.0, []
    if calendar is not None:
        ext = calendar.extension(start, now)
        hours += ext.hours
        reasons.extend(ext.reasons)
    if remote and settings.remote_extra_hours:
        hours += settings.remote_extra_hours
        reasons.append("remote destination")
    return hours, tuple(reasons)


def _not_collected(parcel: ParcelFacts, now: datetime, calendar: HolidayCalendar | None,
                   settings: DetectionSettings, remote: bool) -> list[Flag]:
    start = parcel.shipped_at or parcel.created_at
    if start is None or start >= now:
        return []
    extra, why = _extension(start, now, calendar, False, settings)  # remoteness does not delay a pick-up
    threshold = settings.not_collected_hours + extra
    hours = _hours(now - start)
    if hours <= threshold:
        return []
    reason = f"no collection scan {hours:.0f} h after shipping (threshold {threshold:.0f} h)"
    return [Flag("not_collected", "no_collection_scan", reason, start, hours, threshold, extra, why)]


def _stalled(last: Checkpoint, stage: str, now: datetime, calendar: HolidayCalendar | None,
             settings: DetectionSettings, remote: bool) -> list[Flag]:
    hours = _hours(now - last.time)
    base = settings.city_hours if stage == "city" else settings.transit_hours
    extra, why = _extension(last.time, now, calendar, remote, settings)
    threshold = base + extra
    if hours <= threshold:
        return []
    lost = hours > settings.lost_after_days * 24 + extra
    where = "in the buyer's city" if stage == "city" else "in transit"
    action = "probably lost: open a claim" if lost else "contact the courier's outlet"
    reason = f"no new scan for {hours:.0f} h {where} (threshold {threshold:.0f} h): {action}"
    code = "city_stall" if stage == "city" else "transit_stall"
    return [Flag("stalled", code, reason, last.time, hours, threshold, extra, why, level=2 if lost else 1)]
