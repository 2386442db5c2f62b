"""Routing and handlers of ``parcelwatch serve``: pure-ish functions ``(ServeContext, Request) → Response``.

No sockets here (see :mod:`watcher.serve.server`); tests call :func:`handle` directly.

Endpoints::

    POST /twilio/status    Twilio message status callback   X-Twilio-Signature, else 403
    POST /twilio/inbound   Twilio inbound SMS (STOP/退订/TD; START/UNSTOP/YES) X-Twilio-Signature, else 403
    POST /chat/presence    chat bridge presence, JSON       X-Parcelwatch-Timestamp/-Signature, else 401
    GET  /healthz          {"status":"ok","database":"ok"}  503 when the database does not answer
    GET  /metrics          Prometheus text format

Twilio signs ``serve.public_url + path?query`` (the URL it was told to call); with an
empty ``public_url`` the URL is rebuilt as ``http://<Host header><path?query>``, which is
only right when nothing (TLS proxy, path prefix) sits between Twilio and us.

Status callbacks arrive twice or out of order, so they are applied *forward only*: one
conditional ``UPDATE … WHERE state IN (<lower states>)`` per callback.  Rank:
``queued/deferred < sending < sent < failed < delivered``; a callback moves a notice only to
a higher rank, so a late ``sent`` never undoes ``delivered``, ``failed``/``undelivered``
never overrides ``delivered``, and a duplicate changes nothing.  Twilio's own ``queued``,
``accepted``, ``sending`` … are ignored: moving our row back to ``queued`` would send it again.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from threading import Lock
from typing import Any
from urllib.parse import parse_qs

import structlog
from sqlalchemy import func, select, text, update

from carriers.base import Status
from notifiers.chat_webhook import signing
from watcher.clock import Clock, SystemClock
from watcher.redact import mask_phone
from watcher.rules.evaluate import FLAGS
from watcher.settings import Settings
from watcher.store.db import Database
from watcher.store.models import FLAG_SEP, NOTICE_STATES, ChatPresence, Notice, OptOut, Parcel
from watcher.store.outbox import fall_back_after_late_failure
from watcher.store.polling import insert_ignoring_duplicates

__all__ = [
    "Request",
    "Response",
    "ServeContext",
    "handle",
    "twilio_status",
    "twilio_inbound",
    "chat_presence",
    "healthz",
    "metrics",
    "STOP_WORDS",
    "START_WORDS",
    "MAX_BODY",
]

log = structlog.get_logger("parcelwatch.serve")

#: inbound SMS bodies (trimmed, case-folded) that opt the sender out of SMS for good:
#: Twilio's standard English keywords plus the mainland conventions 退订 / TD / T / 退订回T
STOP_WORDS = frozenset(
    w.casefold() for w in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD", "T", "退订回T")
)
#: inbound SMS bodies that undo an opt-out: Twilio's standard opt-in keywords (Twilio itself
#: unblocks the number on these, so we may message the buyer again)
START_WORDS = frozenset(w.casefold() for w in ("START", "UNSTOP", "YES"))
#: request bodies larger than this are refused (413); callbacks are a few hundred bytes
MAX_BODY = 64 * 1024
#: Twilio error code: the recipient replied STOP; we must not message them again
OPT_OUT_ERROR = "21610"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

#: forward-only ranks of our notice states (suppressed never moves)
_RANK = {"queued": 0, "deferred": 0, "sending": 1, "sent": 2, "failed": 3, "delivered": 4, "suppressed": 99}
#: Twilio MessageStatus → our notice state; statuses not listed are ignored
_TWILIO_STATUS = {"sent": "sent", "delivered": "delivered", "read": "delivered",
                  "undelivered": "failed", "failed": "failed"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # any case; looked up case-insensitively
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return None

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def _json(status: int, data: Mapping[str, Any]) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message})


def _twiml() -> Response:
    return Response(200, EMPTY_TWIML, "text/xml; charset=utf-8")


@dataclass
class ServeContext:
    """What the handlers need: settings, database and clock (injected; tests use ManualClock)."""

    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    _unknown_sids: OrderedDict[str, None] = field(default_factory=OrderedDict, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def first_time_unknown(self, sid: str) -> bool:
        """True the first time ``sid`` is seen unknown (bounded memory): log unknown sids once."""
        with self._lock:
            if sid in self._unknown_sids:
                return False
            self._unknown_sids[sid] = None
            if len(self._unknown_sids) > 1000:
                self._unknown_sids.popitem(last=False)
            return True


# -- Twilio ---------------------------------------------------------------------------------
class _Form(dict[str, list[str]]):
    """Form fields with every value kept (``getlist`` is what RequestValidator looks for)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str) -> str:
        values = self.get(name)
        return values[0].strip() if values else ""


def _form(request: Request) -> _Form:
    try:
        text_body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _Form()
    return _Form(parse_qs(text_body, keep_blank_values=True))


def signed_url(ctx: ServeContext, request: Request) -> str:
    """The URL Twilio signed: ``public_url`` + path (+ query), else ``http://<Host>`` + path."""
    base = ctx.settings.serve.public_url or f"http://{request.header('Host') or ''}"
    return base + request.target


