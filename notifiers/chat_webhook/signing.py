"""Request signing between parcelwatch and the shop's chat bridge (pure: no I/O, no clock).

The scheme, both directions (our notices to the bridge, the bridge's presence
callbacks to our HTTP endpoint)::

    X-Parcelwatch-Timestamp: <unix seconds, decimal integer>
    X-Parcelwatch-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw_body}")>

* ``secret`` is the shared secret (``chat.secret``) as UTF-8 bytes.
* ``raw_body`` is the exact bytes on the wire — sign and verify the body *before*
  any JSON parsing or re-serialization.  The signed message is the ASCII
  timestamp, one ``.``, then the body bytes.
* The hex digest is lower case; receivers compare case-insensitively in constant time.
* A receiver refuses a timestamp more than ``tolerance`` seconds (default 300) away
  from its own clock, in either direction: a captured request cannot be replayed
  later, and clocks only need to agree within five minutes.  Replays inside the
  window are harmless for notices (the bridge de-duplicates on ``Idempotency-Key``)
  and for presence callbacks (applied forward only).

Example (a known answer used by the tests)::

    sign(b"whsec-test", 1700000000, b'{"chat_id":"c1"}')
    == "sha256=dada040daa9286216a029c43ef63027d32fe205629c7dc642cf25bf7d88c6427"
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

__all__ = ["TIMESTAMP_HEADER", "SIGNATURE_HEADER", "PREFIX", "DEFAULT_TOLERANCE", "sign", "verify"]

TIMESTAMP_HEADER = "X-Parcelwatch-Timestamp"
SIGNATURE_HEADER = "X-Parcelwatch-Signature"
PREFIX = "sha256="
DEFAULT_TOLERANCE = 300  # seconds


def _key(secret: bytes | str) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Parcelwatch-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return PREFIX + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    timestamp: int | str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | datetime,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``signature`` signs ``body`` at ``timestamp`` and ``timestamp`` is within
    ``tolerance`` seconds of ``now`` (unix seconds or an aware datetime).

    ``timestamp`` and ``signature`` may be the raw header values (or ``None`` when the
    header is missing): anything malformed is simply ``False``.
    """
    if timestamp is None or not signature or not _key(secret):
        return False
    if isinstance(timestamp, int):
        ts = timestamp
    else:
        text = timestamp.strip()
        if not (text.isascii() and text.isdigit()):  # no signs, underscores or spaces inside
            return False
        ts = int(text)
    current = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(current - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    given = signature.strip()
    if given[: len(PREFIX)].lower() == PREFIX:
        given = PREFIX + given[len(PREFIX):].lower()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", errors="replace"))
