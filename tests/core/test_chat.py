"""The terminal chat (`throughcare chat`, `make demo`) against a stand-in for Rasa's REST channel."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rich.console import Console

from throughcare import labels
from throughcare.chat import run_chat


class EmptyAnswers(BaseHTTPRequestHandler):
    """Rasa when a message's action died or its lock timed out: 200 with no replies."""

    def do_GET(self) -> None:
        self._reply(b"Hello from Rasa")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._reply(json.dumps([]).encode())

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Silent: BaseHTTPRequestHandler logs each request to stderr, which would clutter the test output."""


@pytest.fixture
def rasa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmptyAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/webhooks/rest/webhook"
    server.shutdown()


def test_a_message_left_unanswered_says_so_and_that_sending_again_is_safe(rasa, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    typed = iter(["IA done for A1234BC today"])

    def next_line(self: Console, prompt: str = "") -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(Console, "input", next_line)
    run_chat(rasa, staff_id=None, secret=None)
    shown = " ".join(capsys.readouterr().out.split())
    assert " ".join(labels.NOT_ANSWERED.split()) in shown
