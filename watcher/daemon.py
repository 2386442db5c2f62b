"""``parcelwatch run``: APScheduler 3.x as a clock, our tables as the state.

Jobs are rebuilt from settings at start (in-memory job store: never share a
job store between schedulers), each with ``coalesce=True``, ``max_instances=1``
and an explicit ``misfire_grace_time``.  SIGTERM/SIGINT stop taking work, give
the running cycle a bounded grace period, cancel the rest, release leases and
log one summary line.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from carriers.couriers import couriers
from watcher.app import App
from watcher.channels import build_channels
from watcher.dispatcher import Dispatcher
from watcher.followups import plan_daily_follow_ups
from watcher.errors import ConfigError
from watcher.poller import Poller, build_adapter
from watcher.settings import parse_hhmm
from watcher.report.nightly import build_notifier, missed_today, run_nightly
from watcher.store.retention import purge_personal_data

__all__ = ["Worker", "run_daemon"]

T = TypeVar("T")

log = structlog.get_logger("parcelwatch.daemon")

#: seconds a running poll cycle may take to finish after a stop signal
SHUTDOWN_GRACE = 20.0
MISFIRE_GRACE = 30
#: a nightly report an hour late is still worth writing and sending
REPORT_MISFIRE_GRACE = 3600
#: shop time of the daily erasure of expired buyer data: a quiet hour
PURGE_AT = (4, 15)


@dataclass
class Worker:
    app: App
    grace: float = SHUTDOWN_GRACE
    cycles: int = 0
    parcels: int = 0
    errors: int = 0
    notices: int = 0
    exit_code: int = 0
    started_at: datetime | None = None
    #: shielded work a stop signal lets finish within ``grace``: future → event logged if it does not
    _inflight: dict[asyncio.Future[Any], str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.poller = Poller(self.app.db, self.app.settings, registry=self.app.registry, clock=self.app.clock)
        channels = build_channels(self.app.settings, clock=self.app.clock)
        self.dispatcher = Dispatcher(self.app.db, self.app.settings, channels, clock=self.app.clock) if channels else None
        self.stopping = asyncio.Event()
        # retry pauses of the ops message end early on stop: shutdown must not wait minutes for a chat
        self._stopped = threading.Event()
        self.ops = build_notifier(self.app.settings, sleep=self._stopped.wait)

    async def _guarded(self, work: Awaitable[T], failure: str, *, shielded: str | None = None) -> T | None:
        """Run one job's work; None when it failed.  A ConfigError stops the worker; any other error
        is counted and logged as ``failure``.  ``shielded`` (the event logged if it has to be cut
        short): a stop signal lets the work finish within the grace time (see ``_finish_inflight``)."""
        if shielded is not None:
            task = asyncio.ensure_future(work)
            self._inflight[task] = shielded
            task.add_done_callback(lambda done: self._inflight.pop(done, None))
            work = asyncio.shield(task)
        try:
            return await work
        except asyncio.CancelledError:
            raise
        except ConfigError as exc:
            self._stop_on_config_error(exc)
        except Exception:
            self.errors += 1
            log.exception(failure)
        return None

    async def poll_job(self) -> None:
        """Scheduler job: one cycle, shielded so that a stop lets it finish within the grace time."""
        if self.stopping.is_set():
            return
        summary = await self._guarded(self.poller.run_cycle(), "poll.cycle_failed", shielded="worker.cycle_cancelled")
        if summary is not None:
            self.cycles += 1
            self.parcels += summary.total("parcels")

    def _stop_on_config_error(self, exc: ConfigError) -> None:
        """Settings must be fixed: stop (exit code 2) rather than fail every minute."""
        self.errors += 1
        self.exit_code = 2
        log.error("worker.config_error", error=str(exc))
        self.stopping.set()

    def build_scheduler(self) -> AsyncIOScheduler:
        settings = self.app.settings
        scheduler = AsyncIOScheduler(
            timezone=settings.shop.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
        )
        scheduler.add_job(
            self.poll_job,
            IntervalTrigger(seconds=settings.tracking.cycle_seconds, timezone=settings.shop.tz),
            id="poll",
            name="poll due parcels",
            next_run_time=self.app.clock.now(),
        )
        if self.dispatcher is not None:
            scheduler.add_job(
                self.dispatch_job, IntervalTrigger(seconds=settings.notices.dispatch_seconds, timezone=settings.shop.tz),
                id="dispatch", name="send due notices", next_run_time=self.app.clock.now(),
            )
        at = parse_hhmm(settings.notices.follow_up_at)
        scheduler.add_job(
            self.follow_up_job, CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.shop.tz),
            id="follow_up", name="queue daily follow-ups",
        )
        scheduler.add_job(
            self.purge_job, CronTrigger(hour=PURGE_AT[0], minute=PURGE_AT[1], timezone=settings.shop.tz),
            id="purge", name="erase expired buyer data", misfire_grace_time=REPORT_MISFIRE_GRACE,
        )
        if settings.report.at:  # "" switches the nightly report off
            at = parse_hhmm(settings.report.at)
            missed = missed_today(self.app.db, settings, self.app.clock.now())
            catch_up = {"next_run_time": self.app.clock.now()} if missed else {}
            scheduler.add_job(
                self.report_job, CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.shop.tz),
                id="report", name="nightly stall report", misfire_grace_time=REPORT_MISFIRE_GRACE, **catch_up,
            )
        return scheduler

    async def purge_job(self) -> None:
        """Daily: buyer data of parcels finished more than database.retention_days ago is erased."""
        days = self.app.settings.database.retention_days
        if self.stopping.is_set() or days <= 0:
            return
        result = await self._guarded(asyncio.to_thread(
            purge_personal_data, self.app.db, now=self.app.clock.now(), retention_days=days), "privacy.purge_failed")
        if result is not None and (result.parcels or result.notices):
            log.info("privacy.purged", parcels=result.parcels, notices=result.notices, retention_days=days)

    async def report_job(self) -> None:
        """Nightly: dated files in report.output_dir, summary to report.notify (in a thread: apprise blocks)."""
        if self.stopping.is_set():
            return
        await self._guarded(
            asyncio.to_thread(run_nightly, self.app.db, self.app.settings, now=self.app.clock.now(), notifier=self.ops),
            "report.failed", shielded="worker.report_unfinished")

    async def dispatch_job(self) -> None:
        if self.stopping.is_set() or self.dispatcher is None:
            return
        summary = await self._guarded(self.dispatcher.run_once(), "dispatch.pass_failed")
        if summary is not None:
            self.notices += summary.sent

    async def follow_up_job(self) -> None:
        queued = await asyncio.to_thread(plan_daily_follow_ups, self.app.db, self.app.settings, self.app.clock.now())
        if queued:
            log.info("follow_up.queued", notices=queued)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self.started_at = self.app.clock.now()
        scheduler = self.build_scheduler()
        scheduler.start()
        log.info("worker.started", jobs=[job.id for job in scheduler.get_jobs()], owner=self.poller.owner)
        try:
            await self.stopping.wait()
        finally:
            self._stopped.set()
            scheduler.shutdown(wait=False)
            await self._finish_inflight()
            await self.poller.aclose()
            if self.dispatcher is not None:
                await self.dispatcher.aclose()
            uptime = (self.app.clock.now() - self.started_at).total_seconds()
            log.info("worker.stopped", cycles=self.cycles, parcels=self.parcels, notices=self.notices, errors=self.errors,
                     uptime_seconds=round(uptime, 1))

    async def _finish_inflight(self) -> None:
        """Give shielded work (a poll cycle, the nightly report) one grace period, together; then cancel
        what is left (a report's thread still ends before the process does)."""
        pending = [task for task in self._inflight if not task.done()]
        if not pending:
            return
        done, late = await asyncio.wait(pending, timeout=self.grace)
        await asyncio.gather(*done, return_exceptions=True)  # their jobs were cancelled: collect any error here
        for task in late:
            event = self._inflight.get(task, "worker.cycle_cancelled")
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            log.warning(event, grace_seconds=self.grace)


def run_daemon(app: App) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit code."""
    # Fail fast on bad provider settings and an unusable database, before the loop starts.
    for name in {app.settings.provider_for(code) for code in couriers()}:
        build_adapter(app.registry, app.settings, name, clock=app.clock)
    app.db.ensure_schema()

    async def main() -> int:
        worker = Worker(app)
        await worker.run()
        return worker.exit_code

    return asyncio.run(main())
