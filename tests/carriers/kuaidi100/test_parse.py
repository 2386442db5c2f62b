"""Recorded Kuaidi100 replies -> literal expected results (pure, no I/O)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

import carriers.base
from carriers.base import Checkpoint, Problem, ProblemKind, Status, Tracking, TrackingQuery, TrackingResult
from carriers.kuaidi100.parse import build_form, build_param, parse_body, parse_reply, parse_time, phone_suffix, sign
from watcher.errors import ProviderAuthError, ProviderRejected, ProviderTransient

CN = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CN)


def q(courier: str, number: str, phone: str | None = None) -> TrackingQuery:
    return TrackingQuery(courier=courier, tracking_number=number, phone=phone)


def test_normal_zto_trace(payload) -> None:
    query = q("zhongtong", "75301234567890")
    assert parse_reply(query, payload("zto_in_transit")) == TrackingResult(
        query,
        tracking=Tracking(
            status=Status.IN_TRANSIT,
            provider="kuaidi100",
            raw_status="1002",
            checkpoints=(
                Checkpoint(
                    at("2024-05-02 06:12:40"),
                    "【杭州转运中心】已发出 下一站【南京转运中心】",
                    "浙江,杭州市",
                    "1002",
                    Status.IN_TRANSIT,
                    "干线",
                ),
                Checkpoint(at("2024-05-01 22:30:05"), "快件已到达【杭州转运中心】", "浙江,杭州市", "0", Status.IN_TRANSIT, "在途"),
                Checkpoint(
                    at("2024-05-01 18:04:11"),
                    "【杭州余杭】（0571-00000000）的小张（13800000000）已揽收",
                    "浙江,杭州市,余杭区",
                    "103",
                    Status.COLLECTED,
                    "已揽收",
                ),
            ),
        ),
    )


def test_sf_delivered_prefers_location_over_area_name(payload) -> None:
    query = q("shunfeng", "SF1400012345678", phone="+8613900005678")
    result = parse_reply(query, payload("sf_delivered"))
    assert result.tracking == Tracking(
        status=Status.DELIVERED,
        provider="kuaidi100",
        raw_status="301",
        checkpoints=(
            Checkpoint(
                at("2024-05-03 14:20:00"),
                "您的快件已签收，如有疑问请电联快递员【王师傅，电话：13900000000】，感谢您使用顺丰",
                "深圳市",
                "301",
                Status.DELIVERED,
                "本人签收",
            ),
            Checkpoint(at("2024-05-03 08:41:13"), "快件交给王师傅，正在派送途中", "深圳市", "5", Status.OUT_FOR_DELIVERY, "派件"),
            Checkpoint(
                at("2024-05-02 21:07:55"), "快件到达【深圳南山科技园营业点】", "深圳市", "1001", Status.ARRIVED_DESTINATION_CITY, "到达派件城市"
            ),
            Checkpoint(at("2024-05-02 10:15:00"), "顺丰速运 已收取快件", "广州市", "103", Status.COLLECTED, "已揽收"),
        ),
    )


def test_arrived_in_delivery_city(payload) -> None:
    result = parse_reply(q("yuantong", "YT7412345678901"), payload("yto_arrived_city"))
    assert result.tracking is not None
    assert (result.tracking.status, result.tracking.raw_status) == (Status.ARRIVED_DESTINATION_CITY, "1001")
    assert result.tracking.checkpoints[0] == Checkpoint(
        at("2024-05-04 05:33:21"), "您的快件已到达【成都转运中心】", "四川,成都市", "1001", Status.ARRIVED_DESTINATION_CITY, "到达派件城市"
    )


def test_locker_or_station(payload) -> None:
    result = parse_reply(q("yunda", "4312345678901"), payload("yunda_locker"))
    assert result.tracking is not None
    assert result.tracking.status is Status.AVAILABLE_FOR_PICKUP
    assert [(c.raw_code, c.status) for c in result.tracking.checkpoints] == [
        ("501", Status.AVAILABLE_FOR_PICKUP),
        ("5", Status.OUT_FOR_DELIVERY),
    ]


def test_outside_delivery_area_is_an_exception(payload) -> None:
    result = parse_reply(q("shentong", "773123456789012"), payload("sto_out_of_area"))
    assert result.tracking is not None
    assert (result.tracking.status, result.tracking.raw_status) == (Status.EXCEPTION, "207")
    assert result.tracking.checkpoints[0].text == "【那曲网点】收件地址超出派送范围，已转邮政派送"
    assert result.tracking.checkpoints[0].location == "西藏,那曲市"


def test_refused(payload) -> None:
    result = parse_reply(q("jtexpress", "JT0001234567890"), payload("jt_refused"))
    assert result.tracking is not None
    assert (result.tracking.status, result.tracking.raw_status) == (Status.EXCEPTION, "14")
    assert [(c.raw_code, c.status) for c in result.tracking.checkpoints] == [
        ("14", Status.EXCEPTION),
        ("203", Status.EXCEPTION),
        ("5", Status.OUT_FOR_DELIVERY),
    ]


def test_on_its_way_back_then_returned(payload) -> None:
    returning = parse_reply(q("ems", "9812345678901"), payload("ems_returning")).tracking
    assert returning is not None
    assert returning.status is Status.RETURNING
    # null areaName and empty location give ""
    assert [(c.location, c.status) for c in returning.checkpoints] == [
        ("昆明市", Status.RETURNING),
        ("", Status.FAILED_ATTEMPT),
    ]
    returned = parse_reply(q("yunda", "YD4300000000004"), payload("returned_4")).tracking
    assert returned is not None
    assert (returned.status, returned.raw_status) == (Status.RETURNED, "4")


def test_no_update_verdict_keeps_the_newest_scan_status(payload) -> None:
    tracking = parse_reply(q("yuantong", "YT7400000000202"), payload("stale_202")).tracking
    assert tracking is not None
    assert (tracking.status, tracking.raw_status) == (Status.ARRIVED_DESTINATION_CITY, "202")


def test_checkpoints_are_sorted_newest_first_whatever_the_reply_order(payload) -> None:
    body = payload("sf_delivered")
    body["data"].reverse()
    tracking = parse_reply(q("shunfeng", "SF1400012345678"), body).tracking
    assert tracking is not None
    assert [c.raw_code for c in tracking.checkpoints] == ["301", "5", "1001", "103"]


def test_unknown_codes_become_unknown_and_are_logged_once(payload) -> None:
    for code in ("9901", "9902"):
        carriers.base._unmapped_seen.discard(("kuaidi100", code))
    query = q("zhongtong", "75309999999999")
    with capture_logs() as logs:
        first = parse_reply(query, payload("unknown_state"))
        parse_reply(query, payload("unknown_state"))
    assert first == TrackingResult(
        query,
        tracking=Tracking(
            status=Status.UNKNOWN,
            provider="kuaidi100",
            raw_status="9901",
            checkpoints=(Checkpoint(datetime(2024, 5, 10, 10, 0, tzinfo=CN), "新的状态", "", "9902", Status.UNKNOWN, "新"),),
        ),
    )
    unmapped = [(e["code"], e["log_level"]) for e in logs if e["event"] == "carrier.unmapped_status"]
    assert sorted(unmapped) == [("9901", "warning"), ("9902", "warning")]


def test_not_found_is_a_problem_value(payload) -> None:
    query = q("zhongtong", "75300000000000")
    assert parse_reply(query, payload("error_500_not_found")) == TrackingResult(
        query, problem=Problem(ProblemKind.NOT_FOUND, "查询无结果，请隔段时间再查", raw_code="500")
    )


def test_empty_trace_is_not_found() -> None:
    query = q("zhongtong", "75300000000000")
    body = {"message": "ok", "nu": "75300000000000", "state": "0", "status": "200", "data": []}
    result = parse_reply(query, body)
    assert result.problem is not None and result.problem.kind is ProblemKind.NOT_FOUND


@pytest.mark.parametrize(
    ("name", "kind"),
    [("error_408_phone", ProblemKind.NEEDS_PHONE), ("error_400_unsupported", ProblemKind.UNSUPPORTED_COURIER)],
)
def test_per_number_problems(payload, name: str, kind: ProblemKind) -> None:
    body = payload(name)
    result = parse_reply(q("shunfeng", "SF1400012345678"), body)
    assert result.problem == Problem(kind, body["message"], raw_code=body["returnCode"])


@pytest.mark.parametrize(
    ("name", "error", "code"),
    [
        ("error_503_bad_sign", ProviderAuthError, "503"),
        ("error_601_expired", ProviderAuthError, "601"),
        ("error_501_server", ProviderTransient, "501"),
        ("error_502_busy", ProviderTransient, "502"),
        ("error_400_no_company", ProviderRejected, "400"),
        ("error_700_other", ProviderRejected, "700"),
    ],
)
def test_whole_request_errors(payload, name: str, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as caught:
        parse_reply(q("zhongtong", "75301234567890"), payload(name))
    assert type(caught.value) is error
    assert (caught.value.provider, caught.value.code) == ("kuaidi100", code)


def test_numeric_return_code_is_accepted() -> None:
    result = parse_reply(q("zhongtong", "75300000000000"), {"result": False, "returnCode": 500, "message": "查询无结果"})
    assert result.problem is not None and result.problem.raw_code == "500"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"",
        b"[1, 2]",
        b'{"message": "ok"}',
        b'{"message": "ok", "state": "0", "data": "nope"}',
        b'{"message": "ok", "state": "0", "data": [{"context": "no time"}]}',
        b'{"message": "ok", "state": "0", "data": [{"time": "yesterday", "context": "x"}]}',
        b'{"message": "ok", "state": "0", "data": ["not an object"]}',
        b'{"result": false, "message": "no code"}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_transient(body: bytes) -> None:
    with pytest.raises(ProviderTransient, match="malformed body"):
        parse_body(q("zhongtong", "75301234567890"), body)


def test_parse_body_decodes_utf8(payload) -> None:
    raw = json.dumps(payload("yunda_locker"), ensure_ascii=False).encode("utf-8")
    result = parse_body(q("yunda", "4312345678901"), raw)
    assert result.tracking is not None and result.tracking.status is Status.AVAILABLE_FOR_PICKUP


def test_times_are_china_time() -> None:
    assert parse_time("2024-05-01 10:00:00") == datetime(2024, 5, 1, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert parse_time("2024-05-01 10:00").utcoffset() is not None


# -- request building (pure) -------------------------------------------------------


def test_param_is_compact_json_in_fixed_order() -> None:
    assert build_param(q("zhongtong", " 75301234567890 ", phone="+86 139-0000-5678")) == (
        '{"com":"zhongtong","num":"75301234567890","phone":"5678","resultv2":"4","show":"0","order":"desc"}'
    )
    assert build_param(q("yunda", "4312345678901")) == (
        '{"com":"yunda","num":"4312345678901","resultv2":"4","show":"0","order":"desc"}'
    )


def test_sign_known_vector() -> None:
    # md5('{"com":"yuantong","num":"12345678"}' + "KEY" + "CUSTOMER"), upper-cased
    assert sign('{"com":"yuantong","num":"12345678"}', "KEY", "CUSTOMER") == "21D971A789B5067A9E338FE48E94B6FB"


def test_form_fields() -> None:
    form = build_form(q("yuantong", "YT7412345678901"), customer="CUST", key="K3Y")
    assert set(form) == {"customer", "sign", "param"}
    assert form["customer"] == "CUST"
    assert form["sign"] == sign(form["param"], "K3Y", "CUST")


@pytest.mark.parametrize(
    ("phone", "suffix"),
    [("+8613912345678", "5678"), ("13800138000-1234", "1234"), ("0571-8888 6666", "6666"), ("123", None), (None, None)],
)
def test_phone_suffix(phone: str | None, suffix: str | None) -> None:
    assert phone_suffix(phone) == suffix
