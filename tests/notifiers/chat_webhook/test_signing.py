"""The chat-bridge signing scheme: a known answer, tampering, stale and malformed input."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifiers.chat_webhook.signing import sign, verify

SECRET = b"whsec-test"
TS = 1700000000
BODY = b'{"chat_id":"c1"}'
# printf '%s' '1700000000.{"chat_id":"c1"}' | openssl dgst -sha256 -hmac whsec-test
KNOWN = "sha256=dada040daa9286216a029c43ef63027d32fe205629c7dc642cf25bf7d88c6427"


def test_known_answer() -> None:
    assert sign(SECRET, TS, BODY) == KNOWN


def test_verify_accepts_own_signature_and_header_strings() -> None:
    assert verify(SECRET, TS, BODY, KNOWN, now=TS)
    assert verify(SECRET, str(TS), BODY, KNOWN, now=TS + 299)
    assert verify(SECRET, TS, BODY, KNOWN.upper().replace("SHA256=", "sha256="), now=TS)
    assert verify(SECRET, TS, BODY, KNOWN, now=datetime.fromtimestamp(TS + 10, timezone.utc))


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "signature"),
    [
        (b"other-secret", TS, BODY, KNOWN),
        (SECRET, TS + 1, BODY, KNOWN),  # timestamp changed
        (SECRET, TS, b'{"chat_id":"c2"}', KNOWN),  # body changed
        (SECRET, TS, BODY + b" ", KNOWN),  # re-serialized body
        (SECRET, TS, BODY, KNOWN[:-1] + "8"),
        (SECRET, TS, BODY, KNOWN.removeprefix("sha256=")),  # scheme prefix missing
        (SECRET, TS, BODY, ""),
        (SECRET, TS, BODY, None),
        (SECRET, None, BODY, KNOWN),
        (SECRET, "17e8", BODY, KNOWN),
        (SECRET, "+1700000000", BODY, KNOWN),
        (SECRET, "1_700_000_000", BODY, KNOWN),
        (b"", TS, BODY, sign(b"", TS, BODY)),  # an empty secret never verifies
    ],
)
def test_tampered_or_malformed_is_rejected(secret: bytes, timestamp: object, body: bytes, signature: object) -> None:
    assert not verify(secret, timestamp, body, signature, now=TS)  # type: ignore[arg-type]


@pytest.mark.parametrize("skew", [301, -301, 86400])
def test_stale_or_future_timestamp_is_rejected(skew: int) -> None:
    assert not verify(SECRET, TS, BODY, KNOWN, now=TS + skew)
    assert verify(SECRET, TS, BODY, KNOWN, now=TS + skew, tolerance=abs(skew))
