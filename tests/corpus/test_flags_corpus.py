"""Precision and recall of the four flags on an independent, labelled corpus.

The main test runs the product as a shop runs it: ``parcelwatch import`` of a shop CSV,
``parcelwatch poll --all`` against a local Kuaidi100-compatible server, ``parcelwatch list
--json``; then it compares every parcel's flags with the labels of
:mod:`tests.corpus.trajectories` (built from DESIGN.md's meaning, not from the rules code).
It prints a per-flag table and every misjudged parcel (run with ``-s`` to see them on
success) and requires precision and recall >= 0.98 for each flag.

A second test feeds the same corpus straight to ``watcher.rules.evaluate`` at chosen
moments (official holidays, peak sale days, a plain day), which the real clock cannot
provide; a third checks the corpus itself (margins, shapes, determinism) without the product.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.corpus.trajectories import (
    CHINA,
    CSV_COLUMNS,
    FLAGS,
    MARGIN_HOURS,
    Case,
    build,
    summary,
    threshold_range,
)
from tests.fakes.kuaidi100 import DEFAULT_CUSTOMER, DEFAULT_KEY, Kuaidi100Fake, serve_in_thread

SEED = 20261126
MIN_SCORE = 0.98
NO_FLAG_FAMILIES = ("delivered", "delivered_after_problem", "pickup")


# --------------------------------------------------------------------------------------------
# Scoring and reporting


def score(cases: Sequence[Case], actual: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Per flag: tp, fp, fn, precision, recall (a flag nobody expects or raises scores 1.0)."""
    out = {}
    for flag in FLAGS:
        tp = sum(1 for c in cases if flag in c.expected_flags and flag in actual[c.tracking_number])
        fp = sum(1 for c in cases if flag not in c.expected_flags and flag in actual[c.tracking_number])
        fn = sum(1 for c in cases if flag in c.expected_flags and flag not in actual[c.tracking_number])
        precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
        recall = tp / (tp + fn) if tp + fn else 1.0
        out[flag] = {"expected": tp + fn, "raised": tp + fp, "tp": tp, "fp": fp, "fn": fn,
                     "precision": precision, "recall": recall}
    return out


def report(title: str, cases: Sequence[Case], flags: Mapping[str, Sequence[str]],
           statuses: Mapping[str, str]) -> dict[str, dict[str, float]]:
    scores = score(cases, flags)
    status_right = sum(1 for c in cases if c.status_ok(statuses[c.tracking_number]))
    print(f"\n=== {title}: {len(cases)} parcels ===")
    print(f"{'flag':<14}{'expected':>9}{'raised':>8}{'tp':>6}{'fp':>6}{'fn':>6}{'precision':>11}{'recall':>8}")
    for flag, s in scores.items():
        print(f"{flag:<14}{s['expected']:>9}{s['raised']:>8}{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}"
              f"{s['precision']:>11.3f}{s['recall']:>8.3f}")
    print(f"status accuracy: {status_right}/{len(cases)} = {status_right / len(cases):.3f}")

    wrong = [c for c in cases if set(flags[c.tracking_number]) != set(c.expected_flags)]
    by_family: dict[str, list[Case]] = defaultdict(list)
    for c in wrong:
        by_family[c.family].append(c)
    print(f"misjudged flags: {len(wrong)}")
    for family, group in sorted(by_family.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"--- {family} ({len(group)})")
        for c in group:
            print(f"  {c.tracking_number} [{c.com}] {c.province}{c.city}{c.district} shipped {c.shipped_at}: "
                  f"expected {sorted(c.expected_flags)} got {sorted(flags[c.tracking_number])} "
                  f"(status {statuses[c.tracking_number]}, expected {c.expected_status})")
            print(f"      {c.label_note}")
            print(f"      latest: {c.latest_text}")
    bad_status = [c for c in cases if not c.status_ok(statuses[c.tracking_number])]
    if bad_status:
        print(f"status differences: {len(bad_status)} (reported, not asserted)")
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for c in bad_status:
            counts[(c.family, c.expected_status, statuses[c.tracking_number])] += 1
        for (family, want, got), n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {n:>3} × {family}: expected {want}, got {got}")
    return scores


def assert_scores(scores: Mapping[str, Mapping[str, float]]) -> None:
    low = {flag: (round(s["precision"], 3), round(s["recall"], 3)) for flag, s in scores.items()
           if s["precision"] < MIN_SCORE or s["recall"] < MIN_SCORE}
    assert not low, f"flags below {MIN_SCORE} (precision, recall): {low} — see the printed report"