def _twilio_valid(ctx: ServeContext, request: Request, form: _Form) -> bool:
    from twilio import request_validator as rv

    token = ctx.settings.twilio.auth_token.get_secret_value()
    signature = request.header("X-Twilio-Signature")
    if not token:  # an empty key would let anyone sign: refuse everything
        log.warning("twilio.callback_refused", reason="twilio.auth_token is not set", path=request.path)
        return False
    if not signature:
        return False
    algorithm = None
    get_algorithm = getattr(rv, "get_signature_algorithm", None)  # newer SDKs: SHA-256 webhooks
    if get_algorithm is not None:
        algorithm = get_algorithm(request.header(getattr(rv, "SIGNATURE_SETTINGS_HEADER", "")) or "")
    validator = rv.RequestValidator(token)
    url = signed_url(ctx, request)
    ok = validator.validate(url, form, signature, algorithm) if algorithm else validator.validate(url, form, signature)
    if not ok:
        log.warning("twilio.bad_signature", path=request.path)
    return bool(ok)


def _sms_address(value: str) -> tuple[str, str]:
    """``whatsapp:+86…`` → (``whatsapp``, ``+86…``); a plain number → (``sms``, number)."""
    if value.lower().startswith("whatsapp:"):
        return "whatsapp", value.split(":", 1)[1].strip()
    return "sms", value.strip()


def _record_opt_out(ctx: ServeContext, channel: str, address: str, source: str) -> None:
    with ctx.db.engine.begin() as conn:
        insert_ignoring_duplicates(
            conn, OptOut.__table__,
            [{"channel": channel, "address": address, "source": source, "created_at": ctx.clock.now()}],
            ["channel", "address"],
        )
    log.info("buyer.opted_out", channel=channel, address=mask_phone(address), source=source)


def _remove_opt_out(ctx: ServeContext, channel: str, address: str) -> None:
    O = OptOut.__table__
    with ctx.db.engine.begin() as conn:
        removed = conn.execute(O.delete().where(O.c.channel == channel, O.c.address == address)).rowcount
    if removed:
        log.info("buyer.opted_in", channel=channel, address=mask_phone(address), source="inbound_start")


def twilio_status(ctx: ServeContext, request: Request) -> Response:
    form = _form(request)
    if not _twilio_valid(ctx, request, form):
        return _error(403, "invalid Twilio signature")
    sid = form.first("MessageSid") or form.first("SmsSid")
    status = (form.first("MessageStatus") or form.first("SmsStatus")).lower()
    error_code = form.first("ErrorCode")
    to = form.first("To")
    if error_code == OPT_OUT_ERROR and to:
        channel, address = _sms_address(to)
        _record_opt_out(ctx, channel, address, f"twilio_{OPT_OUT_ERROR}")
    target = _TWILIO_STATUS.get(status)
    if not sid:
        return _error(400, "MessageSid missing")
    if target is None:  # queued, accepted, sending, …: nothing to move forward to
        return _json(200, {"status": "ignored"})
    now = ctx.clock.now()
    values: dict[str, Any] = {"state": target}
    if target == "delivered":
        values["delivered_at"] = now
    elif target == "failed":
        values["error"] = f"twilio {error_code or status}"
    lower = [state for state, rank in _RANK.items() if rank < _RANK[target]]
    N = Notice.__table__
    moved = None
    with ctx.db.engine.begin() as conn:
        changed = conn.execute(
            update(N).where(N.c.provider_message_id == sid, N.c.state.in_(lower)).values(**values)
        ).rowcount
        known = changed > 0 or conn.execute(
            select(func.count()).select_from(N).where(N.c.provider_message_id == sid)
        ).scalar()
        if changed and target == "failed":  # same transaction: never "failed" without its fallback
            moved = fall_back_after_late_failure(conn, sid, ctx.settings.notices.channels, now,
                                                 f"twilio {error_code or status}")
    if not known:
        if ctx.first_time_unknown(sid):
            log.info("twilio.status_unknown_message", sid=sid, status=status)
        return _json(200, {"status": "unknown"})
    if changed:
        log.info("notice.status", sid=sid, state=target, twilio_status=status, error_code=error_code or None,
                 to=mask_phone(_sms_address(to)[1]) if to else None)
    if moved:
        log.info("notice.fallback", sid=sid, failed_channel=moved[0], next_channel=moved[1],
                 error_code=error_code or None)
        return _json(200, {"status": "requeued"})
    return _json(200, {"status": "applied" if changed else "unchanged"})


def twilio_inbound(ctx: ServeContext, request: Request) -> Response:
    form = _form(request)
    if not _twilio_valid(ctx, request, form):
        return _error(403, "invalid Twilio signature")
    sender = form.first("From")
    body = form.first("Body")
    word = body.strip().casefold()
    if sender and word in STOP_WORDS:
        channel, address = _sms_address(sender)
        _record_opt_out(ctx, channel, address, "inbound_stop")
    elif sender and word in START_WORDS:
        channel, address = _sms_address(sender)
        _remove_opt_out(ctx, channel, address)
    else:  # the text is the buyer's; never logged
        log.info("twilio.inbound_ignored", sender=mask_phone(_sms_address(sender)[1]), length=len(body))
    return _twiml()


