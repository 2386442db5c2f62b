"""A local Twilio-compatible Messages API (``/2010-04-01/Accounts/{sid}/Messages.json``).

In-process::

    fake = TwilioFake()
    with serve_in_thread(fake) as base_url:
        ...  # [twilio] base_url = base_url, account_sid/auth_token = fake.account_sid/fake.auth_token
    fake.messages  # what was "sent"

As a process (prints exactly one line ``PORT <n>`` once listening, serves until SIGTERM)::

    python -m tests.fakes.twilio [--account-sid AC… --auth-token T] [--port 0]

``POST`` creates a message (form fields To, From or MessagingServiceSid, Body,
StatusCallback) after checking HTTP basic auth; ``GET`` lists them (``To``, ``From``,
``DateSent>``/``DateSent<``/``DateSent`` filters, ``PageSize``/``Page`` paging) in the
shape the official SDK parses.  Errors use Twilio's JSON shape
``{"code", "message", "more_info", "status"}``.  Failure injection: :meth:`TwilioFake.fail_next`,
:meth:`~TwilioFake.error_next`, :meth:`~TwilioFake.opt_out`, :meth:`~TwilioFake.hang_next`
(stores the message, then answers nothing until the server closes: an ambiguous timeout).

WhatsApp (``To``/``From`` prefixed ``whatsapp:``): free text (``Body``) is accepted only
for numbers whose 24-hour window is open (:meth:`TwilioFake.open_window`), otherwise
error 63016; approved templates are sent with ``ContentSid`` (registered with
:meth:`~TwilioFake.add_content`, else 21655) and ``ContentVariables`` (JSON; ``{{1}}``…
in the template text are filled in), with or without an open window.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from tests.fakes import _http
from tests.fakes._http import FakeHandler, FakeServer
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "TwilioFake",
    "twilio_error",
    "count_segments",
    "make_server",
    "serve_in_thread",
    "main",
]

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
API = "/2010-04-01"

# GSM 03.38 basic character set, and the extension table (each costs two septets)
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")

_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    21602: "Message body is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21655: "The ContentSid is Invalid.",
    63007: "Twilio could not find a Channel with the specified From address",
    63016: "Failed to send freeform message because you are outside the allowed window. "
           "If you are using WhatsApp, please use a Message Template.",
}


def count_segments(body: str) -> int:
    """SMS segments Twilio bills: GSM-7 160 (153 per part), otherwise UCS-2 70 (67 per part)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in body):
        units, single, part = sum(2 if ch in _GSM_EXT else 1 for ch in body), 160, 153
    else:
        units, single, part = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body), 70, 67  # UTF-16 code units
    if units <= single:
        return 1
    return -(-units // part)


def twilio_error(code: int, status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or _MESSAGES.get(code, "fake error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _rfc2822(value: datetime) -> str:
    return format_datetime(value.astimezone(timezone.utc), usegmt=False).replace("-0000", "+0000")


def _parse_when(text: str) -> datetime:
    text = text.strip().lstrip("<>=")
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class TwilioFake:
    """Message store, auth check and failure injection; thread-safe, usable without HTTP."""

    def __init__(self, *, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN,
                 clock: Any = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock  # anything with .now() -> aware datetime; None: the system clock
        self.messages: list[dict[str, Any]] = []  # oldest first
        self.requests: list[dict[str, Any]] = []  # every request: method, path, form/query
        self.opted_out: set[str] = set()
        self.released = threading.Event()  # set when the server closes: hung requests end
        self._lock = threading.Lock()
        self._queued: list[tuple[str, int, int]] = []  # ("fail"|"error"|"hang", status, code)
        #: notified whenever a message is stored or a request starts hanging: tests wait on it, not sleep
        self.changed = threading.Condition()
        self.hanging = 0
        #: WhatsApp: numbers (E.164, no prefix) whose 24-hour customer-service window is open
        self.whatsapp_window: set[str] = set()
        #: WhatsApp: approved Content SID → template text with {{1}}-style placeholders
        self.contents: dict[str, str] = {}

    # -- failure injection ---------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` requests get HTTP ``status`` with a non-JSON body."""
        with self._lock:
            self._queued.extend([("fail", status, 0)] * n)

    def error_next(self, n: int = 1, code: int = 21211, status: int = 400) -> None:
        """The next ``n`` authenticated requests get Twilio error ``code`` with HTTP ``status``."""
        with self._lock:
            self._queued.extend([("error", status, code)] * n)

    def hang_next(self, n: int = 1) -> None:
        """The next ``n`` message creations are stored but never answered (until the server closes)."""
        with self._lock:
            self._queued.extend([("hang", 0, 0)] * n)

    def opt_out(self, number: str) -> None:
        """``number`` replied STOP: sends to it fail with 21610."""
        with self._lock:
            self.opted_out.add(number)

    def open_window(self, number: str) -> None:
        """``number`` wrote to us on WhatsApp: free text to it is allowed (until :meth:`close_window`)."""
        with self._lock:
            self.whatsapp_window.add(number.removeprefix("whatsapp:"))

    def close_window(self, number: str) -> None:
        with self._lock:
            self.whatsapp_window.discard(number.removeprefix("whatsapp:"))

    def add_content(self, content_sid: str, text: str) -> None:
        """Register an approved WhatsApp template (``{{1}}``… placeholders filled from ContentVariables)."""
        with self._lock:
            self.contents[content_sid] = text

    # -- requests -------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(timezone.utc)

    def handle(self, method: str, path: str, query: Mapping[str, str], form: Mapping[str, str],
               authorization: str | None) -> tuple[int, bytes, bool]:
        """One request -> (HTTP status, JSON body, hang before answering)."""
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": dict(query), "form": dict(form)})
            injected = self._queued.pop(0) if self._queued and not (
                self._queued[0][0] == "hang" and method != "POST") else None
            if injected and injected[0] == "fail":
                return injected[1], b"fake failure", False
            expected = f"{API}/Accounts/{self.account_sid}/Messages.json"
            if not self._authorized(authorization):
                return 401, _json(twilio_error(20003, 401)), False
            if path != expected:
                return 404, _json(twilio_error(20404, 404)), False
            if injected and injected[0] == "error":
                return injected[1], _json(twilio_error(injected[2], injected[1])), False
            if method == "GET":
                return 200, _json(self._list(path, query)), False
            if method != "POST":
                return 405, _json(twilio_error(20004, 405, "Method not allowed")), False
            status, reply = self._create(form)
            hang = bool(injected and injected[0] == "hang")
        with self.changed:
            self.hanging += hang
            self.changed.notify_all()
        return status, _json(reply), hang

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def _create(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
        whatsapp = to.startswith("whatsapp:")
        number = to.removeprefix("whatsapp:")
        if not to:
            return 400, twilio_error(21604, 400)
        if whatsapp and form.get("ContentSid"):
            status, rendered = self._content(form)
            if status:
                return status, rendered
            body = rendered
        if not body:
            return 400, twilio_error(21602, 400)
        if not sender and not service:
            return 400, twilio_error(21606, 400)
        if not number.startswith("+") or not number[1:].isdigit() or not 8 <= len(number) <= 16:
            return 400, twilio_error(21211, 400, f"The 'To' number {to} is not a valid phone number.")
        if whatsapp and not sender.startswith("whatsapp:"):
            return 400, twilio_error(63007, 400)
        if whatsapp and not form.get("ContentSid") and number not in self.whatsapp_window:
            return 400, twilio_error(63016, 400)
        if to in self.opted_out:
            return 400, twilio_error(21610, 400)
        if len(body) > 1600:
            return 400, twilio_error(21617, 400)
        now = self.now()
        sid = "SM" + secrets.token_hex(16)
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "status": "accepted" if service and not sender else "queued",
            "num_segments": "1" if whatsapp else str(count_segments(body)),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": _rfc2822(now),
            "date_updated": _rfc2822(now),
            "date_sent": _rfc2822(now),
            "status_callback": form.get("StatusCallback") or None,
            "uri": f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"{API}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "_created": now,
            "_content_sid": form.get("ContentSid") or None,
        }
        self.messages.append(message)
        return 201, _public(message)

    def _content(self, form: Mapping[str, str]) -> tuple[int, Any]:
        """(0, rendered text) for a known ContentSid, else (status, error)."""
        text = self.contents.get(form["ContentSid"])
        if text is None:
            return 400, twilio_error(21655, 400)
        try:
            variables = json.loads(form.get("ContentVariables") or "{}")
        except ValueError:
            return 400, twilio_error(21656, 400, "The ContentVariables Parameter is invalid.")
        if not isinstance(variables, dict):
            return 400, twilio_error(21656, 400, "The ContentVariables Parameter is invalid.")
        for key, value in variables.items():
            text = text.replace("{{" + str(key) + "}}", str(value))
        return 0, text

    def _list(self, path: str, query: Mapping[str, str]) -> dict[str, Any]:
        found = list(reversed(self.messages))  # newest first, like Twilio
        if query.get("To"):
            found = [m for m in found if m["to"] == query["To"]]
        if query.get("From"):
            found = [m for m in found if m["from"] == query["From"]]
        for key, keep in (("DateSent>", lambda c, w: c >= w), ("DateSent<", lambda c, w: c <= w)):
            if query.get(key):
                when = _parse_when(query[key])
                found = [m for m in found if keep(m["_created"], when)]
        if query.get("DateSent"):
            raw = query["DateSent"]
            when = _parse_when(raw)
            if raw.startswith(">"):
                found = [m for m in found if m["_created"] >= when]
            elif raw.startswith("<"):
                found = [m for m in found if m["_created"] <= when]
            else:
                found = [m for m in found if m["_created"].date() == when.date()]
        size = max(1, min(int(query.get("PageSize") or 50), 1000))
        page = max(0, int(query.get("Page") or 0))
        chunk = found[page * size:(page + 1) * size]
        base = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(n: int) -> str:
            return f"{path}?{urlencode({**base, 'PageSize': size, 'Page': n})}"

        more = (page + 1) * size < len(found)
        return {
            "messages": [_public(m) for m in chunk],
            "end": page * size + len(chunk) - 1 if chunk else 0,
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": page * size,
            "uri": uri(page),
        }


def _public(message: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


class _Handler(FakeHandler):
    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        raw = self.read_body().decode("utf-8", errors="replace")
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        fake = self.server.fake
        status, body, hang = fake.handle(method, parts.path, query, form, self.headers.get("Authorization"))
        if hang:
            fake.released.wait()
            self.close_connection = True
            return
        self.reply(status, {"Content-Type": "application/json; charset=utf-8"}, body)


def make_server(fake: TwilioFake, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    return FakeServer(fake, host, port, _Handler)


def serve_in_thread(fake: TwilioFake, host: str = "127.0.0.1") -> ContextManager[str]:
    """Serve ``fake`` on a free port in a daemon thread; yields the base URL."""
    fake.released.clear()
    return _http.serve_in_thread(make_server(fake, host, 0), "twilio-fake", on_close=fake.released.set)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.twilio", description=__doc__.splitlines()[0])
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = TwilioFake(account_sid=args.account_sid, auth_token=args.auth_token)
    server = make_server(fake, args.host, args.port)
    return _http.serve_until_signal(server, on_close=fake.released.set)


if __name__ == "__main__":
    sys.exit(main())
