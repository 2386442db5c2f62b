"""Discovery of carrier adapters through the ``parcelwatch.carriers`` entry points.

Discovery runs in a function at start-up (never at import time); a plug-in that
fails to load is recorded with its error instead of crashing the daemon.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import structlog

from carriers.base import CarrierAdapter

__all__ = ["GROUP", "Registry", "discover"]

GROUP = "parcelwatch.carriers"
log = structlog.get_logger("parcelwatch.carriers")


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
    registry = Registry()
    for ep in entry_points(group=group):
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, CarrierAdapter)):
                raise TypeError(f"{ep.value} is not a CarrierAdapter subclass")
            if getattr(cls, "name", None) != ep.name:
                raise TypeError(f"{ep.value}.name is {getattr(cls, 'name', None)!r}, entry point says {ep.name!r}")
        except Exception as exc:  # a broken plug-in must not take the daemon down
            registry.failed[ep.name] = f"{type(exc).__name__}: {exc}"
            log.error("carrier.plugin_failed", plugin=ep.name, error=str(exc), traceback=traceback.format_exc())
            continue
        registry.adapters[ep.name] = cls
    return registry
