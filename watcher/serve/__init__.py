"""``parcelwatch serve``: HTTP receivers (Twilio status and inbound SMS, chat presence), ``/healthz``, ``/metrics``."""

from watcher.serve.app import Request, Response, ServeContext, handle
from watcher.serve.server import make_server, run_server, serving

__all__ = ["Request", "Response", "ServeContext", "handle", "make_server", "run_server", "serving"]
