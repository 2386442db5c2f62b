"""The state-code table: every documented code mapped, exact lookups, unknown fallback."""

from __future__ import annotations

import pytest

from carriers.base import Status
from carriers.kuaidi100.statuses import STATE_NAMES, STATE_TABLE, state_status

S = Status
EXPECTED = {
    "0": S.IN_TRANSIT, "1": S.COLLECTED, "2": S.EXCEPTION, "3": S.DELIVERED, "4": S.RETURNED,
    "5": S.OUT_FOR_DELIVERY, "6": S.RETURNING, "7": S.IN_TRANSIT, "8": S.IN_TRANSIT,
    "10": S.IN_TRANSIT, "11": S.IN_TRANSIT, "12": S.IN_TRANSIT, "13": S.EXCEPTION, "14": S.EXCEPTION,
    "101": S.INFO_RECEIVED, "102": S.INFO_RECEIVED, "103": S.COLLECTED,
    "1001": S.ARRIVED_DESTINATION_CITY, "1002": S.IN_TRANSIT, "1003": S.IN_TRANSIT,
    "501": S.AVAILABLE_FOR_PICKUP,
    "301": S.DELIVERED, "302": S.DELIVERED, "303": S.DELIVERED, "304": S.DELIVERED,
    "401": S.EXCEPTION,
    "201": S.FAILED_ATTEMPT, "202": S.IN_TRANSIT, "203": S.EXCEPTION, "204": S.FAILED_ATTEMPT,
    "205": S.EXCEPTION, "206": S.FAILED_ATTEMPT, "207": S.EXCEPTION, "208": S.EXCEPTION,
    "209": S.EXCEPTION, "210": S.EXCEPTION, "211": S.OUT_FOR_DELIVERY,
}


def test_table_is_exactly_the_documented_codes() -> None:
    assert dict(STATE_TABLE) == EXPECTED
    assert set(STATE_NAMES) == set(EXPECTED)


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        STATE_TABLE["999"] = Status.DELIVERED  # type: ignore[index]


@pytest.mark.parametrize("code", [" 3 ", 3, "3"])
def test_lookup_is_exact_after_trimming(code: object) -> None:
    assert state_status(code) is Status.DELIVERED


@pytest.mark.parametrize("code", ["30", "03", "3 01", "", None, "签收"])
def test_near_misses_are_unknown(code: object) -> None:
    assert state_status(code) is Status.UNKNOWN
