"""Rules: pure judgement of one parcel (parcel facts + checkpoints + clock + calendar in,
verdict out).  Nothing here reads the clock, the database or the network.

- :mod:`watcher.rules.text`     checkpoint text → event (keyword data in ``keywords.toml``)
- :mod:`watcher.rules.geo`      administrative divisions: is a checkpoint in the buyer's city?
- :mod:`watcher.rules.calendar` holiday and peak-day extensions of thresholds
- :mod:`watcher.rules.evaluate` the verdict: status, flags with reasons, milestones
"""

from watcher.rules.evaluate import FLAGS, Flag, Milestones, ParcelFacts, Verdict, evaluate

__all__ = ["FLAGS", "Flag", "Milestones", "ParcelFacts", "Verdict", "evaluate"]
