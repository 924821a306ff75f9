"""A terminal chat with the assistant over Rasa's REST channel, signing each message as a staff member."""

from __future__ import annotations

import uuid

import httpx
from rich.console import Console

from throughcare import identity

DEFAULT_URL = "http://localhost:5005/webhooks/rest/webhook"


def send(
    url: str, sender: str, text: str, staff_id: int | None, secret: bytes | None, timeout: float = 60
) -> list[dict]:
    metadata = {identity.METADATA_KEY: identity.sign(staff_id, secret)} if staff_id and secret else {}
    response = httpx.post(url, json={"sender": sender, "message": text, "metadata": metadata}, timeout=timeout)
    response.raise_for_status()
    return response.json()


def _show(console: Console, replies: list[dict]) -> list[dict]:
    buttons: list[dict] = []
    for reply in replies:
        if reply.get("text"):
            console.print(f"[bold green]throughcare>[/] {reply['text']}", highlight=False)
        for button in reply.get("buttons") or []:
            buttons.append(button)
            console.print(f"   [cyan][{len(buttons)}][/] {button['title']}", highlight=False)
    return buttons


def run_chat(url: str, staff_id: int | None, secret: bytes | None) -> None:
    console = Console()
    sender = f"terminal-{uuid.uuid4().hex[:12]}"
    console.print(
        "Throughcare. Try: what's next for A1234BC? · my caseload · start the release checklist · "
        "what does TTG mean? · help. Type a button's number to press it; /quit or Ctrl-D to leave."
    )
    buttons: list[dict] = []
    while True:
        try:
            text = console.input("[bold]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text in ("/quit", "/exit"):
            return
        if not text:
            continue
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            buttons = _show(console, send(url, sender, text, staff_id, secret))
        except httpx.HTTPError as err:
            console.print(f"[red]The assistant isn't answering ({type(err).__name__}). Is `make serve` running?[/]")
