"""The worker's job guard: errors counted, a ConfigError stops it, shielded work gets one grace period."""

from __future__ import annotations

import asyncio
from pathlib import Path

from structlog.testing import capture_logs

from tests.support import T0, make_settings
from watcher.app import App
from watcher.clock import ManualClock
from watcher.daemon import Worker
from watcher.errors import ConfigError


def worker(tmp_path: Path) -> Worker:
    return Worker(App(make_settings(database={"url": f"sqlite:///{tmp_path / 'w.db'}"}), clock=ManualClock(T0)))


def test_errors_are_counted_and_a_config_error_stops_the_worker(tmp_path: Path) -> None:
    w = worker(tmp_path)

    async def boom(exc: Exception) -> None:
        raise exc

    async def go() -> list[object]:
        return [await w._guarded(boom(RuntimeError("bug")), "job.failed"),
                await w._guarded(boom(ConfigError("providers.kuaidi100.key: missing")), "job.failed")]

    with capture_logs() as logs:
        assert asyncio.run(go()) == [None, None]
    assert [e["event"] for e in logs] == ["job.failed", "worker.config_error"]
    assert (w.errors, w.exit_code, w.stopping.is_set()) == (2, 2, True)
    w.app.close()


def test_shielded_work_gets_one_grace_period_then_is_cut_short(tmp_path: Path) -> None:
    w = worker(tmp_path)
    w.grace = 0.05

    async def go() -> list[str]:
        never = asyncio.Event()
        finished: list[str] = []

        async def stuck() -> None:
            await never.wait()

        async def quick() -> None:
            await asyncio.sleep(0)
            finished.append("report")

        jobs = [asyncio.ensure_future(w._guarded(stuck(), "poll.failed", shielded="worker.cycle_cancelled")),
                asyncio.ensure_future(w._guarded(quick(), "report.failed", shielded="worker.report_unfinished"))]
        await asyncio.sleep(0)
        for job in jobs:  # what the scheduler's shutdown does to running jobs
            job.cancel()
        await w._finish_inflight()
        assert w._inflight == {}
        return finished

    with capture_logs() as logs:
        assert asyncio.run(go()) == ["report"]  # the shielded report still finished
    assert [e["event"] for e in logs] == ["worker.cycle_cancelled"]
    w.app.close()
