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
from dataclasses import dataclass, field
from datetime import datetime

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
from watcher.report.nightly import build_notifier, missed_today, run_nightly
from watcher.store.retention import purge_personal_data

__all__ = ["Worker", "run_daemon"]

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
    _current: asyncio.Task[object] | None = field(default=None, repr=False)
    _report: asyncio.Future[object] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.poller = Poller(self.app.db, self.app.settings, registry=self.app.registry, clock=self.app.clock)
        channels = build_channels(self.app.settings, clock=self.app.clock)
        self.dispatcher = Dispatcher(self.app.db, self.app.settings, channels, clock=self.app.clock) if channels else None
        self.stopping = asyncio.Event()
        # retry pauses of the ops message end early on stop: shutdown must not wait minutes for a chat
        self._stopped = threading.Event()
        self.ops = build_notifier(self.app.settings, sleep=self._stopped.wait)

    async def poll_job(self) -> None:
        """Scheduler job: one cycle, shielded so that a stop lets it finish within the grace time."""
        if self.stopping.is_set():
            return
        self._current = asyncio.ensure_future(self.poller.run_cycle())
        try:
            summary = await asyncio.shield(self._current)
        except asyncio.CancelledError:
            raise
        except ConfigError as exc:
            self._stop_on_config_error(exc)
            return
        except Exception:
            self.errors += 1
            log.exception("poll.cycle_failed")
            return
        finally:
            if self._current is not None and self._current.done():
                self._current = None
        self.cycles += 1
        self.parcels += summary.total("parcels")  # type: ignore[attr-defined]

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
        hour, minute = (int(x) for x in settings.notices.follow_up_at.split(":"))
        scheduler.add_job(
            self.follow_up_job, CronTrigger(hour=hour, minute=minute, timezone=settings.shop.tz),
            id="follow_up", name="queue daily follow-ups",
        )
        scheduler.add_job(
            self.purge_job, CronTrigger(hour=PURGE_AT[0], minute=PURGE_AT[1], timezone=settings.shop.tz),
            id="purge", name="erase expired buyer data", misfire_grace_time=REPORT_MISFIRE_GRACE,
        )
        if settings.report.at:  # "" switches the nightly report off
            hour, minute = (int(x) for x in settings.report.at.split(":"))
            missed = missed_today(self.app.db, settings, self.app.clock.now())
            catch_up = {"next_run_time": self.app.clock.now()} if missed else {}
            scheduler.add_job(
                self.report_job, CronTrigger(hour=hour, minute=minute, timezone=settings.shop.tz),
                id="report", name="nightly stall report", misfire_grace_time=REPORT_MISFIRE_GRACE, **catch_up,
            )
        return scheduler

    async def purge_job(self) -> None:
        """Daily: buyer data of parcels finished more than database.retention_days ago is erased."""
        days = self.app.settings.database.retention_days
        if self.stopping.is_set() or days <= 0:
            return
        try:
            result = await asyncio.to_thread(purge_personal_data, self.app.db, now=self.app.clock.now(),
                                             retention_days=days)
        except Exception:
            self.errors += 1
            log.exception("privacy.purge_failed")
            return
        if result.parcels or result.notices:
            log.info("privacy.purged", parcels=result.parcels, notices=result.notices, retention_days=days)

    async def report_job(self) -> None:
        """Nightly: dated files in report.output_dir, summary to report.notify (in a thread: apprise blocks)."""
        if self.stopping.is_set():
            return
        # shielded like a poll cycle: a stop signal lets the report finish (see _finish_current)
        self._report = asyncio.ensure_future(asyncio.to_thread(
            run_nightly, self.app.db, self.app.settings, now=self.app.clock.now(), notifier=self.ops))
        try:
            await asyncio.shield(self._report)
        except asyncio.CancelledError:
            raise
        except ConfigError as exc:
            self._stop_on_config_error(exc)
        except Exception:
            self.errors += 1
            log.exception("report.failed")

    async def dispatch_job(self) -> None:
        if self.stopping.is_set() or self.dispatcher is None:
            return
        try:
            summary = await self.dispatcher.run_once()
        except ConfigError as exc:
            self._stop_on_config_error(exc)
            return
        except Exception:
            self.errors += 1
            log.exception("dispatch.pass_failed")
            return
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
            await self._finish_current()
            await self.poller.aclose()
            if self.dispatcher is not None:
                await self.dispatcher.aclose()
            uptime = (self.app.clock.now() - self.started_at).total_seconds()
            log.info("worker.stopped", cycles=self.cycles, parcels=self.parcels, notices=self.notices, errors=self.errors,
                     uptime_seconds=round(uptime, 1))

    async def _finish_current(self) -> None:
        report = self._report
        if report is not None and not report.done():
            # a thread cannot be cancelled; the ops retry pauses end at once on stop
            try:
                await asyncio.wait_for(asyncio.shield(report), timeout=self.grace)
            except Exception:
                log.warning("worker.report_unfinished", grace_seconds=self.grace)
        current = self._current
        if current is None or current.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(current), timeout=self.grace)
        except asyncio.TimeoutError:
            current.cancel()
            try:
                await current
            except (asyncio.CancelledError, Exception):
                pass
            log.warning("worker.cycle_cancelled", grace_seconds=self.grace)
        except Exception:
            pass


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
