"""The Twilio error table: exact codes, HTTP statuses as fallback, unknown stays retryable."""

from __future__ import annotations

import pytest

from notifiers.twilio_sms.errors import CODES, ChannelAmbiguous, classify, to_channel_error
from watcher.errors import ChannelPermanent, ChannelRetryable, ConfigError

PERMANENT = [21211, 21408, 21610, 21612, 21614, 30002, 30003, 30005, 30006, 30007, 63016]
RETRYABLE = [20429, 21611, 30001, 30008]


@pytest.mark.parametrize("code", PERMANENT)
def test_permanent_codes(code: int) -> None:
    assert classify(code, 400) == "permanent"
    exc = to_channel_error(code, 400, "nope")
    assert isinstance(exc, ChannelPermanent) and exc.code == str(code) and exc.channel == "sms"


@pytest.mark.parametrize(("code", "status"), [(c, 400) for c in RETRYABLE] + [(None, 429), (None, 500),
                                                                            (None, 503), (99999, 400)])
def test_retryable(code: int | None, status: int) -> None:
    exc = to_channel_error(code, status, "")
    assert type(exc) is ChannelRetryable
    assert exc.code == str(code if code is not None else status)


def test_code_wins_over_status() -> None:
    assert classify(21610, 500) == "permanent"
    assert classify(20429, 429) == "retryable"


def test_table_is_total_over_two_verdicts() -> None:
    assert set(CODES.values()) == {"retryable", "permanent"}


@pytest.mark.parametrize(("code", "status"), [(20003, 401), (None, 401)])
def test_bad_credentials_are_a_config_error(code: int | None, status: int) -> None:
    exc = to_channel_error(code, status, "Authenticate")
    assert isinstance(exc, ConfigError) and str(exc).startswith("twilio.auth_token:")


def test_ambiguous_is_retryable_and_flagged() -> None:
    exc = ChannelAmbiguous("x", channel="sms", code="timeout")
    assert isinstance(exc, ChannelRetryable) and exc.ambiguous
    assert not getattr(ChannelRetryable("y"), "ambiguous", False)
