"""What one poll cycle did, per provider: counters for logs, the CLI and the poll log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["ProviderStats", "CycleSummary"]


@dataclass
class ProviderStats:
    requests: int = 0
    parcels: int = 0
    answered: int = 0
    updated: int = 0
    new_checkpoints: int = 0
    problems: int = 0
    failed: int = 0
    skipped: int = 0  # provider minimum interval not yet elapsed, or provider paused
    error: str | None = None


@dataclass
class CycleSummary:
    started_at: datetime
    finished_at: datetime | None = None
    providers: dict[str, ProviderStats] = field(default_factory=lambda: defaultdict(ProviderStats))

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.providers.values())

    def as_dict(self) -> dict[str, object]:
        keys = ("parcels", "answered", "updated", "new_checkpoints", "problems", "failed", "skipped", "requests")
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            **{k: self.total(k) for k in keys},
            "providers": {name: vars(stats) for name, stats in sorted(self.providers.items())},
        }
