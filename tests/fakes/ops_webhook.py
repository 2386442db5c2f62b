"""A local ops chat: receives what apprise's ``json://`` (or ``jsons://``) plug-in posts.

Stands in for DingTalk/WeCom/Feishu/a mailbox in tests of the nightly report: the
ops summary goes through the real apprise library to this server.

In-process::

    fake = OpsWebhookFake()
    with serve_in_thread(fake) as base_url:   # http://127.0.0.1:PORT
        url = "json://" + base_url.removeprefix("http://") + "/hook"
        ...
    fake.messages  # [{"title", "message", "type", "attachments": [{"filename", "data" (bytes), "mimetype"}]}]

As a process (prints ``PORT <n>``, serves until SIGTERM)::

    python -m tests.fakes.ops_webhook [--port 0]

:meth:`OpsWebhookFake.fail_next` makes the next requests fail with an HTTP status.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from typing import Any

from tests.fakes import _http
from tests.fakes._http import FakeHandler, FakeServer

__all__ = ["OpsWebhookFake", "make_server", "serve_in_thread", "apprise_url", "main"]


class OpsWebhookFake:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []  # path, headers (lower-case keys)
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)  # notified on every request: wait_for(...) in tests

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self._lock:
            self._fail.extend([status] * n)

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append({"path": path, "headers": dict(headers)})
            self.changed.notify_all()
            if self._fail:
                return self._fail.pop(0)
        try:
            payload = json.loads(body)
            message = {
                "path": path, "title": payload["title"], "message": payload["message"], "type": payload.get("type"),
                "attachments": [
                    {"filename": a["filename"], "data": base64.b64decode(a["base64"]), "mimetype": a["mimetype"]}
                    for a in payload.get("attachments") or []
                ],
            }
        except (ValueError, KeyError, TypeError):
            return 400
        with self._lock:
            self.messages.append(message)
            self.changed.notify_all()
        return 200


class _Handler(FakeHandler):
    def do_POST(self) -> None:  # noqa: N802
        status = self.server.fake.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, self.read_body())
        reply = b"{}" if status == 200 else b'{"error": "fake failure"}'
        self.reply(status, {"Content-Type": "application/json"}, reply)


def make_server(fake: OpsWebhookFake, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    return FakeServer(fake, host, port, _Handler)


def serve_in_thread(fake: OpsWebhookFake, host: str = "127.0.0.1") -> ContextManager[str]:
    return _http.serve_in_thread(make_server(fake, host, 0), "ops-webhook-fake")


def apprise_url(base_url: str, path: str = "/hook", userinfo: str = "") -> str:
    """The apprise ``json://`` URL that posts to ``base_url`` + ``path``."""
    host = base_url.removeprefix("http://")
    return f"json://{userinfo + '@' if userinfo else ''}{host}{path}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.ops_webhook", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    return _http.serve_until_signal(make_server(OpsWebhookFake(), args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
