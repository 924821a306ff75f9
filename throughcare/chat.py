"""A terminal chat with the assistant over Rasa's REST channel, signing each message as a staff member."""

from __future__ import annotations

import time
import uuid

import httpx
from rich.console import Console

from throughcare import labels
from throughcare.access import identity

DEFAULT_URL = "http://localhost:5005/webhooks/rest/webhook"


def send(
    url: str, sender: str, text: str, staff_id: int | None, secret: bytes | None, timeout: float = 60
) -> list[dict]:
    metadata = {identity.METADATA_KEY: identity.sign(staff_id, secret, subject=sender)} if staff_id and secret else {}
    # The header routes the conversation to one Rasa server behind the production stack's HAProxy (scripts/production).
    body = {"sender": sender, "message": text, "metadata": metadata}
    response = httpx.post(url, json=body, headers={"X-Conversation-Id": sender}, timeout=timeout)
    # A message too big to read is refused 413 with a kind reply in the usual format: show it like any other.
    if response.status_code != httpx.codes.REQUEST_ENTITY_TOO_LARGE:
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


def wait_until_ready(url: str, console: Console, timeout: float = 300) -> bool:
    """Wait for Rasa to load its model, so the first message is not lost while the servers start."""
    # Rasa only starts listening once its model is loaded, so any answer on "/" means ready.
    root_url = str(httpx.URL(url).copy_with(path="/"))
    with console.status("The assistant is still starting (Rasa loads its model once); one moment..."):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(root_url, timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(1)
    return False


def run_chat(url: str, staff_id: int | None, secret: bytes | None) -> None:
    console = Console()
    sender = f"terminal-{uuid.uuid4().hex[:12]}"
    console.print(
        "Throughcare. Try: what's next for A1234BC? · my caseload · start the release checklist · "
        "what does TTG mean? · help. Type a button's number to press it; /quit or Ctrl-D to leave."
    )
    buttons: list[dict] = []
    ready = False
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
        if not ready:
            ready = wait_until_ready(url, console)
        try:
            replies = send(url, sender, text, staff_id, secret)
            if not replies:
                # Rasa answers an empty list when a message's action died or its lock timed out.
                console.print(f"[yellow]{labels.NOT_ANSWERED}[/]", highlight=False)
            buttons = _show(console, replies)
        except httpx.HTTPError as err:
            console.print(
                f"[red]{labels.NOT_ANSWERED} ({type(err).__name__}: is `make serve` running?)[/]", highlight=False
            )
