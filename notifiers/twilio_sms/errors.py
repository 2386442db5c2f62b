"""Twilio error codes and HTTP statuses → the channel error tree (pure: tables and lookups).

::

    ChannelError
    ├── ChannelRetryable          try again later (the dispatcher bounds the attempts)
    │   └── ChannelAmbiguous      the request may have reached Twilio (read timeout, connection
    │                             dropped after sending): Twilio has no idempotency key, so a
    │                             blind retry can send the SMS twice — reconcile first with
    │                             ``TwilioSMS.list_recent`` (``ambiguous`` is True, code "timeout")
    └── ChannelPermanent          will never succeed for this recipient (code = Twilio's code)

Wrong credentials (Twilio 20003 / HTTP 401) are a :class:`~watcher.errors.ConfigError`
naming ``twilio.auth_token``: every notice would fail the same way, so they must not be
burnt one by one as permanent failures — the operator fixes the settings.

Codes in the 300xx range are delivery errors reported in status callbacks rather than
by the create call; they are in the same table so callbacks can use it too.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from watcher.errors import ChannelError, ChannelPermanent, ChannelRetryable, ConfigError

__all__ = [
    "ChannelAmbiguous",
    "CODES",
    "AUTH_CODES",
    "classify",
    "to_channel_error",
]

Verdict = Literal["retryable", "permanent"]

#: Twilio error code → what a later attempt can hope for (https://www.twilio.com/docs/api/errors)
CODES: dict[int, Verdict] = {
    20429: "retryable",  # too many requests (rate limited): documented as always safe to retry
    20500: "retryable",  # internal server error
    20503: "retryable",  # service unavailable
    21211: "permanent",  # invalid 'To' phone number
    21408: "permanent",  # permission to send an SMS to this region has not been enabled
    21610: "permanent",  # recipient unsubscribed (sent STOP): keep the opt-out ourselves
    21612: "permanent",  # cannot route to this number (To/From combination unsupported)
    21611: "retryable",  # sender's queue holds over 10 hours of messages: retry much later
    21614: "permanent",  # 'To' number is not a valid mobile number
    30001: "retryable",  # queue overflow: too many queued messages; retry after a while, slower
    30002: "permanent",  # account suspended: nothing succeeds until the account is fixed
    30003: "permanent",  # unreachable destination handset
    30005: "permanent",  # unknown destination handset (number does not exist)
    30006: "permanent",  # landline or unreachable carrier
    30007: "permanent",  # message filtered by the carrier (spam/content): the same text fails again
    30008: "retryable",  # unknown error: Twilio suggests retrying; bounded by the dispatcher
    63016: "permanent",  # WhatsApp free text outside the 24-hour window: needs a template
}

#: codes meaning "your credentials are wrong" → ConfigError
AUTH_CODES = frozenset({20003})


class ChannelAmbiguous(ChannelRetryable):
    """The message may have been accepted: reconcile (``list_recent``) before retrying."""

    ambiguous: ClassVar[bool] = True


def classify(code: int | None, status: int | None) -> Verdict:
    """The verdict for a Twilio ``code`` (preferred) or, without a known code, the HTTP ``status``.

    Unknown codes and statuses are retryable: the dispatcher's bounded attempts end them.
    """
    if code is not None and code in CODES:
        return CODES[code]
    # HTTP 429 and 5xx are retryable; so is anything we do not know (never guessed permanent)
    return "retryable"


def to_channel_error(
    code: int | None, status: int | None, message: str, *, channel: str = "sms"
) -> ChannelError | ConfigError:
    """The exception to raise for a Twilio error reply (``message`` must hold no secrets)."""
    if code in AUTH_CODES or status == 401:
        return ConfigError(
            f"twilio.auth_token: Twilio rejected the credentials ({code or status}); "
            "check twilio.account_sid and twilio.auth_token"
        )
    label = str(code if code is not None else status)
    text = f"{channel}: Twilio error {label}: {message}" if message else f"{channel}: Twilio error {label}"
    if classify(code, status) == "permanent":
        return ChannelPermanent(text, channel=channel, code=label)
    return ChannelRetryable(text, channel=channel, code=label)
