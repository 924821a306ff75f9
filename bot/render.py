"""Rasa's replies as Telegram messages: HTML-escaped text in pieces under Telegram's limit, buttons as keyboards."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64
# Callback data is either the Rasa payload itself or, when that is too long, the key it is stored under.
PAYLOAD_PREFIX = "r:"
KEY_PREFIX = "k:"
SHORT_TITLE = 10


@dataclass(frozen=True)
class OutgoingMessage:
    html: str
    keyboard: InlineKeyboardMarkup | None = None


def _escaped_length(text: str) -> int:
    return len(html.escape(text, quote=False))


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest head of `text` whose escaped form fits, preferring a line break, then a space."""
    size = fit = 0
    for character in text:
        size += _escaped_length(character)
        if size > limit:
            break
        fit += 1
    head = text[:fit]
    for separator in ("\n", " "):
        at = head.rfind(separator)
        if at > fit // 2:
            return text[:at], text[at + 1 :]
    return head, text[fit:]


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` HTML-escaped, in pieces each within `limit` characters, broken at line ends where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if _escaped_length(rest) <= limit:
            pieces.append(rest)
            break
        head, rest = _cut(rest, limit)
        pieces.append(head.rstrip())
        rest = rest.lstrip("\n")
    return [html.escape(piece, quote=False) for piece in pieces if piece]


def callback_data(payload: str, keep: Callable[[str], str]) -> str:
    data = PAYLOAD_PREFIX + payload
    if len(data.encode()) <= CALLBACK_LIMIT:
        return data
    return KEY_PREFIX + keep(payload)


def keyboard(buttons: list[dict], keep: Callable[[str], str]) -> InlineKeyboardMarkup | None:
    """Rasa buttons as an inline keyboard: short ones (Done, Skip, Why?) side by side, long ones a row each."""
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b["title"][:64], callback_data=callback_data(b["payload"], keep)) for b in buttons]
    if all(len(b["title"]) <= SHORT_TITLE for b in buttons):
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[key] for key in keys])


def messages(replies: list[dict], keep: Callable[[str], str]) -> list[OutgoingMessage]:
    """Each reply's text split to fit, with its buttons under the last piece."""
    out: list[OutgoingMessage] = []
    for reply in replies:
        if not (reply.get("text") or reply.get("buttons")):
            continue
        pieces = split_text(reply.get("text") or "") or ["…"]
        markup = keyboard(reply.get("buttons") or [], keep)
        out += [OutgoingMessage(piece) for piece in pieces[:-1]]
        out.append(OutgoingMessage(pieces[-1], markup))
    return out
