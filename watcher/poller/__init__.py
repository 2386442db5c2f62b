"""The poller: claims due parcels, asks their tracking providers, stores what changed.

- :mod:`watcher.poller.cycle`   one poll cycle (claim, ask, write) and the Poller
- :mod:`watcher.poller.updates` answers and failures turned into row updates and flags
- :mod:`watcher.poller.summary` per-provider counters of a cycle
- :mod:`watcher.poller.health`, :mod:`watcher.poller.limiter` provider health and pacing
"""

from watcher.poller.cycle import Poller, build_adapter
from watcher.poller.summary import CycleSummary, ProviderStats

__all__ = ["Poller", "CycleSummary", "ProviderStats", "build_adapter"]
