"""The simulated tracking provider (entry point ``simulated``): deterministic,
realistic Chinese courier traces revealed as an injected clock moves."""

from carriers.simulated.adapter import SimulatedCarrier, SimulatedSettings

__all__ = ["SimulatedCarrier", "SimulatedSettings"]
