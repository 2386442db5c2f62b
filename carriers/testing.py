"""Conformance kit for carrier adapters: import it in your plug-in's tests.

Every check is a plain function that raises ``AssertionError`` with a message
saying what the contract of :mod:`carriers.base` expects, so it works under
pytest (or anything else).  The async checks are coroutines; run them with
``asyncio.run`` in sync tests.

The quickest way is to subclass :class:`ConformanceSuite` in a ``Test…`` class::

    from carriers.testing import ConformanceSuite, recorded_transport

    class TestMyProvider(ConformanceSuite):
        adapter_class = MyProviderCarrier
        settings = {"key": "s3cret"}
        secrets = ("s3cret",)
        queries = (TrackingQuery("zhongtong", "78812345678901"),)

        def replay_transport(self):        # recorded payloads for test_results
            return recorded_transport("tests/fixtures/myprovider/ok.json")

Or call the checks yourself:

* :func:`check_adapter_class` — class attributes and settings model;
* :func:`check_results` — one well-formed result per query, same order;
* :func:`check_transport_errors` — every failure in :data:`TRANSPORT_FAILURES`
  (timeouts, 5xx, 429 with ``Retry-After``, a body that is not JSON) comes out
  as ``ProviderTransient``, never as a bare httpx exception;
* :func:`check_entry_point` — the class is registered under ``parcelwatch.carriers``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx

from carriers.base import (
    AdapterSettings,
    CarrierAdapter,
    ProblemKind,
    Status,
    Tracking,
    TrackingQuery,
    TrackingResult,
)
from watcher.clock import Clock
from watcher.errors import ProviderError, ProviderTransient

__all__ = [
    "TransportFailure",
    "TRANSPORT_FAILURES",
    "check_adapter_class",
    "check_tracking",
    "check_results",
    "check_transport_errors",
    "check_entry_point",
    "recorded_transport",
    "ConformanceSuite",
]

AdapterFactory = Callable[[httpx.AsyncBaseTransport], CarrierAdapter | Awaitable[CarrierAdapter]]


def check_adapter_class(
    cls: type[CarrierAdapter], *, settings: Any = None, secrets: Sequence[str] = ()
) -> CarrierAdapter:
    """Class attributes are sane and an instance's repr hides ``secrets``; returns that instance."""
    assert isinstance(cls, type) and issubclass(cls, CarrierAdapter), f"{cls!r} is not a CarrierAdapter subclass"
    name = getattr(cls, "name", None)
    assert isinstance(name, str) and name.strip() and name == name.strip() and " " not in name, (
        f"{cls.__name__}.name must be a non-empty string without spaces (the entry-point name), got {name!r}"
    )
    assert isinstance(cls.title, str), f"{cls.__name__}.title must be a str"
    assert isinstance(cls.couriers, frozenset) and all(isinstance(c, str) and c for c in cls.couriers), (
        f"{cls.__name__}.couriers must be a frozenset of courier codes (empty = any), got {cls.couriers!r}"
    )
    for attr in ("batch_size", "max_concurrency"):
        value = getattr(cls, attr)
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 1, (
            f"{cls.__name__}.{attr} must be an int >= 1, got {value!r}"
        )
    assert cls.rate_limit is None or (isinstance(cls.rate_limit, (int, float)) and cls.rate_limit > 0), (
        f"{cls.__name__}.rate_limit must be None (unlimited) or requests per second > 0, got {cls.rate_limit!r}"
    )
    assert isinstance(cls.min_interval, timedelta) and cls.min_interval >= timedelta(0), (
        f"{cls.__name__}.min_interval must be a timedelta >= 0, got {cls.min_interval!r}"
    )
    assert isinstance(cls.Settings, type) and issubclass(cls.Settings, AdapterSettings), (
        f"{cls.__name__}.Settings must subclass carriers.base.AdapterSettings, got {cls.Settings!r}"
    )
    assert cls.Settings.model_config.get("extra") == "forbid", (
        f"{cls.__name__}.Settings must reject unknown keys (model_config extra='forbid')"
    )
    assert inspect.iscoroutinefunction(cls.track), f"{cls.__name__}.track must be `async def`"
    adapter = cls(settings)
    for text in (repr(adapter), str(adapter), repr(adapter.settings), str(adapter.settings)):
        for secret in secrets:
            assert secret not in text, f"{cls.__name__}: repr shows the secret value {secret[:2]}… in {text[:80]!r}"
    return adapter


