"""Answers and failures turned into row updates: the verdict, flags and their history,
the next poll time.  Pure apart from logging each state change once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import structlog

from carriers.base import CarrierAdapter, ProblemKind, TrackingResult
from watcher.poller.summary import ProviderStats
from watcher.planner import plan_notices
from watcher.rules import ParcelFacts, Verdict, evaluate
from watcher.rules.calendar import HolidayCalendar, PeakPeriod
from watcher.settings import Settings
from watcher.store.polling import ClaimedParcel, ParcelUpdate, flags_value

__all__ = ["Updates"]

log = structlog.get_logger("parcelwatch.poller")

#: statuses of a parcel the provider has never reported on
_NOTHING_YET = {"pending", "info_received", "unknown"}

#: problems that will not go away by asking again soon: poll these far less often
_SLOW_PROBLEMS = {ProblemKind.INVALID_NUMBER, ProblemKind.UNSUPPORTED_COURIER}



class Updates:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        detection = settings.detection
        self.calendar = HolidayCalendar(
            settings.shop.tz, [PeakPeriod.parse(p) for p in detection.peaks], holidays=detection.holidays
        )

    def interval(self, adapter: CarrierAdapter, *, slow: bool = False) -> timedelta:
        base = timedelta(minutes=self.settings.tracking.poll_minutes * (12 if slow else 1))
        return max(base, adapter.min_interval)

    def answer(
        self, parcel: ClaimedParcel, result: TrackingResult, name: str, now: datetime,
        adapter: CarrierAdapter, stats: ProviderStats,
    ) -> ParcelUpdate:
        stats.answered += 1
        tracking = result.tracking
        values: dict[str, object] = {
            "provider": name, "problem": None, "last_queried_at": now, "last_polled_at": now,
            "poll_failures": 0, "last_poll_error": None,
        }
        slow = False
        if tracking is None:
            assert result.problem is not None
            stats.problems += 1
            slow = result.problem.kind in _SLOW_PROBLEMS
            values["problem"] = f"{result.problem.kind.value}: {result.problem.message}"[:200]
            if parcel.status not in _NOTHING_YET:
                # The provider forgot a parcel it once tracked: keep what we know.
                values["next_poll_at"] = now + self.interval(adapter, slow=slow)
                return ParcelUpdate(parcel.id, values, provider=name)
        else:
            values["provider_state"] = tracking.raw_status[:32] or None
        facts = ParcelFacts(
            courier=parcel.courier, tracking_number=parcel.tracking_number, status=parcel.status,
            shipped_at=parcel.shipped_at, created_at=parcel.created_at, province=parcel.province,
            city=parcel.city, district=parcel.district,
        )
        verdict = evaluate(facts, tracking, now, self.calendar, self.settings.detection)
        values["next_poll_at"] = None if verdict.terminal else now + self.interval(adapter, slow=slow)
        last = verdict.last_checkpoint
        if last is not None:
            values.update(
                last_checkpoint_at=last.time, last_checkpoint_text=last.text,
                last_checkpoint_location=last.location[:200] or None,
            )
        values.update(collected_at=verdict.milestones.collected_at, delivered_at=verdict.milestones.delivered_at)
        if verdict.status.value != parcel.status:
            values.update(status=verdict.status.value, status_changed_at=now)
            stats.updated += 1
            log.info(
                "parcel.status_changed", parcel=parcel.tracking_number, courier=parcel.courier,
                provider=name, old=parcel.status, new=verdict.status.value,
            )
        update = ParcelUpdate(parcel.id, values, checkpoints=tracking.checkpoints if tracking else (), provider=name)
        self._record_flags(parcel, verdict, now, update)
        update.notices = [(n.kind, n.idempotency_key, n.reason) for n in plan_notices(parcel.id, verdict, self.settings.notices)]
        return update

    def _record_flags(self, parcel: ClaimedParcel, verdict: Verdict, now: datetime, update: ParcelUpdate) -> None:
        """Flags on the row, the verdict as JSON, and flag history: raised, cleared, escalated."""
        new = {flag.name: flag for flag in verdict.flags}
        old = set(parcel.flag_list())
        update.values["flags"] = flags_value(new)
        update.values["verdict"] = json.dumps(verdict.as_dict(now), ensure_ascii=False)
        update.raised = [
            {"flag": f.name, "code": f.code, "reason": f.reason, "since": f.since, "level": f.level}
            for name, f in new.items() if name not in old
        ]
        update.cleared = sorted(old - new.keys())
        update.levels = {name: f.level for name, f in new.items() if name in old and f.level}
        for row in update.raised:
            log.info("parcel.flagged", parcel=parcel.tracking_number, courier=parcel.courier,
                     flag=row["flag"], code=row["code"], level=row["level"])
        for name in update.cleared:
            log.info("parcel.unflagged", parcel=parcel.tracking_number, courier=parcel.courier, flag=name)

    def problem(
        self, parcel: ClaimedParcel, name: str, text: str, now: datetime, *, slow: bool, adapter: CarrierAdapter,
    ) -> ParcelUpdate:
        """The provider cannot track this number (unsupported courier …): ask again much later."""
        interval = self.interval(adapter, slow=slow)
        return ParcelUpdate(
            parcel.id,
            {
                "problem": text[:200], "provider": name, "last_queried_at": now, "last_polled_at": now,
                "poll_failures": 0, "last_poll_error": None, "next_poll_at": now + interval,
            },
        )

    def failure(self, parcel: ClaimedParcel, error: str, now: datetime, adapter: CarrierAdapter) -> ParcelUpdate:
        """We could not ask: record it, retry later with backoff; never touch last_polled_at."""
        failures = parcel.poll_failures + 1
        backoff = timedelta(minutes=min(self.settings.tracking.poll_minutes, 5 * 2 ** min(failures - 1, 10)))
        return ParcelUpdate(
            parcel.id,
            {
                "last_queried_at": now, "poll_failures": failures, "last_poll_error": error[:300],
                "next_poll_at": now + max(backoff, adapter.min_interval),
            },
        )
