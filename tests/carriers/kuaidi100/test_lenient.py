"""Compatible servers that leave out the parcel-level ``state`` still give a trace."""

from __future__ import annotations

from carriers.base import Status, TrackingQuery
from carriers.kuaidi100.parse import parse_body


def test_missing_state_takes_the_newest_checkpoint_status() -> None:
    body = (b'{"message":"ok","status":"200","nu":"75300000000001","com":"zhongtong","data":['
            b'{"time":"2026-11-21 09:00:00","context":"\xe6\xb4\xbe\xe4\xbb\xb6\xe4\xb8\xad","statusCode":"5"},'
            b'{"time":"2026-11-20 18:00:00","context":"\xe5\xb7\xb2\xe6\x8f\xbd\xe6\x94\xb6","statusCode":"103"}]}')
    result = parse_body(TrackingQuery("zhongtong", "75300000000001"), body)
    assert result.tracking is not None
    assert result.tracking.status is Status.OUT_FOR_DELIVERY and result.tracking.raw_status == ""
    assert [c.text for c in result.tracking.checkpoints] == ["派件中", "已揽收"]