def check_tracking(tracking: Tracking, *, where: str = "tracking") -> None:
    """One normalized :class:`Tracking` follows the contract."""
    assert isinstance(tracking, Tracking), f"{where}: expected a Tracking, got {type(tracking).__name__}"
    assert isinstance(tracking.status, Status), (
        f"{where}: status must be a carriers.base.Status (map unknown codes to Status.UNKNOWN), "
        f"got {tracking.status!r}"
    )
    assert isinstance(tracking.provider, str) and tracking.provider, f"{where}: provider must be a non-empty str"
    assert isinstance(tracking.raw_status, str), f"{where}: raw_status must be a str, got {tracking.raw_status!r}"
    assert isinstance(tracking.checkpoints, tuple), f"{where}: checkpoints must be a tuple"
    previous = None
    for i, cp in enumerate(tracking.checkpoints):
        at = f"{where}.checkpoints[{i}]"
        assert cp.time.tzinfo is not None and cp.time.utcoffset() is not None, f"{at}: time must be timezone-aware"
        assert isinstance(cp.text, str) and cp.text.strip(), f"{at}: text must be non-empty"
        assert isinstance(cp.location, str) and isinstance(cp.raw_code, str), f"{at}: location/raw_code must be str"
        assert cp.status is None or isinstance(cp.status, Status), f"{at}: status must be a Status or None"
        assert previous is None or cp.time <= previous, (
            f"{at}: checkpoints must be newest first ({cp.time.isoformat()} is after {previous.isoformat()})"
        )
        previous = cp.time


async def check_results(adapter: CarrierAdapter, queries: Sequence[TrackingQuery]) -> list[TrackingResult]:
    """``adapter.track(queries)`` gives one well-formed result per query, in order; returns them."""
    queries = list(queries)
    assert len(queries) <= adapter.batch_size, f"kit misuse: {len(queries)} queries > batch_size {adapter.batch_size}"
    results = await adapter.track(queries)
    assert isinstance(results, list), f"track() must return a list, got {type(results).__name__}"
    assert len(results) == len(queries), f"track() gave {len(results)} results for {len(queries)} queries"
    for i, (query, result) in enumerate(zip(queries, results)):
        where = f"results[{i}] ({query.tracking_number})"
        assert isinstance(result, TrackingResult), f"{where}: expected a TrackingResult, got {result!r}"
        assert result.query == query, f"{where}: result.query must be the query asked, in the same order"
        assert (result.tracking is None) != (result.problem is None), f"{where}: exactly one of tracking/problem"
        if result.problem is not None:
            assert isinstance(result.problem.kind, ProblemKind), f"{where}: problem.kind must be a ProblemKind"
            assert isinstance(result.problem.message, str) and result.problem.message, f"{where}: empty problem"
        else:
            assert result.tracking is not None
            check_tracking(result.tracking, where=where)
    return results


@dataclass(frozen=True)
class TransportFailure:
    """One way the network or the provider fails, and what the adapter must raise."""

    name: str
    handler: Callable[[httpx.Request], httpx.Response]
    retry_after: float | None = None  # expected ProviderTransient.retry_after, when not None


def _raise(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"simulated {exc_type.__name__}", request=request)

    return handler


TRANSPORT_FAILURES: tuple[TransportFailure, ...] = (
    TransportFailure("connect timeout", _raise(httpx.ConnectTimeout)),
    TransportFailure("read timeout", _raise(httpx.ReadTimeout)),
    TransportFailure("connection refused", _raise(httpx.ConnectError)),
    TransportFailure("HTTP 500", lambda request: httpx.Response(500, text="Internal Server Error")),
    TransportFailure("HTTP 503", lambda request: httpx.Response(503, text="Service Unavailable")),
    TransportFailure("HTTP 429", lambda request: httpx.Response(429, headers={"Retry-After": "7"}), retry_after=7),
    TransportFailure(
        "200 with a body that is not JSON",
        lambda request: httpx.Response(200, text="<html>502 Bad Gateway</html>", headers={"Content-Type": "text/html"}),
    ),
)


