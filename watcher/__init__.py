"""parcelwatch daemon: settings, store, poller, rules, scheduling and the CLI."""

__version__ = "0.1.0"
