"""A stand-in action server for benchmarks: every action Rasa calls is answered with no events and one short
text reply, as cheaply as Python allows, so a run against it measures Rasa, HAProxy, the tracker and lock stores
and nothing of ours (the floor in docs/benchmarks.md, "Load").

    .venv/bin/python scripts/noop_actions.py --port 5150

GET /health answers 200, as rasa_sdk's does, for HAProxy's check. Never for real use: staff would get "ok".
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = json.dumps({"events": [], "responses": [{"text": "ok"}]}).encode()
HEALTH = json.dumps({"status": "ok"}).encode()


class NoOp(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps HAProxy's connections open between requests, as rasa_sdk's Sanic server does.
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._send(200 if self.path == "/health" else 404, HEALTH)

    def do_POST(self) -> None:
        # Read the request body whole, unparsed, so the connection is ready for the next one.
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(200 if self.path == "/webhook" else 404, REPLY)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a log line per request would be most of the work."""


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """HAProxy ends each health check by resetting its connection: that is no error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    Server((args.host, args.port), NoOp).serve_forever()


if __name__ == "__main__":
    main()
