"""The simulated tracking provider: realistic Chinese courier traces, no network.

For the demo, benchmarks and tests.  Every number follows a *scenario* (normal
delivery, stall in transit, outside the delivery area, refused …) picked by a
stable hash of ``(seed, number)``, by ``settings.scenarios``, or by the number
itself: ``SIM-<SCENARIO>-<anything>`` (``SIM-STALL_TRANSIT-YT0002``).  The whole
trace is a pure function of (seed, courier, number, shipped_at or epoch,
destination); :meth:`SimulatedCarrier.track` reveals the checkpoints whose time
is not after ``clock.now()``, so advancing a ``ManualClock`` plays the journey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import Field, field_validator

from carriers.base import (
    AdapterSettings,
    CarrierAdapter,
    Checkpoint,
    Problem,
    ProblemKind,
    Tracking,
    TrackingQuery,
    TrackingResult,
)
from carriers.simulated.scenarios import (
    SCENARIO_TABLE,
    SCENARIOS,
    SHOP_TZ,
    Place,
    build_trace,
    is_remote,
    resolve_destination,
    stable_unit,
)
from watcher.clock import utc
from watcher.errors import ProviderTransient

__all__ = [
    "SimulatedCarrier",
    "SimulatedSettings",
    "DEFAULT_EPOCH",
    "scenario_from_number",
    "pick_scenario",
]

#: shipping time of parcels that come without one (the demo's start)
DEFAULT_EPOCH = datetime(2026, 11, 20, 12, 0, tzinfo=SHOP_TZ)


def scenario_from_number(number: str) -> str | None:
    """``SIM-STALL_TRANSIT-YT0002`` → ``stall_transit`` (case-insensitive, ``-`` or ``_``)."""
    text = number.strip().lower().replace("-", "_")
    if not text.startswith("sim_"):
        return None
    rest = text[4:] + "_"
    for name in sorted(SCENARIOS, key=len, reverse=True):
        if rest.startswith(name + "_"):
            return name
    return None


def pick_scenario(
    seed: int, number: str, *, overrides: Mapping[str, str] | None = None, remote: bool = False
) -> str:
    """Override, then ``SIM-<SCENARIO>-…``, then a stable weighted draw from ``(seed, number)``.

    A drawn ``normal`` parcel to a remote destination (``remote=True``) becomes ``remote_slow``.
    """
    explicit = (overrides or {}).get(number.strip()) or scenario_from_number(number)
    if explicit:
        return explicit.lower()
    point = stable_unit(seed, "scenario", number.strip().upper()) * sum(w for w, _ in SCENARIO_TABLE.values())
    for name, (weight, _) in SCENARIO_TABLE.items():
        point -= weight
        if point < 0:
            return "remote_slow" if name == "normal" and remote else name
    return "normal"  # pragma: no cover - float rounding at the very end


class SimulatedSettings(AdapterSettings):
    """``[providers.simulated]``."""

    seed: int = 0
    #: shipping time for queries without ``shipped_at`` (naive values are shop time, Asia/Shanghai)
    epoch: datetime | None = None
    #: probability that one ``track()`` call raises ``ProviderTransient`` (deterministic)
    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    #: tracking number -> scenario name
    scenarios: dict[str, str] = Field(default_factory=dict)

    @field_validator("scenarios")
    @classmethod
    def _known_scenarios(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for number, name in value.items():
            if name.strip().lower() not in SCENARIOS:
                raise ValueError(f"unknown scenario {name!r} for {number!r}; known: {', '.join(SCENARIOS)}")
            out[number.strip()] = name.strip().lower()
        return out


class SimulatedCarrier(CarrierAdapter):
    """Plays deterministic, realistic traces for any courier; reveals them as the clock moves."""

    name: ClassVar[str] = "simulated"
    title: ClassVar[str] = "Simulated provider (demo and tests)"
    couriers: ClassVar[frozenset[str]] = frozenset()
    batch_size: ClassVar[int] = 50
    rate_limit: ClassVar[float | None] = None
    max_concurrency: ClassVar[int] = 4
    min_interval: ClassVar[timedelta] = timedelta(0)
    Settings = SimulatedSettings

    settings: SimulatedSettings
    _calls: int = 0

    def scenario_of(self, query: TrackingQuery) -> str:
        """The scenario ``query``'s number follows under these settings."""
        dest = resolve_destination(Place(query.province.strip(), query.city.strip(), query.district.strip()))
        return pick_scenario(
            self.settings.seed, query.tracking_number, overrides=self.settings.scenarios, remote=is_remote(dest)
        )

    def start_of(self, query: TrackingQuery) -> datetime:
        if query.shipped_at is not None:
            return utc(query.shipped_at)
        epoch = self.settings.epoch
        if epoch is None:
            return DEFAULT_EPOCH
        return epoch if epoch.tzinfo is not None else epoch.replace(tzinfo=SHOP_TZ)

    async def track(self, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
        self._calls += 1
        rate = self.settings.fail_rate
        if rate > 0 and stable_unit(self.settings.seed, "fail", self._calls) < rate:
            raise ProviderTransient(
                f"simulated: provider trouble on call {self._calls} (fail_rate={rate})",
                provider=self.name,
                code="SIMULATED",
            )
        now = self.clock.now()
        return [self._track_one(query, now) for query in queries]

    def _track_one(self, query: TrackingQuery, now: datetime) -> TrackingResult:
        number = query.tracking_number.strip()
        if not number:
            return TrackingResult(query, problem=Problem(ProblemKind.INVALID_NUMBER, "empty tracking number"))
        scenario = self.scenario_of(query)
        dest = Place(query.province.strip(), query.city.strip(), query.district.strip())
        trace = build_trace(self.settings.seed, query.courier, number, self.start_of(query), dest, scenario)
        shown = [event for event in trace.events if event.time <= now]
        if not shown:
            return TrackingResult(
                query, problem=Problem(ProblemKind.NOT_FOUND, "simulated: no information yet", raw_code=scenario)
            )
        checkpoints = tuple(
            Checkpoint(time=e.time, text=e.text, location=e.city, raw_code=e.kind, status=e.status)
            for e in reversed(shown)
        )
        tracking = Tracking(
            status=checkpoints[0].status or shown[-1].status,
            checkpoints=checkpoints,
            provider=self.name,
            raw_status=scenario,
        )
        return TrackingResult(query, tracking=tracking)
