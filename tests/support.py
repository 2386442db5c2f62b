"""Helpers shared by tests (import as ``tests.support``)."""

from __future__ import annotations

from datetime import datetime, timezone

from watcher.settings import Settings, load_settings

T0 = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


def make_settings(**sections: object) -> Settings:
    """Settings from built-in defaults plus ``sections``; no file, no environment."""
    return load_settings(None, environ={}, overrides=sections)


def scheduled_jobs(worker: object) -> dict[str, object]:
    """The jobs ``parcelwatch run`` would schedule for ``worker`` (a watcher.daemon.Worker), by id,
    with their next run times computed; nothing runs."""
    import asyncio

    async def jobs() -> dict[str, object]:
        scheduler = worker.build_scheduler()  # type: ignore[attr-defined]
        scheduler.start(paused=True)
        try:
            return {job.id: job for job in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=False)

    return asyncio.run(jobs())
