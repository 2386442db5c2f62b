"""Discovery of carrier adapters through the ``parcelwatch.carriers`` entry points.

Discovery runs in a function at start-up (never at import time); a plug-in that
fails to load is recorded with its error instead of crashing the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from carriers.base import CarrierAdapter
from watcher.plugins import load_plugins

__all__ = ["GROUP", "Registry", "discover"]

GROUP = "parcelwatch.carriers"


@dataclass
class Registry:
    adapters: dict[str, type[CarrierAdapter]] = field(default_factory=dict)
    #: entry-point name -> one-line error (full traceback is logged)
    failed: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> type[CarrierAdapter]:
        return self.adapters[name]

    def names(self) -> list[str]:
        return sorted(self.adapters)


def discover(group: str = GROUP) -> Registry:
    plugins = load_plugins(group, CarrierAdapter)
    return Registry(adapters=plugins.classes, failed=plugins.failed)
