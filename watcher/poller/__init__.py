"""The poller: claims due parcels, asks their tracking providers, stores what changed."""

from watcher.poller.cycle import CycleSummary, Poller, ProviderStats, build_adapter

__all__ = ["Poller", "CycleSummary", "ProviderStats", "build_adapter"]
