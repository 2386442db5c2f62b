"""Kuaidi100 state codes → normalized :class:`~carriers.base.Status` (data, exact lookups).

With ``resultv2=4`` the parcel-level ``state`` and every checkpoint's ``statusCode``
carry Kuaidi100's detailed ("高级") codes.  The table below lists every code of the
"运单快递状态(state)说明" table of the real-time query documentation
(https://api.kuaidi100.com/document/5f0ffb5ebc8da837cbd8aefc), grouped as the docs
group them.  Anything else becomes ``Status.UNKNOWN`` through
:func:`carriers.base.map_status`, which logs each unmapped code once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from carriers.base import Status, map_status

__all__ = ["PROVIDER", "STATE_NAMES", "STATE_TABLE", "TIME_VERDICT_STATES", "state_status"]

PROVIDER = "kuaidi100"

_S = Status

#: code -> (Kuaidi100's name for it, our normalized status)
_STATES: dict[str, tuple[str, Status]] = {
    # 揽收 (collection)
    "1": ("揽收", _S.COLLECTED),
    "101": ("已下单", _S.INFO_RECEIVED),  # waybill created
    "102": ("待揽收", _S.INFO_RECEIVED),  # waiting for the courier to collect
    "103": ("已揽收", _S.COLLECTED),
    # 在途 (in transit)
    "0": ("在途", _S.IN_TRANSIT),
    "1001": ("到达派件城市", _S.ARRIVED_DESTINATION_CITY),
    "1002": ("干线", _S.IN_TRANSIT),  # line haul
    "1003": ("转递", _S.IN_TRANSIT),  # forwarded to a new delivery address
    # 派件 (delivery)
    "5": ("派件", _S.OUT_FOR_DELIVERY),
    "501": ("投柜或驿站", _S.AVAILABLE_FOR_PICKUP),  # in a locker or at a 驿站
    # 签收 (signed for)
    "3": ("签收", _S.DELIVERED),
    "301": ("本人签收", _S.DELIVERED),
    "302": ("派件异常后签收", _S.DELIVERED),  # delivered after an earlier delivery problem
    "303": ("代签", _S.DELIVERED),  # signed by someone else on the buyer's behalf
    "304": ("投柜或站签收", _S.DELIVERED),  # collected from the locker / station
    # 退回 / 退签 (return)
    "6": ("退回", _S.RETURNING),  # on its way back to the sender
    "4": ("退签", _S.RETURNED),  # the sender signed for the returned parcel
    "401": ("已销单", _S.EXCEPTION),  # waybill cancelled
    "14": ("拒签", _S.EXCEPTION),  # the buyer refused it; ops must act
    # 转投 (handed to another carrier, e.g. 转邮政)
    "7": ("转投", _S.IN_TRANSIT),
    # 疑难 (problem)
    "2": ("疑难", _S.EXCEPTION),
    "201": ("超时未签收", _S.FAILED_ATTEMPT),  # out for delivery long ago, not signed for
    "202": ("超时未更新", _S.IN_TRANSIT),  # a verdict about silence; see TIME_VERDICT_STATES
    "203": ("拒收", _S.EXCEPTION),  # buyer refused, waiting for the sender to confirm
    "204": ("派件异常", _S.FAILED_ATTEMPT),
    "205": ("柜或驿站超时未取", _S.EXCEPTION),  # uncollected at the locker: heading for return
    "206": ("无法联系", _S.FAILED_ATTEMPT),  # courier could not reach the buyer
    "207": ("超区", _S.EXCEPTION),  # outside the courier's delivery area
    "208": ("滞留", _S.EXCEPTION),  # held at the outlet, not delivered
    "209": ("破损", _S.EXCEPTION),  # damaged
    "210": ("销单", _S.EXCEPTION),  # cancelled by the sender
    # Not in the tables we could read; named by the task brief. Harmless if never sent.
    "211": ("驿站派送", _S.OUT_FOR_DELIVERY),
    # 清关 (customs)
    "8": ("清关", _S.IN_TRANSIT),
    "10": ("待清关", _S.IN_TRANSIT),
    "11": ("清关中", _S.IN_TRANSIT),
    "12": ("已清关", _S.IN_TRANSIT),
    "13": ("清关异常", _S.EXCEPTION),
}

STATE_TABLE: Mapping[str, Status] = MappingProxyType({code: status for code, (_, status) in _STATES.items()})
STATE_NAMES: Mapping[str, str] = MappingProxyType({code: name for code, (name, _) in _STATES.items()})

#: parcel-level states that judge elapsed time rather than describe a scan: the parcel's
#: status is then the newest checkpoint's (our rules measure silence themselves; the raw
#: state stays in ``Tracking.raw_status``)
TIME_VERDICT_STATES = frozenset({"202"})


def state_status(code: object) -> Status:
    """Normalized status of one Kuaidi100 state code; unknown codes give ``Status.UNKNOWN``."""
    return map_status(PROVIDER, STATE_TABLE, code)
