"""A stand-in for Rasa's REST channel, for the gateway tests that are about Telegram rather than answers.

It records what the gateway sent (text and the signed staff token) and answers with `replies(text)`, or with
HTTP 500 while `down` is set, as Rasa does when it is failing. The full conversation test uses the real Rasa.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeRasa:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.down = False
        self.replies: Callable[[str], list[dict]] = lambda text: [{"recipient_id": "x", "text": f"You said: {text}"}]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.down:
                    self.send_response(500)
                    self.end_headers()
                    return
                fake.received.append(body)
                answer = json.dumps(fake.replies(body["message"])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                """Quiet: the default handler writes every request to stderr, burying the test output."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/rest/webhook"

    def __enter__(self) -> FakeRasa:
        # serve_forever checks for shutdown every poll_interval, half a second by default: a short one keeps the
        # teardown of every gateway test quick
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def texts(self) -> list[str]:
        return [body["message"] for body in self.received]