async def check_transport_errors(
    make_adapter: AdapterFactory,
    queries: Sequence[TrackingQuery],
    failures: Sequence[TransportFailure] = TRANSPORT_FAILURES,
) -> None:
    """For each failure, ``make_adapter(transport)`` must raise ``ProviderTransient`` from ``track``."""
    for failure in failures:
        made = make_adapter(httpx.MockTransport(failure.handler))
        adapter = await made if inspect.isawaitable(made) else made
        try:
            await adapter.track(list(queries))
        except ProviderTransient as exc:
            if failure.retry_after is not None:
                assert exc.retry_after == failure.retry_after, (
                    f"{failure.name}: ProviderTransient.retry_after should be {failure.retry_after} "
                    f"(from Retry-After), got {exc.retry_after!r}"
                )
        except ProviderError as exc:
            raise AssertionError(f"{failure.name}: expected ProviderTransient, got {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise AssertionError(
                f"{failure.name}: bare {type(exc).__name__} escaped; convert it at the edge "
                "(carriers.http.send does this)"
            ) from exc
        except Exception as exc:
            raise AssertionError(f"{failure.name}: expected ProviderTransient, got {type(exc).__name__}: {exc}") from exc
        else:
            raise AssertionError(f"{failure.name}: track() returned normally; expected ProviderTransient")
        finally:
            await adapter.aclose()


def check_entry_point(cls: type[CarrierAdapter]) -> None:
    """``cls`` is installed under the ``parcelwatch.carriers`` entry point named ``cls.name``."""
    from carriers.registry import discover

    registry = discover()
    error = registry.failed.get(cls.name)
    assert error is None, f"entry point {cls.name!r} failed to load: {error}"
    found = registry.adapters.get(cls.name)
    assert found is cls, f"entry point {cls.name!r} gives {found!r}, not {cls!r} (is the package installed?)"


def recorded_transport(path: str | Path, *, status: int = 200) -> httpx.MockTransport:
    """A transport answering every request with the recorded JSON body in ``path``."""
    body = json.loads(Path(path).read_text(encoding="utf-8"))
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


class ConformanceSuite:
    """Subclass in a ``Test…`` class; the class attributes drive the inherited tests."""

    adapter_class: ClassVar[type[CarrierAdapter]]
    #: settings mapping or model passed to the adapter (``None``: defaults)
    settings: ClassVar[Any] = None
    #: values that must never appear in a repr (keys, tokens)
    secrets: ClassVar[Sequence[str]] = ()
    #: queries for :meth:`test_results` and :meth:`test_transport_errors`
    queries: ClassVar[Sequence[TrackingQuery]] = ()
    #: False for adapters that do no HTTP (the transport-error tests are skipped)
    http: ClassVar[bool] = True
    #: also check the ``parcelwatch.carriers`` entry point (needs the package installed)
    entry_point: ClassVar[bool] = True

    def make_clock(self) -> Clock | None:
        return None

    def replay_transport(self) -> httpx.AsyncBaseTransport | None:
        """Transport for :meth:`test_results` (recorded payloads); ``None``: the adapter's own."""
        return None

    def make_adapter(self, transport: httpx.AsyncBaseTransport | None = None) -> CarrierAdapter:
        return self.adapter_class(self.settings, transport=transport, clock=self.make_clock())

    def test_adapter_class(self) -> None:
        check_adapter_class(self.adapter_class, settings=self.settings, secrets=self.secrets)

    def test_entry_point(self) -> None:
        if not self.entry_point:
            _skip("entry point check disabled")
        check_entry_point(self.adapter_class)

    def test_results(self) -> None:
        if not self.queries:
            _skip("no queries given")
        if self.http and self.replay_transport() is None:
            _skip("HTTP adapter without replay_transport()")

        async def run() -> None:
            async with self.make_adapter(self.replay_transport()) as adapter:
                await check_results(adapter, self.queries)

        asyncio.run(run())

    def test_transport_errors(self) -> None:
        if not self.http:
            _skip("adapter does no HTTP")
        queries = self.queries or (TrackingQuery("zhongtong", "78812345678901"),)
        asyncio.run(check_transport_errors(self.make_adapter, queries))


def _skip(reason: str) -> None:
    import pytest  # only when running under pytest; the checks themselves need no pytest

    pytest.skip(reason)
