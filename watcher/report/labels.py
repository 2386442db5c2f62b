"""The words of the stall report that people read, in English and Chinese (``report.language``).

Text, HTML and the ops-chat summary take their labels from here; JSON and CSV keep
their English keys (they are read by programs and documented in
``docs/report-schema.json``).  Codes (flags, stages, notice kinds, couriers) are
shown as they are: they are the vocabulary of the JSON and of ``parcelwatch list``.
Placeholders use :meth:`str.format`.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "labels", "action", "num", "pct"]

#: key → (English, 简体中文)
_LABELS: dict[str, tuple[str, str]] = {
    "title": ("{shop} — stall report", "{shop} — 异常件日报"),
    "as_of": ("as of", "截至"),
    "since_last": ("since the last report", "上次报告"),
    "none_before": ("none before", "无"),
    # summary counts
    "flagged": ("flagged", "异常件"),
    "new": ("new", "新增"),
    "open": ("still open", "未处理"),
    "in_hand": ("in hand", "处理中"),
    "resolved_today": ("resolved today", "今日解决"),
    "probable_losses": ("probable losses", "疑似丢件"),
    "buyer_unreached": ("buyers not reached", "未联系上买家"),
    "buyers_to_phone": ("buyers to phone", "需电话联系买家"),
    "by_flag": ("by flag", "按异常"),
    "by_carrier": ("by courier", "按快递"),
    # sections
    "section.new": ("New since the last report", "上次报告后新增"),
    "section.open": ("Still open", "仍未处理"),
    "section.in_hand": ("In hand (acknowledged)", "处理中（已确认）"),
    "section.resolved": ("Resolved today", "今日已解决"),
    "section.calls": ("Call list", "待拨电话"),
    "section.buyers": ("Buyers to phone: no notice got through", "需电话联系的买家：通知均未送达"),
    "section.scorecard": ("Courier scorecard", "快递表现"),
    "section.providers": ("Tracking providers", "查询接口"),
    "none": ("none", "无"),
    "no_numbers": ("no numbers to call", "没有需要拨打的电话"),
    "all_reached": ("every buyer was reached", "所有买家均已通知到"),
    # entry fields
    "courier": ("courier", "快递"),
    "order": ("order", "订单"),
    "buyer": ("buyer", "买家"),
    "flag": ("flag", "异常"),
    "stage": ("stage", "阶段"),
    "last_scan": ("last scan", "最后轨迹"),
    "no_movement": ("no movement", "停滞时长"),
    "hours_still": ("{hours} h without movement", "{hours} 小时无更新"),
    "threshold": ("threshold", "阈值"),
    "incl": ("incl.", "含"),
    "escalation": ("escalation", "升级"),
    "level": ("level {level}", "{level} 级"),
    "flagged_since": ("flagged since", "标记于"),
    "why": ("why", "原因"),
    "notices": ("notices", "买家通知"),
    "acknowledged": ("acknowledged", "已确认"),
    "ack_by": ("by {by}", "（{by}）"),
    "earlier_episode": ("earlier episode", "上一次异常"),
    "no": ("no", "否"),
    "next": ("next", "下一步"),
    "see_calls": ("see call list", "见待拨电话"),
    "cleared": ("cleared", "解除于"),
    "now_status": ("now {status}", "现为 {status}"),
    "failed_notices": ("failed", "失败"),
    # scorecard
    "shipped": ("parcels shipped {since} – {until} ({days} days)", "{since} 至 {until} 发出的包裹（{days} 天）"),
    "province_note": ("a province is shown from {n} parcels; rates: share of the parcels flagged so at least once",
                      "单省至少 {n} 件才单独列出；比例为出现过该异常的包裹占比"),
    "courier_province": ("courier / province", "快递 / 省份"),
    "parcels": ("parcels", "包裹"),
    "delivered": ("delivered", "已签收"),
    "median_h": ("median h", "中位时长(小时)"),
    "no_parcels": ("no parcels shipped in the period", "期间没有发货"),
    "by_destination": ("By destination: couriers compared, fastest first", "按目的地比较快递（快者在前）"),
    "stalled_share": ("stalled {rate}", "停滞 {rate}"),
    "provider": ("provider", "接口"),
    "cycles": ("cycles", "轮次"),
    "requests": ("requests", "请求"),
    "unanswered": ("unanswered", "未应答"),
    "outages": ("outages", "中断"),
    "longest_h": ("longest h", "最长(小时)"),
    "last_error": ("last error", "最近错误"),
    "failing_now": ("failing now", "当前中断"),
    "no_polls": ("no polls in the period", "期间没有查询"),
    "provider_line": ("{provider}: {cycles} cycles, {requests} requests, {parcels} parcels asked, {failed} unanswered; "
                      "{outages} outage(s), longest {longest} h",
                      "{provider}：{cycles} 轮，{requests} 次请求，查询 {parcels} 件，{failed} 件未应答；"
                      "中断 {outages} 次，最长 {longest} 小时"),
    # chat summary
    "chat_title": ("{shop} stall report {time}", "{shop} 异常件日报 {time}"),
    "chat_counts": ("flagged parcels {flagged}: new {new}, still open {open}, in hand {in_hand}; "
                    "resolved today {resolved}",
                    "异常件 {flagged} 件：新增 {new}，未处理 {open}，处理中 {in_hand}；今日解决 {resolved}"),
    "chat_alerts": ("probable losses {losses} · buyers to phone {buyers}", "疑似丢件 {losses} · 需电话联系买家 {buyers}"),
    "first": ("first:", "优先处理："),
    "files": ("files", "文件"),
    # next actions
    "action.claim": ("open a claim with the courier (probably lost)", "向快递发起理赔（疑似丢件）"),
    "action.reship": ("re-ship by another courier (area not served)", "改用其他快递重发（超区）"),
    "action.call_outlet": ("call the courier's outlet", "致电快递网点"),
    "action.call_buyer": ("phone the buyer (no notice got through)", "电话联系买家（通知未送达）"),
}

#: ``report.language`` values
LANGUAGES = ("en", "zh-CN")


def labels(language: str) -> Mapping[str, str]:
    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    return {key: pair[index] for key, pair in _LABELS.items()}


def action(code: str, language: str = "en") -> str:
    """The words for a next-action code (``claim``, ``reship``, ``call_outlet``, ``call_buyer``)."""
    return labels(language).get(f"action.{code}", code)


def num(value: float | None) -> str:
    """Hours and thresholds as people read them: ``72``, ``119.6``; ``""`` for none."""
    return "" if value is None else f"{value:g}"


def pct(rate: float) -> str:
    """A share (0..1) as a percentage with one decimal: ``0.125`` → ``12.5%``."""
    return f"{rate * 100:.1f}%"
