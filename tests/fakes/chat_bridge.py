"""A local chat bridge: what a shop's Qianniu/WeCom/Douyin integration answers to ``chat`` notices.

In-process::

    fake = ChatBridgeFake("shared-secret")
    fake.set_online("buyer-2", False)
    with serve_in_thread(fake) as base_url:
        ...  # [chat] url = base_url + fake.path, secret = fake.secret
    fake.messages  # what was "delivered", oldest first

As a process (prints exactly one line ``PORT <n>`` once listening, serves until SIGTERM)::

    python -m tests.fakes.chat_bridge [--secret S] [--offline CHAT_ID ...] [--port 0]

``POST {path}`` takes the JSON notice, checks ``X-Parcelwatch-Signature`` (recomputed here
independently of :mod:`notifiers.chat_webhook.signing`; 401 when wrong or stale) and
de-duplicates on the ``Idempotency-Key`` header: a repeated key gets the first answer
again and records nothing.  Answers: ``{"status": "delivered", "message_id": "cm-000001"}``,
``{"status": "offline"}`` for chat ids set offline, or what :meth:`ChatBridgeFake.answer_next`
queued.  :meth:`ChatBridgeFake.fail_next` queues raw HTTP failures (before any checks,
never remembered under the key: a proxy in front of the bridge failing).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from typing import Any

from tests.fakes import _http
from tests.fakes._http import FakeHandler, FakeServer

__all__ = ["DEFAULT_SECRET", "NOTICE_PATH", "ChatBridgeFake", "make_server", "serve_in_thread", "main"]

DEFAULT_SECRET = "fake-chat-bridge-secret"
NOTICE_PATH = "/parcelwatch/notices"
TOLERANCE = 300  # seconds
_JSON = {"Content-Type": "application/json; charset=utf-8"}

Reply = tuple[int, dict[str, str], bytes]


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


class ChatBridgeFake:
    """Signature check, presence, idempotency and failure injection; thread-safe, usable without HTTP."""

    def __init__(self, secret: str = DEFAULT_SECRET, *, clock: Any = None, default_online: bool = True,
                 path: str = NOTICE_PATH) -> None:
        self.secret = secret
        self.clock = clock  # anything with .now() -> aware datetime; None: the system clock
        self.default_online = default_online
        self.path = path
        self.messages: list[dict[str, Any]] = []  # delivered notices, oldest first
        self.requests: list[dict[str, Any]] = []  # every request: path, headers, body (raw bytes)
        self.offline_answers = 0
        self._presence: dict[str, bool] = {}
        self._answers: dict[str, Reply] = {}  # Idempotency-Key -> first reply
        self._fail: list[tuple[int, float | None]] = []
        self._queued: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # -- set-up and failure injection ------------------------------------------------------

    def set_online(self, chat_id: str, online: bool) -> None:
        with self._lock:
            self._presence[chat_id] = online

    def is_online(self, chat_id: str) -> bool:
        with self._lock:
            return self._presence.get(chat_id, self.default_online)

    def fail_next(self, n: int = 1, status: int = 503, *, retry_after: float | None = None) -> None:
        """The next ``n`` requests get HTTP ``status`` (with ``Retry-After`` if given), nothing checked."""
        with self._lock:
            self._fail.extend([(status, retry_after)] * n)

    def answer_next(self, n: int = 1, reply: Mapping[str, Any] | None = None) -> None:
        """The next ``n`` valid notices get ``reply`` (HTTP 200) instead of being delivered,
        e.g. ``{"status": "failed", "error": "buyer blocked the shop", "permanent": True}``."""
        with self._lock:
            self._queued.extend([dict(reply or {"status": "failed", "error": "fake", "permanent": False})] * n)

    # -- requests ----------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now().timestamp() if self.clock is not None else time.time()

    def signature_ok(self, headers: Mapping[str, str], body: bytes) -> bool:
        timestamp = headers.get("x-parcelwatch-timestamp", "")
        given = headers.get("x-parcelwatch-signature", "")
        if not (timestamp.isascii() and timestamp.isdigit()) or abs(self.now() - int(timestamp)) > TOLERANCE:
            return False
        digest = hmac.new(self.secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
        return hmac.compare_digest("sha256=" + digest.hexdigest(), given)

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """One request -> (HTTP status, extra headers, body).  ``headers`` keys in lower case."""
        with self._lock:
            self.requests.append({"path": path, "headers": dict(headers), "body": body})
            if self._fail:
                status, retry_after = self._fail.pop(0)
                extra = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
                return status, extra, b"fake failure"
        if path.split("?", 1)[0] != self.path:
            return 404, _JSON, _json({"error": "not found"})
        if not self.signature_ok(headers, body):
            return 401, _JSON, _json({"error": "bad signature"})
        key = headers.get("idempotency-key", "")
        try:
            notice = json.loads(body)
            chat_id, text = notice["chat_id"], notice["text"]
        except (ValueError, KeyError, TypeError):
            return 400, _JSON, _json({"error": "bad notice"})
        if not key or not isinstance(chat_id, str) or not isinstance(text, str):
            return 400, _JSON, _json({"error": "chat_id, text and Idempotency-Key are required"})
        online = self.is_online(chat_id)
        with self._lock:
            if key in self._answers:
                return self._answers[key]
            if self._queued:
                reply: dict[str, Any] = self._queued.pop(0)
            elif not online:
                self.offline_answers += 1
                reply = {"status": "offline"}
            else:
                message_id = f"cm-{len(self.messages) + 1:06d}"
                self.messages.append({**notice, "idempotency_key_header": key, "message_id": message_id})
                reply = {"status": "delivered", "message_id": message_id}
            self._answers[key] = answer = (200, _JSON, _json(reply))
        return answer


class _Handler(FakeHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = self.read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.reply(*self.server.fake.handle(self.path, headers, body))


def make_server(fake: ChatBridgeFake, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    return FakeServer(fake, host, port, _Handler)


def serve_in_thread(fake: ChatBridgeFake, host: str = "127.0.0.1") -> ContextManager[str]:
    """Serve ``fake`` on a free port in a daemon thread; yields the base URL (append ``fake.path``)."""
    return _http.serve_in_thread(make_server(fake, host, 0), "chat-bridge-fake")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.chat_bridge", description=__doc__.splitlines()[0])
    parser.add_argument("--secret", default=DEFAULT_SECRET)
    parser.add_argument("--offline", nargs="*", default=[], metavar="CHAT_ID", help="chat ids answered 'offline'")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = ChatBridgeFake(args.secret)
    for chat_id in args.offline:
        fake.set_online(chat_id, False)
    server = make_server(fake, args.host, args.port)
    return _http.serve_until_signal(server)


if __name__ == "__main__":
    sys.exit(main())
