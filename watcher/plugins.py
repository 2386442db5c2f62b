"""Entry-point discovery shared by carrier adapters and notice channels.

Discovery runs in a function at start-up (never at import time); a plug-in that
fails to load is recorded with its error instead of crashing the daemon.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Generic, TypeVar

import structlog

__all__ = ["Plugins", "load_plugins"]

T = TypeVar("T")
log = structlog.get_logger("parcelwatch.plugins")


@dataclass
class Plugins(Generic[T]):
    classes: dict[str, type[T]] = field(default_factory=dict)
    #: entry-point name -> one-line error (the full traceback is logged)
    failed: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.classes)


def load_plugins(group: str, base: type[T]) -> Plugins[T]:
    found: Plugins[T] = Plugins()
    for ep in entry_points(group=group):
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise TypeError(f"{ep.value} is not a {base.__name__} subclass")
            if getattr(cls, "name", None) != ep.name:
                raise TypeError(f"{ep.value}.name is {getattr(cls, 'name', None)!r}, entry point says {ep.name!r}")
        except Exception as exc:  # a broken plug-in must not take the daemon down
            found.failed[ep.name] = f"{type(exc).__name__}: {exc}"
            log.error("plugin.failed", group=group, plugin=ep.name, error=str(exc), traceback=traceback.format_exc())
            continue
        found.classes[ep.name] = cls
    return found
