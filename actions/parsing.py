"""Reading a user's message: intent, entities, prison number (said now or earlier), dates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rasa_sdk import Tracker

from throughcare.access import identity
from throughcare.access.input_limits import MAX_MESSAGE_CHARS
from throughcare.cases import prison_numbers
from throughcare.cases.dates import DateNotUnderstood, Prefer, find_date_text, parse_date

# Matched from the first word on (`skip_reason` strips the text first): a leading `\s*` gave back a long run of
# spaces one at a time.
SKIP_WORDS = re.compile(
    r"(please\s+)?(skip(ped|ping)?(\s+(this step|that one|it|this|that|step))?|n/?a|not applicable|pass)\b"
    r"[\s,.:;!-]*"
    r"(because|as|cos|coz|cause|reason:?)?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Message:
    text: str
    intent: str | None
    confidence: float | None
    entities: list[dict]
    prison_number: str | None
    prison_number_is_new: bool
    malformed_prison_number: str | None

    def entity(self, name: str) -> str | None:
        return next(iter(self.entity_values(name)), None)

    def entity_values(self, name: str) -> list[str]:
        return [str(e["value"]) for e in self.entities if e.get("entity") == name]

    def entity_text(self, name: str) -> str | None:
        """The words the user typed for an entity (before synonyms were applied)."""
        for e in self.entities:
            if e.get("entity") == name:
                # Rasa gives a payload's entities ("/intent{...}") the span of the whole JSON, not of the value.
                if "start" in e and "end" in e and not self.text.startswith("/"):
                    return self.text[e["start"] : e["end"]]
                return str(e["value"])
        return None


def read_message(tracker: Tracker) -> Message:
    latest = tracker.latest_message or {}
    text = (latest.get("text") or "").strip()
    intent = latest.get("intent") or {}
    entities = latest.get("entities") or []
    said_now = next(
        (prison_numbers.normalise(str(e["value"])) for e in entities if e.get("entity") == "prison_number"), None
    ) or prison_numbers.find_in(text)
    earlier = tracker.get_slot("prison_number")
    return Message(
        text=text,
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=entities,
        prison_number=said_now or (prison_numbers.normalise(earlier) if earlier else None),
        prison_number_is_new=said_now is not None,
        malformed_prison_number=None if said_now else prison_numbers.find_malformed(text),
    )


def signed_staff_id(tracker: Tracker) -> int | None:
    """The staff id the latest message was signed for, in this conversation; None for anyone else."""
    metadata = tracker.latest_message.get("metadata")
    if not isinstance(metadata, dict):
        return None
    return identity.verify(
        metadata.get(identity.METADATA_KEY), identity.secret_from_env(), subject=tracker.sender_id or ""
    )


def question_text(message: Message, tracker: Tracker) -> str:
    """The words of the question: a button press ("/ask_protocol") stands for the message typed before it.

    That message is held to the same limit as the one just sent: one over it was refused unread, so a button
    pressed after it stands for nothing. Nor does an unsigned press stand for a signed member of staff's
    message: it would echo their words to whoever posted into the conversation.
    """
    if not message.text.startswith("/"):
        return message.text
    typed = (e for e in reversed(tracker.events) if e.get("event") == "user")
    before = next((e for e in typed if _words(e) and not _words(e).startswith("/")), None)
    if before is None or len(_words(before)) > MAX_MESSAGE_CHARS:
        return ""
    if signed_staff_id(tracker) is None and identity.METADATA_KEY in (before.get("metadata") or {}):
        return ""
    return _words(before)


def _words(user_event: dict) -> str:
    return (user_event.get("text") or "").strip()


def message_date(message: Message, today: dt.date, prefer: Prefer) -> tuple[str, dt.date] | None:
    """The date the message names, as (words used, date); None when it names none.

    Raises DateNotUnderstood for a date that cannot exist, such as 31/02.
    """
    words = message.entity_text("date") or find_date_text(message.text)
    if words is None:
        return None
    return words, parse_date(words, today, prefer)


def skip_reason(text: str) -> str:
    """The reason given with "skip ...", without the word skip itself."""
    text = text.strip()
    said = SKIP_WORDS.match(text)
    return text[said.end() if said else 0 :].strip(" -,.:;")


__all__ = ["DateNotUnderstood", "Message", "message_date", "question_text", "read_message", "skip_reason"]


def longest_name_in(text: str, names: Mapping[str, Iterable[str]]) -> str | None:
    """The key whose longest name the text holds as whole words, so "release planning" is not taken for "release"."""
    lowered = text.lower()
    found = [
        (len(name), key)
        for key, options in names.items()
        for name in (option.lower() for option in options)
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered)
    ]
    return max(found)[1] if found else None
