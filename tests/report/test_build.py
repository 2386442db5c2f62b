"""Sections, acknowledgements, actions, the call list and masking in the built report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.report.helpers import NOW, add_parcel, clear, flag, raise_again
from tests.support import make_settings
from watcher.errors import InputError
from watcher.report import acknowledge, generate, record_run
from watcher.store.db import Database
from watcher.store.models import FlagEvent

SETTINGS = make_settings(shop={"name": "小鲸鱼旗舰店"})
YESTERDAY = NOW - timedelta(days=1)


def sections(report) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {"new": [], "open": [], "in_hand": []}
    for e in report.entries:
        out[e.section].append((e.tracking_number, e.flag))
    return out


def test_without_a_previous_report_everything_is_new(db: Database) -> None:
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=YESTERDAY)
    add_parcel(db, "ZT2", [], raised_at=YESTERDAY)  # not flagged: not in the report
    report = generate(db, SETTINGS, now=NOW)
    assert sections(report) == {"new": [("ZT1", "stalled")], "open": [], "in_hand": []}
    assert report.since is None


def test_sections_new_open_in_hand_resolved(db: Database) -> None:
    add_parcel(db, "ZT-OLD", [flag("stalled", "transit_stall")], raised_at=YESTERDAY - timedelta(hours=2))
    add_parcel(db, "ZT-ACK", [flag("stalled", "city_stall")], raised_at=YESTERDAY - timedelta(hours=2))
    gone = add_parcel(db, "ZT-GONE", [flag("stalled", "transit_stall")], raised_at=YESTERDAY - timedelta(hours=2))
    record_run(db, generated_at=YESTERDAY, fmt="text", entries=3)
    add_parcel(db, "YT-NEW", [flag("unreachable", "out_of_area", hours=None, threshold=None, level=0)],
               raised_at=NOW - timedelta(hours=3), courier="yuantong")
    acknowledge(db, "ZT-ACK", note="已致电网点，明天派送", by="小李", now=NOW - timedelta(hours=1))
    clear(db, gone, "stalled", NOW - timedelta(hours=2))
    report = generate(db, SETTINGS, now=NOW)
    assert sections(report) == {
        "new": [("YT-NEW", "unreachable")],
        "open": [("ZT-OLD", "stalled")],
        "in_hand": [("ZT-ACK", "stalled")],
    }
    assert [(r.tracking_number, r.flag) for r in report.resolved] == [("ZT-GONE", "stalled")]
    assert report.since == YESTERDAY
    s = report.summary
    assert (s["new"], s["open"], s["in_hand"], s["resolved_today"], s["flagged_parcels"]) == (1, 1, 1, 1, 3)
    assert s["by_flag"] == {"stalled": 2, "unreachable": 1}
    assert s["by_carrier"] == {"yuantong": 1, "zhongtong": 2}
    in_hand = report.section("in_hand")[0]
    assert in_hand.acknowledged and in_hand.acknowledgements[0].note == "已致电网点，明天派送"


def test_ack_holds_until_the_flag_changes(db: Database) -> None:
    pid = add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=YESTERDAY)
    acknowledge(db, "ZT1", note="催件中", by="", now=YESTERDAY + timedelta(hours=1))
    assert sections(generate(db, SETTINGS, now=NOW))["in_hand"] == [("ZT1", "stalled")]

    # the flag clears and is raised again: a new episode, no longer in hand
    clear(db, pid, "stalled", NOW - timedelta(hours=5))
    raise_again(db, pid, "stalled", "city_stall", NOW - timedelta(hours=4))
    report = generate(db, SETTINGS, now=NOW)
    assert sections(report)["in_hand"] == []
    (entry,) = report.entries
    assert entry.section == "new" and not entry.acknowledged
    assert entry.acknowledgements and not entry.acknowledgements[0].current


def test_escalation_to_probable_loss_takes_it_out_of_hand(db: Database) -> None:
    pid = add_parcel(db, "ZT1", [flag("stalled", "transit_stall", level=1)], raised_at=YESTERDAY)
    acknowledge(db, "ZT1", note="催件中", by="王", now=YESTERDAY + timedelta(hours=1))
    with db.session() as s:
        (event,) = s.exec(select(FlagEvent).where(FlagEvent.parcel_id == pid)).all()
        event.level = 2
    report = generate(db, SETTINGS, now=NOW)
    (entry,) = report.entries
    assert entry.section != "in_hand" and entry.level == 2
    assert entry.next_actions == ("claim",)
    assert report.summary["probable_losses"] == 1


def test_parcel_with_two_flags_gives_two_entries(db: Database) -> None:
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall"), flag("exception", "refused", hours=None)],
               raised_at=YESTERDAY)
    report = generate(db, SETTINGS, now=NOW)
    assert sorted((e.tracking_number, e.flag) for e in report.entries) == [("ZT1", "exception"), ("ZT1", "stalled")]
    assert report.summary["flagged_parcels"] == 1 and report.summary["entries"] == 2
    acknowledge(db, "ZT1", note="拒收，联系买家", by="", now=NOW, flag="exception")
    report = generate(db, SETTINGS, now=NOW)
    assert {e.flag: e.section for e in report.entries} == {"stalled": "new", "exception": "in_hand"}


def test_next_actions(db: Database) -> None:
    add_parcel(db, "A", [flag("stalled", "transit_stall")], raised_at=YESTERDAY, notices=("failed", "failed"))
    add_parcel(db, "B", [flag("stalled", "transit_stall")], raised_at=YESTERDAY, notices=("failed", "delivered"))
    add_parcel(db, "C", [flag("unreachable", "out_of_area", hours=None, threshold=None, level=0)], raised_at=YESTERDAY)
    add_parcel(db, "D", [flag("stalled", "transit_stall", level=2)], raised_at=YESTERDAY)
    actions = {e.tracking_number: e.next_actions for e in generate(db, SETTINGS, now=NOW).entries}
    assert actions == {"A": ("call_outlet", "call_buyer"), "B": ("call_outlet",), "C": ("reship",), "D": ("claim",)}


def test_call_list_whole_by_default_masked_when_configured(db: Database) -> None:
    texts = ("【杭州市】派件员：王师傅 电话：13812345678", "【杭州滨江网点】网点电话0571-12345678")
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=YESTERDAY, texts=texts)
    add_parcel(db, "ZT2", [flag("stalled", "transit_stall")], raised_at=YESTERDAY, texts=texts[1:])
    report = generate(db, SETTINGS, now=NOW)
    assert [(c.number, c.tracking_numbers) for c in report.call_list] == [
        ("13812345678", ("ZT1",)), ("0571-12345678", ("ZT1", "ZT2"))]
    masked = generate(db, make_settings(report={"unmask_call_list": False}), now=NOW)
    assert [c.number for c in masked.call_list] == ["138****5678", "0571-****5678"]


def test_personal_data_masked(db: Database) -> None:
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=YESTERDAY)
    (e,) = generate(db, SETTINGS, now=NOW).entries
    assert e.buyer_name == "张*" and e.buyer_phone == "+86139****5678"
    assert "13812345678" not in e.last_checkpoint_text and "13812345678" not in e.reason


def test_hours_threshold_and_extension(db: Database) -> None:
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall", hours=100.04, threshold=96, extended=24,
                                extended_by=("holiday",))], raised_at=YESTERDAY)
    (e,) = generate(db, SETTINGS, now=NOW).entries
    assert (e.hours_since_update, e.threshold_hours, e.extended_hours, e.extended_by) == (100.0, 96.0, 24.0, ("holiday",))


def test_date_renders_as_of_the_end_of_that_day(db: Database) -> None:
    from datetime import date

    add_parcel(db, "OLD", [flag("stalled", "transit_stall")], raised_at=YESTERDAY - timedelta(days=1))
    add_parcel(db, "LATER", [flag("stalled", "transit_stall")], raised_at=NOW - timedelta(hours=1))
    day = (YESTERDAY - timedelta(days=1)).astimezone(SETTINGS.shop.tz).date()
    report = generate(db, SETTINGS, now=NOW, day=day)
    assert [e.tracking_number for e in report.entries] == ["OLD"]
    assert report.as_of.astimezone(SETTINGS.shop.tz).strftime("%H:%M:%S") == "23:59:59"
    assert generate(db, SETTINGS, now=NOW, day=date(2030, 1, 1)).as_of == NOW  # not beyond now


@pytest.mark.parametrize("number", ["NOPE", "FREE"])
def test_ack_refuses_unknown_and_unflagged(db: Database, number: str) -> None:
    add_parcel(db, "FREE", [], raised_at=YESTERDAY)
    with pytest.raises(InputError):
        acknowledge(db, number, note="x", by="", now=NOW)


def test_ack_needs_a_note_and_a_current_flag(db: Database) -> None:
    add_parcel(db, "ZT1", [flag("stalled", "transit_stall")], raised_at=YESTERDAY)
    with pytest.raises(InputError, match="note"):
        acknowledge(db, "ZT1", note="  ", by="", now=NOW)
    with pytest.raises(InputError, match="not flagged 'exception'"):
        acknowledge(db, "ZT1", note="x", by="", now=NOW, flag="exception")
