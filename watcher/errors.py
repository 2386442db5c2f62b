"""The one error tree of parcelwatch.

::

    ParcelwatchError
    ├── ConfigError            bad or missing settings; CLI exit code 2
    ├── InputError             bad user input (CSV rows, flags); CLI exit code 2
    ├── ProviderError          a tracking provider failed for a whole request
    │   ├── ProviderTransient  timeouts, connection errors, 5xx, 429, malformed bodies:
    │   │                      retry later (``retry_after`` seconds when the provider said)
    │   ├── ProviderAuthError  bad key or signature: stop polling that provider until fixed
    │   └── ProviderRejected   the provider refused the request as malformed: do not retry
    └── ChannelError           a notice channel failed to deliver
        ├── ChannelRetryable   try again later
        └── ChannelPermanent   will never succeed for this recipient

Per-number problems (a number the provider has no data for, an invalid number)
are *values* in a tracking result, never exceptions: one bad number must not
sink a batch.  Adapters convert httpx exceptions into this tree at their edge.
"""

from __future__ import annotations

__all__ = [
    "ParcelwatchError",
    "ConfigError",
    "InputError",
    "ProviderError",
    "ProviderTransient",
    "ProviderAuthError",
    "ProviderRejected",
    "ChannelError",
    "ChannelRetryable",
    "ChannelPermanent",
]


class ParcelwatchError(Exception):
    """Base of every error parcelwatch raises on purpose."""


class ConfigError(ParcelwatchError):
    """Settings are invalid or incomplete; the message names the key."""


class InputError(ParcelwatchError):
    """User input (a CSV row, a command-line value) is invalid."""


class ProviderError(ParcelwatchError):
    """A tracking provider request failed as a whole."""

    def __init__(self, message: str, *, provider: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.code = code


class ProviderTransient(ProviderError):
    """Temporary trouble; the same request may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, code=code)
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """Credentials or signature rejected; retrying will not help until fixed."""


class ProviderRejected(ProviderError):
    """The provider refused the request itself (bad parameters); do not retry it."""


class ChannelError(ParcelwatchError):
    """A notice could not be delivered through a channel."""

    def __init__(self, message: str, *, channel: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.channel = channel
        self.code = code


class ChannelRetryable(ChannelError):
    """Delivery may succeed on a later attempt."""


class ChannelPermanent(ChannelError):
    """Delivery will never succeed for this recipient through this channel."""