# -- chat bridge ----------------------------------------------------------------------------
def chat_presence(ctx: ServeContext, request: Request) -> Response:
    """Upsert ChatPresence, forward only by the bridge's signed timestamp (replays change nothing)."""
    secret = ctx.settings.chat.secret.get_secret_value().encode("utf-8")
    stamp = request.header(signing.TIMESTAMP_HEADER)
    if not signing.verify(secret, stamp, request.body, request.header(signing.SIGNATURE_HEADER),
                          now=ctx.clock.now()):
        log.warning("chat.presence_refused", reason="bad or stale signature")
        return _error(401, "invalid or stale signature")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "body is not JSON")
    chat_id = data.get("chat_id") if isinstance(data, dict) else None
    online = data.get("online") if isinstance(data, dict) else None
    if not isinstance(chat_id, str) or not chat_id.strip() or len(chat_id) > 128 or not isinstance(online, bool):
        return _error(400, 'expected {"chat_id": "<non-empty string>", "online": true|false}')
    assert stamp is not None  # verified above
    at = datetime.fromtimestamp(int(stamp.strip()), timezone.utc)
    T = ChatPresence.__table__
    with ctx.db.engine.begin() as conn:
        insert_ignoring_duplicates(conn, T, [{"chat_id": chat_id, "online": online, "updated_at": at}], ["chat_id"])
        conn.execute(update(T).where(T.c.chat_id == chat_id, T.c.updated_at <= at)
                     .values(online=online, updated_at=at))
        row = conn.execute(select(T.c.online, T.c.updated_at).where(T.c.chat_id == chat_id)).one()
    applied = row.online == online and row.updated_at == at
    log.info("chat.presence", chat_id=chat_id, online=online, applied=applied)
    return _json(200, {"status": "applied" if applied else "stale", "online": row.online})


# -- health and metrics ---------------------------------------------------------------------
def healthz(ctx: ServeContext, request: Request) -> Response:
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
    except Exception as exc:  # any driver error means "not healthy"
        log.warning("serve.health_failed", error=type(exc).__name__)
        return _json(503, {"status": "error", "database": "error"})
    return _json(200, {"status": "ok", "database": "ok"})


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _gauge(lines: list[str], name: str, help_text: str, label: str | None, counts: Mapping[str, int]) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    if label is None:
        lines.append(f"{name} {counts.get('', 0)}")
        return
    for key in sorted(counts):
        lines.append(f'{name}{{{label}="{_label(key)}"}} {counts[key]}')


def metrics(ctx: ServeContext, request: Request) -> Response:
    P, N, O = Parcel.__table__, Notice.__table__, OptOut.__table__
    with ctx.db.engine.connect() as conn:
        parcels = {s.value: 0 for s in Status}
        parcels.update({k: int(v) for k, v in conn.execute(select(P.c.status, func.count()).group_by(P.c.status))})
        flagged = {
            flag: int(conn.execute(select(func.count()).select_from(P)
                                   .where(P.c.flags.like(f"%{FLAG_SEP}{flag}{FLAG_SEP}%"))).scalar() or 0)
            for flag in FLAGS
        }
        notices = dict.fromkeys(NOTICE_STATES, 0)
        notices.update({k: int(v) for k, v in conn.execute(select(N.c.state, func.count()).group_by(N.c.state))})
        opt_outs = int(conn.execute(select(func.count()).select_from(O)).scalar() or 0)
    lines: list[str] = []
    _gauge(lines, "parcelwatch_parcels", "Parcels by normalized status.", "status", parcels)
    _gauge(lines, "parcelwatch_flagged", "Parcels carrying a flag ops must look at.", "flag", flagged)
    _gauge(lines, "parcelwatch_notices", "Buyer notices in the outbox by state.", "state", notices)
    _gauge(lines, "parcelwatch_opt_outs", "Buyers who opted out of a channel.", None, {"": opt_outs})
    return Response(200, ("\n".join(lines) + "\n").encode("utf-8"), "text/plain; version=0.0.4; charset=utf-8")


# -- routing --------------------------------------------------------------------------------
Handler = Callable[[ServeContext, Request], Response]
ROUTES: dict[str, tuple[str, Handler]] = {
    "/twilio/status": ("POST", twilio_status),
    "/twilio/inbound": ("POST", twilio_inbound),
    "/chat/presence": ("POST", chat_presence),
    "/healthz": ("GET", healthz),
    "/metrics": ("GET", metrics),
}


def handle(ctx: ServeContext, request: Request) -> Response:
    route = ROUTES.get(request.path.rstrip("/") or "/")
    if route is None:
        return _error(404, f"no such endpoint: {request.path}")
    method, handler = route
    allowed = {method, "HEAD"} if method == "GET" else {method}
    if request.method.upper() not in allowed:
        return Response(405, b'{"error":"method not allowed"}', headers={"Allow": ", ".join(sorted(allowed))})
    if len(request.body) > MAX_BODY:
        return _error(413, "body too large")
    return handler(ctx, request)
