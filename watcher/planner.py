"""Planner: verdicts → buyer notices, and when they may be sent.  Pure functions.

Every planned notice carries an idempotency key that names the parcel, the kind
and the episode, so re-polling, restarts and several processes can plan the same
notice any number of times and the outbox (unique key) keeps one row.

Milestone notices are sent only while their milestone is the parcel's current
one: a later checkpoint supersedes them.  A parcel first seen in the buyer's city
gets no ``dispatch``; a parcel first seen delivered gets neither; a parcel flagged
``unreachable`` gets no ``arrived_city``.

| kind           | planned when                                              | key (one per …)          |
| -------------- | --------------------------------------------------------- | ------------------------ |
| ``dispatch``    | collected and still in transit, no problem flag           | parcel                   |
| ``arrived_city``| in the buyer's city, not delivered nor at a pickup point, not unreachable | parcel   |
| ``delay``       | flagged ``stalled``                                       | stall episode            |
| ``unreachable`` | flagged ``unreachable``                                   | unreachable episode      |
| ``follow_up``   | daily at ``notices.follow_up_at`` while a stall, unreachable or exception case stays open, at most ``follow_up_max`` | case and day |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from watcher.rules import Verdict
from watcher.settings import NoticesSettings, parse_hhmm

__all__ = ["PlannedNotice", "plan_notices", "plan_follow_up", "quiet_until", "next_day_start", "FOLLOW_UP_FLAGS"]

#: open cases that get a daily follow-up
FOLLOW_UP_FLAGS = ("stalled", "unreachable", "exception")
_NO_MILESTONES = {"exception", "unreachable"}


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    kind: str
    idempotency_key: str
    reason: str


def plan_notices(parcel_id: int, verdict: Verdict, settings: NoticesSettings) -> list[PlannedNotice]:
    """Notices the current verdict calls for (the outbox drops ones already planned)."""
    flags = {flag.name: flag for flag in verdict.flags}
    planned: list[PlannedNotice] = []
    if verdict.stage == "transit" and not (_NO_MILESTONES & flags.keys()):
        planned.append(PlannedNotice("dispatch", f"dispatch:{parcel_id}", "collected by the courier"))
    if verdict.stage == "city" and "unreachable" not in flags:
        planned.append(PlannedNotice("arrived_city", f"arrived_city:{parcel_id}", "arrived in the buyer's city"))
    if "stalled" in flags:
        since = flags["stalled"].since.isoformat()
        planned.append(PlannedNotice("delay", f"delay:{parcel_id}:{since}", flags["stalled"].reason))
    if "unreachable" in flags:
        since = flags["unreachable"].since.isoformat()
        planned.append(PlannedNotice("unreachable", f"unreachable:{parcel_id}:{since}", flags["unreachable"].reason))
    return [p for p in planned if p.kind in settings.kinds]


def plan_follow_up(
    parcel_id: int, verdict: Verdict, *, sent_for_case: int, today: date, settings: NoticesSettings
) -> PlannedNotice | None:
    """Today's follow-up for an open case, if one is due (the caller runs this at ``follow_up_at``)."""
    if "follow_up" not in settings.kinds or sent_for_case >= settings.follow_up_max:
        return None
    case = next((f for f in verdict.flags if f.name in FOLLOW_UP_FLAGS), None)
    if case is None:
        return None
    key = f"follow_up:{parcel_id}:{case.since.isoformat()}:{today.isoformat()}"
    return PlannedNotice("follow_up", key, f"{case.name} case still open: {case.reason}")


def _window(quiet_hours: str) -> tuple[time, time] | None:
    if not quiet_hours:
        return None
    start, end = (parse_hhmm(part) for part in quiet_hours.split("-"))
    return start, end


def quiet_until(now: datetime, quiet_hours: str, tz: ZoneInfo) -> datetime | None:
    """End of the quiet window ``now`` falls in (aware, UTC), or ``None`` when sending is allowed.

    ``"21:00-08:00"`` spans midnight; ``""`` disables quiet hours.  Deferred, never dropped.
    """
    window = _window(quiet_hours)
    if window is None:
        return None
    start, end = window
    local = now.astimezone(tz)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)


def next_day_start(now: datetime, quiet_hours: str, tz: ZoneInfo) -> datetime:
    """When tomorrow's sending may begin: the end of the quiet window, or local midnight."""
    local = now.astimezone(tz)
    window = _window(quiet_hours)
    start_of_sending = window[1] if window else time(0, 0)
    return datetime.combine(local.date() + timedelta(days=1), start_of_sending, tzinfo=tz).astimezone(now.tzinfo)