def assert_quiet_families(cases: Sequence[Case], flags: Mapping[str, Sequence[str]]) -> None:
    noisy = {c.tracking_number: (c.family, sorted(flags[c.tracking_number])) for c in cases
             if c.family in NO_FLAG_FAMILIES and flags[c.tracking_number]}
    assert not noisy, f"delivered / pickup parcels carry flags: {noisy}"


# --------------------------------------------------------------------------------------------
# Through the real command line


def _cli(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELWATCH_")}
    result = subprocess.run([sys.executable, "-m", "watcher", "--config", str(config), *argv],
                            capture_output=True, text=True, env=env, timeout=120, cwd=config.parent)
    assert result.returncode == 0, f"parcelwatch {argv[0]} failed ({result.returncode}): {result.stderr[-3000:]}"
    return result


def _write_csv(path: Path, cases: Sequence[Case]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for c in cases:
            writer.writerow(c.csv_row())


def test_flags_through_the_cli(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)  # the CLI judges with the real clock
    cases = build(now, seed=SEED)
    fake = Kuaidi100Fake({c.tracking_number: c.reply for c in cases})
    with serve_in_thread(fake) as base_url:
        config = tmp_path / "parcelwatch.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "pw.db"}"\n'
            f'[providers.kuaidi100]\ncustomer = "{DEFAULT_CUSTOMER}"\nkey = "{DEFAULT_KEY}"\n'
            f'base_url = "{base_url}"\nrate_limit = 0\n',
            encoding="utf-8",
        )
        shop_csv = tmp_path / "parcels.csv"
        _write_csv(shop_csv, cases)
        _cli(config, "import", str(shop_csv))
        poll = json.loads(_cli(config, "poll", "--all", "--json").stdout)
        listed = json.loads(_cli(config, "list", "--json").stdout)
        stall_report = json.loads(_cli(config, "report", "--format", "json").stdout)
        _cli(config, "report", "--format", "csv", "--output", str(tmp_path / "stall.csv"))

    print(f"\npoll: {poll}")
    parcels = {p["tracking_number"]: p for p in listed}
    missing = [c.tracking_number for c in cases if c.tracking_number not in parcels]
    assert not missing, f"{len(missing)} parcels missing from `list --json`, e.g. {missing[:5]}"
    assert fake.by_number.keys() >= {c.tracking_number for c in cases}, "some numbers were never asked"
    carriers_wrong = {c.tracking_number: (c.courier, parcels[c.tracking_number]["carrier"]) for c in cases
                      if parcels[c.tracking_number]["carrier"] != c.com}
    assert not carriers_wrong, f"couriers resolved wrongly: {carriers_wrong}"

    flags = {n: list(p.get("flags") or []) for n, p in parcels.items()}
    statuses = {n: str(p.get("status")) for n, p in parcels.items()}
    scores = report(f"CLI against a Kuaidi100-compatible server, now={now.astimezone(CHINA):%Y-%m-%d %H:%M} CST",
                    cases, flags, statuses)
    assert_quiet_families(cases, flags)
    assert_scores(scores)

    # the stall report lists every flagged parcel exactly once per flag, and its CSV opens in Excel
    expected = sorted((n, f) for n, fs in flags.items() for f in fs)
    reported = sorted((e["tracking_number"], e["flag"]) for e in stall_report["flagged"])
    assert reported == expected and len(expected) > 100
    raw = (tmp_path / "stall.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted((r["tracking_number"], r["flag"]) for r in rows) == expected


# --------------------------------------------------------------------------------------------
# Straight through the rules, at moments the real clock cannot give

FIXED_NOWS = {
    "national_day_2026": datetime(2026, 10, 5, 20, 0, tzinfo=CHINA),  # 国庆 10-01..10-07
    "spring_festival_2026": datetime(2026, 2, 20, 15, 0, tzinfo=CHINA),  # 春节 02-15..02-23
    "labour_day_2026": datetime(2026, 5, 4, 11, 0, tzinfo=CHINA),  # 劳动节 05-01..05-05
    "double_11_peak": datetime(2026, 11, 13, 21, 0, tzinfo=CHINA),  # peak 11-11..11-15
    "dragon_boat_and_618": datetime(2026, 6, 20, 10, 0, tzinfo=CHINA),  # 端午 06-19..06-21 ∪ peak 06-18..06-20
    "plain_day": datetime(2026, 3, 18, 10, 0, tzinfo=CHINA),
}


def _evaluate_directly(cases: Sequence[Case], now: datetime) -> tuple[dict[str, list[str]], dict[str, str]]:
    from carriers.base import TrackingQuery
    from carriers.kuaidi100.parse import parse_reply
    from watcher.rules import ParcelFacts, evaluate
    from watcher.rules.calendar import HolidayCalendar, PeakPeriod
    from watcher.settings import DetectionSettings

    settings = DetectionSettings()
    calendar = HolidayCalendar(CHINA, [PeakPeriod.parse(p) for p in settings.peaks], holidays=settings.holidays)
    flags, statuses = {}, {}
    for c in cases:
        result = parse_reply(TrackingQuery(courier=c.com, tracking_number=c.tracking_number), c.reply)
        shipped = datetime.strptime(c.shipped_at, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA).astimezone(timezone.utc)
        parcel = ParcelFacts(courier=c.com, tracking_number=c.tracking_number, shipped_at=shipped,
                             province=c.province, city=c.city, district=c.district)
        verdict = evaluate(parcel, result.tracking, now.astimezone(timezone.utc), calendar, settings)
        flags[c.tracking_number] = list(verdict.flag_names)
        statuses[c.tracking_number] = verdict.status.value
    return flags, statuses


@pytest.mark.parametrize("moment", list(FIXED_NOWS))
def test_flags_through_the_rules_at_chosen_moments(moment: str) -> None:
    now = FIXED_NOWS[moment]
    cases = build(now, seed=SEED, holiday_cases=True)
    if moment != "plain_day":
        assert any(c.family.startswith("holiday_") for c in cases), f"no holiday cases around {moment}"
    flags, statuses = _evaluate_directly(cases, now)
    scores = report(f"rules at {moment} ({now:%Y-%m-%d %H:%M} CST)", cases, flags, statuses)
    assert_quiet_families(cases, flags)
    holiday_flagged = {c.tracking_number: (c.family, flags[c.tracking_number]) for c in cases
                       if c.family.startswith("holiday_") and flags[c.tracking_number]}
    assert not holiday_flagged, f"holiday/peak extension not applied: {holiday_flagged}"
    assert_scores(scores)


# --------------------------------------------------------------------------------------------
# The corpus itself (no product code involved)


def _china(text: str) -> datetime:
    fmt = "%Y-%m-%d %H:%M:%S" if len(text) > 16 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=CHINA)


@pytest.mark.parametrize("now", [datetime.now(timezone.utc), *FIXED_NOWS.values(),
                                 datetime(2026, 12, 13, 9, 0, tzinfo=CHINA), datetime(2027, 1, 2, 9, 0, tzinfo=CHINA)],
                         ids=["real_now", *FIXED_NOWS, "double_12_peak", "unknown_year_2027"])
def test_corpus_is_realistic_and_unambiguous(now: datetime) -> None:
    cases = build(now, seed=SEED, holiday_cases=True)
    assert len(cases) >= 350
    assert build(now, seed=SEED, holiday_cases=True) == cases  # deterministic
    assert len({c.tracking_number for c in cases}) == len(cases)

    counts = summary(cases)
    assert all(counts["flag"][flag] >= 20 for flag in FLAGS), counts["flag"]
    assert len(counts["courier"]) == 10
    assert abs(counts["detailed"]["detailed"] - counts["detailed"]["coarse"]) <= len(cases) * 0.1
    remote_prefectures = {c.city for c in cases if c.remote == "yes"}
    assert {"喀什地区", "拉萨市", "西宁市", "甘孜藏族自治州", "阿坝藏族羌族自治州", "阿拉善盟"} <= remote_prefectures

    for c in cases:
        assert c.expected_flags <= set(FLAGS)
        assert len(c.expected_flags) <= 1, c
        shipped = _china(c.shipped_at)
        assert shipped <= now
        data = c.reply.get("data")
        if data is None:
            assert c.reply == {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
            continue
        assert c.reply["nu"] == c.tracking_number
        times = [_china(item["time"]) for item in data]
        assert times == sorted(times, reverse=True), f"{c.tracking_number}: not newest first"
        assert times[0] <= now and shipped <= times[-1], c.tracking_number
        assert all(item["context"] for item in data)
        if c.detailed_codes:
            assert all(item.get("statusCode") for item in data)
        else:
            assert all(item.get("statusCode") in (None, "0") for item in data)

    # Every timing label keeps MARGIN_HOURS from every threshold a reading of DESIGN.md gives.
    for c in cases:
        if not c.stage:
            continue
        if c.stage == "not_collected":
            start = _china(c.shipped_at)
        else:
            start = _china(c.reply["data"][0]["time"])
        age = (now - start).total_seconds() / 3600
        lo, hi = threshold_range(c.stage, start, now, c.remote)
        wants_flag = "stalled" in c.expected_flags or "not_collected" in c.expected_flags
        if wants_flag:
            assert age >= hi + MARGIN_HOURS - 0.01, (c.tracking_number, c.family, age, hi)
        else:
            assert age <= lo - MARGIN_HOURS + 0.05, (c.tracking_number, c.family, age, lo)
