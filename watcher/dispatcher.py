"""The outbox dispatcher: sends queued buyer notices, exactly once, never at night.

One pass (:meth:`Dispatcher.run_once`):

1. During quiet hours (shop time) nothing is sent: due notices are deferred to
   the end of the window — deferred, never dropped.
2. Notices stuck in ``sending`` for ``notices.reconcile_after_seconds`` (a crash
   between "about to send" and "sent") are reconciled first: channels that can look up what they sent
   (Twilio: messages to that number since the attempt) settle them as sent;
   the others go back to the queue (the chat bridge de-duplicates by
   idempotency key).
3. Due notices are claimed (``queued``/``deferred`` → ``sending``, one UPDATE,
   a claim token), then each is checked again — a notice whose milestone a later
   checkpoint superseded, or whose case closed, is ``suppressed`` — capped per
   buyer per day, rendered, and offered to the channels in
   ``notices.channels`` order: chat only where the buyer has a chat id and is
   online (the bridge says "offline" otherwise), then SMS.  Opted-out addresses
   are skipped.  The rendered body is stored *before* the send.
4. Retryable errors go back to the queue with backoff until
   ``notices.max_attempts``; permanent ones try the next channel; a buyer no
   channel reaches is ``failed`` with "call the buyer" for the nightly report.
   A channel that accepted a notice and reported it undelivered later (a status
   callback; see :func:`watcher.store.outbox.fall_back_after_late_failure`) is
   skipped when the notice comes round again.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import and_, func, select, update

from carriers.base import Status
from carriers.couriers import couriers
from notifiers.base import Channel, Message, Recipient, SendState
from notifiers.templates import NoticeContext, render
from watcher.clock import Clock, SystemClock
from watcher.errors import ChannelPermanent, ChannelRetryable, ConfigError
from watcher.planner import FOLLOW_UP_FLAGS, next_day_start, plan_notices, quiet_until
from watcher.redact import mask_name, mask_phone
from watcher.rules import Flag, Verdict
from watcher.settings import Settings
from watcher.store.db import Database
from watcher.store.models import ChatPresence, Notice, OptOut, Parcel
from watcher.store.outbox import skipped_channels
from watcher.store.polling import insert_ignoring_duplicates

__all__ = ["Dispatcher", "DispatchSummary", "verdict_from_json"]

log = structlog.get_logger("parcelwatch.dispatch")
N = Notice.__table__
P = Parcel.__table__
O = OptOut.__table__  # noqa: E741
CP = ChatPresence.__table__

#: permanent SMS errors meaning "the buyer opted out": remembered for good
OPT_OUT_CODES = {"21610"}


@dataclass
class DispatchSummary:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    retried: int = 0
    failed: int = 0
    reconciled: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def verdict_from_json(text: str | None) -> Verdict | None:
    """The stored verdict (``parcel.verdict``) back as a :class:`Verdict` for re-planning."""
    if not text:
        return None
    data = json.loads(text)
    flags = tuple(
        Flag(f["flag"], f.get("code", ""), f.get("reason", ""), datetime.fromisoformat(f["since"]))
        for f in data.get("flags", [])
    )
    status = Status(data.get("status", "unknown"))
    return Verdict(status=status, terminal=status in (Status.DELIVERED, Status.RETURNED), last_checkpoint=None,
                   flags=flags, stage=data.get("stage", "pre_collection"))


class Dispatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        channels: Mapping[str, Channel],
        *,
        clock: Clock | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.channels = dict(channels)
        self.clock = clock or SystemClock()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        folder = settings.notices.templates_dir
        self._templates = Path(folder) if folder else None

    # -- one pass -------------------------------------------------------------------------
    async def run_once(self, limit: int = 200) -> DispatchSummary:
        summary = DispatchSummary()
        now = self.clock.now()
        await self._reconcile(now, summary)
        tz = self.settings.shop.tz
        quiet = quiet_until(now, self.settings.notices.quiet_hours, tz)
        if quiet is not None:
            with self.db.engine.begin() as conn:
                result = conn.execute(
                    update(N).where(N.c.state.in_(("queued", "deferred")), N.c.not_before < quiet)
                    .values(state="deferred", not_before=quiet)
                )
            summary.deferred += result.rowcount or 0
            return summary
        token = f"{self.owner}:{uuid.uuid4().hex[:12]}"
        for notice_id in self._claim(now, token, limit):
            summary.claimed += 1
            await self._process(notice_id, now, summary)
        if summary.claimed or summary.reconciled:
            log.info("dispatch.pass", **summary.as_dict())
        return summary

    async def drain(self, limit: int = 200) -> DispatchSummary:
        """Passes until nothing due is left (``poll`` runs this after polling)."""
        total = DispatchSummary()
        while True:
            summary = await self.run_once(limit)
            for key, value in summary.as_dict().items():
                setattr(total, key, getattr(total, key) + value)
            if summary.claimed < limit:
                return total

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()

    def _claim(self, now: datetime, token: str, limit: int) -> list[int]:
        due = and_(N.c.state.in_(("queued", "deferred")), N.c.not_before <= now)
        ids = select(N.c.id).where(due).order_by(N.c.not_before, N.c.id).limit(limit).scalar_subquery()
        with self.db.engine.begin() as conn:
            conn.execute(
                update(N).where(N.c.id.in_(ids), due)
                .values(state="sending", claim_token=token, last_attempt_at=now, attempts=N.c.attempts + 1)
            )
            return [row[0] for row in conn.execute(select(N.c.id).where(N.c.claim_token == token).order_by(N.c.id))]

    def _set(self, notice_id: int, *, only_while_sending: bool = False, **values: Any) -> None:
        condition = N.c.id == notice_id
        if only_while_sending:  # a status callback may already have moved it on (delivered)
            condition = and_(condition, N.c.state == "sending")
        with self.db.engine.begin() as conn:
            conn.execute(update(N).where(condition).values(**values))

    # -- one notice ------------------------------------------------------------------------
    async def _process(self, notice_id: int, now: datetime, summary: DispatchSummary) -> None:
        with self.db.session() as session:
            notice = session.get(Notice, notice_id)
            parcel = session.get(Parcel, notice.parcel_id) if notice else None
        if notice is None or parcel is None:
            return
        reason = self._superseded(notice, parcel)
        if reason:
            self._set(notice_id, state="suppressed", error=reason, claim_token=None)
            summary.suppressed += 1
            log.info("notice.suppressed", parcel=parcel.tracking_number, kind=notice.kind, reason=reason)
            return
        if self._sent_today(parcel, now) >= self.settings.notices.daily_cap:
            later = next_day_start(now, self.settings.notices.quiet_hours, self.settings.shop.tz)
            self._set(notice_id, state="deferred", not_before=later, claim_token=None,
                      attempts=notice.attempts - 1, error="daily cap reached")
            summary.deferred += 1
            return
        recipient = Recipient(phone=parcel.buyer_phone, chat_id=parcel.buyer_chat_id, name=parcel.buyer_name,
                              language=parcel.language or self.settings.shop.language)
        opted_out = self._opted_out(recipient)
        skip = set(skipped_channels(notice.skip_channels))  # they accepted it earlier and did not deliver it
        errors: list[str] = [f"{name}: not delivered" for name in self.settings.notices.channels if name in skip]
        for name in self.settings.notices.channels:
            channel = self.channels.get(name)
            if channel is None or name in skip or not channel.can_reach(recipient):
                continue
            address = channel.address(recipient)
            if (name, address) in opted_out:
                errors.append(f"{name}: buyer opted out")
                continue
            if channel.kind == "chat" and address and self._offline(address):
                errors.append(f"{name}: buyer offline")
                continue
            body = render(notice.kind, self._context(parcel, recipient), channel_kind=channel.kind,
                          override_dir=self._templates)
            self._set(notice_id, body=body, channel=name, language=recipient.language)  # before the send
            message = Message(body=body, kind=notice.kind, idempotency_key=notice.idempotency_key)
            try:
                result = await channel.send(recipient, message)
            except ChannelPermanent as exc:
                errors.append(f"{name}: {exc}")
                if exc.code in OPT_OUT_CODES and address:
                    self._record_opt_out(name, address, f"{name}_{exc.code}", now)
                continue
            except ChannelRetryable as exc:
                self._retry(notice, parcel, name, str(exc), now, summary, ambiguous=getattr(exc, "ambiguous", False))
                return
            except ConfigError as exc:
                errors.append(f"{name}: {exc}")
                log.error("notice.channel_misconfigured", channel=name, error=str(exc))
                continue
            if result.state is SendState.OFFLINE:
                errors.append(f"{name}: buyer offline")
                continue
            self._set(notice_id, only_while_sending=True, state=result.state.value, channel=name, sent_at=now,
                      claim_token=None,
                      delivered_at=now if result.state is SendState.DELIVERED else None,
                      provider_message_id=result.provider_id, error=None)
            summary.sent += 1
            log.info("notice.sent", parcel=parcel.tracking_number, kind=notice.kind, channel=name,
                     to=mask_phone(recipient.phone) if channel.kind == "sms" else "chat")
            return
        error = "; ".join(errors) or "no channel reaches the buyer"
        self._set(notice_id, state="failed", error=f"{error} — call the buyer"[:300], claim_token=None)
        summary.failed += 1
        log.warning("notice.failed", parcel=parcel.tracking_number, kind=notice.kind, error=error)

    def _retry(self, notice: Notice, parcel: Parcel, channel: str, error: str, now: datetime,
               summary: DispatchSummary, *, ambiguous: bool) -> None:
        assert notice.id is not None
        if ambiguous:  # the provider may have accepted it: leave it to reconciliation, never resend blindly
            self._set(notice.id, error=f"{channel}: {error} (outcome unknown, reconciling)"[:300])
            summary.retried += 1
            return
        attempts = notice.attempts  # the claim counted this attempt
        if attempts >= self.settings.notices.max_attempts:
            self._set(notice.id, state="failed", error=f"{channel}: {error}"[:300], claim_token=None)
            summary.failed += 1
            return
        backoff = timedelta(minutes=min(60, 2 ** attempts))
        self._set(notice.id, state="queued", not_before=now + backoff, error=f"{channel}: {error}"[:300],
                  claim_token=None)
        summary.retried += 1

    # -- checks ----------------------------------------------------------------------------
    def _superseded(self, notice: Notice, parcel: Parcel) -> str | None:
        verdict = verdict_from_json(parcel.verdict)
        if verdict is None:
            return "no verdict"
        if notice.kind == "follow_up":
            open_cases = [f for f in verdict.flags if f.name in FOLLOW_UP_FLAGS]
            return None if open_cases else "case closed"
        wanted = {p.idempotency_key for p in plan_notices(parcel.id or 0, verdict, self.settings.notices)}
        return None if notice.idempotency_key in wanted else f"superseded: parcel is now {verdict.status.value}"

    def _sent_today(self, parcel: Parcel, now: datetime) -> int:
        tz = self.settings.shop.tz
        local = now.astimezone(tz)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
        same_buyer = (P.c.buyer_phone == parcel.buyer_phone) if parcel.buyer_phone else (P.c.id == parcel.id)
        stmt = (
            select(func.count()).select_from(N.join(P, P.c.id == N.c.parcel_id))
            .where(same_buyer, N.c.state.in_(("sent", "delivered")), N.c.sent_at >= day_start)
        )
        with self.db.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def _opted_out(self, recipient: Recipient) -> set[tuple[str, str]]:
        addresses = [a for a in (recipient.phone, recipient.chat_id) if a]
        if not addresses:
            return set()
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(O.c.channel, O.c.address).where(O.c.address.in_(addresses)))
            return {(c, a) for c, a in rows}

    def _offline(self, chat_id: str) -> bool:
        """The chat bridge said (via ``serve``'s /chat/presence) that this buyer is offline."""
        with self.db.engine.connect() as conn:
            online = conn.execute(select(CP.c.online).where(CP.c.chat_id == chat_id)).scalar()
        return online is False

    def _record_opt_out(self, channel: str, address: str, source: str, now: datetime) -> None:
        with self.db.engine.begin() as conn:
            insert_ignoring_duplicates(conn, O, [{"channel": channel, "address": address, "source": source,
                                                  "created_at": now}], ["channel", "address"])
        log.info("buyer.opted_out", channel=channel, address=mask_phone(address), source=source)

    def _context(self, parcel: Parcel, recipient: Recipient) -> NoticeContext:
        shop = self.settings.shop
        courier = couriers().get(parcel.courier)
        return NoticeContext(
            shop_name=shop.name, signature=shop.signature, order_id=parcel.order_id or "",
            courier_name=courier.display(recipient.language) if courier else parcel.courier,
            tracking_number=parcel.tracking_number, city=parcel.city or "",
            last_checkpoint=parcel.last_checkpoint_text or "", buyer_name=mask_name(parcel.buyer_name) or None,
            contact="", language=recipient.language,
        )

    # -- crash recovery --------------------------------------------------------------------
    async def _reconcile(self, now: datetime, summary: DispatchSummary) -> None:
        stale = now - timedelta(seconds=self.settings.notices.reconcile_after_seconds)
        with self.db.session() as session:
            rows = session.exec(
                select(Notice, Parcel).join(Parcel, Parcel.id == Notice.parcel_id)  # type: ignore[arg-type]
                .where(Notice.state == "sending", Notice.last_attempt_at < stale)
            ).all()
        for notice, parcel in rows:
            channel = self.channels.get(notice.channel or "")
            found = None
            lookup = getattr(channel, "list_recent", None)
            if lookup is not None and parcel.buyer_phone and notice.body and notice.last_attempt_at:
                since = notice.last_attempt_at - timedelta(minutes=1)
                sent = await asyncio.to_thread(lookup, parcel.buyer_phone, since)
                found = next((m for m in sent if m.get("body") == notice.body), None)
            assert notice.id is not None
            if found is not None:
                self._set(notice.id, state="sent", sent_at=notice.last_attempt_at, claim_token=None,
                          provider_message_id=found.get("sid"), error=None)
            else:
                self._set(notice.id, state="queued", not_before=now, claim_token=None)
            summary.reconciled += 1
            log.info("notice.reconciled", parcel=parcel.tracking_number, kind=notice.kind,
                     outcome="sent" if found else "requeued")
