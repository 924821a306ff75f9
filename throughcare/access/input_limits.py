"""How much of a message the assistant will read, and what it refuses before any expensive work is done.

Every door in checks these limits before the message reaches anything costly: the REST channel before Rasa's
NLU (`rasa_components/channels.py`), the Telegram gateway before Rasa, the actions before their regexes and
search. One 50,000-character message cost Rasa's NLU 16 s and 4.5 GB of memory it never gave back, so the
limit has to hold at the door, not after the NLU has paid.

No imports beyond the standard library: Rasa's environment loads this module too.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Far beyond any question or note staff type (the longest training example is under 200 characters) and under
# Telegram's own 4,096, yet small enough that the NLU and every regex stay in milliseconds.
MAX_MESSAGE_CHARS = 2000
# spaCy's tokenizer strips punctuation and emoji from the ends of a word one at a time, searching the whole word
# each time: 2,000 characters of "?!" with no space took it 1.7 s, while words of this length cost it milliseconds.
# The longest button payload ("/ask_protocol{...}") is under 100 characters.
MAX_WORD_CHARS = 200
# A message at the character limit is at most 24 kB of JSON even when every character is escaped as a pair of
# \uXXXX surrogates; the signed staff token adds under 200 bytes.
MAX_BODY_BYTES = 64 * 1024
# The query log keeps the conversation id in 64 characters (models.GuidanceQuery); the gateway's are 41.
MAX_SENDER_CHARS = 64
# Rasa names a conversation with no sender this way; replies given at the door use the same name.
DEFAULT_SENDER = "default"

TOO_LONG_REPLY = (
    f"That message is too long for me to read (over {MAX_MESSAGE_CHARS:,} characters). "
    "Please ask one thing at a time, in a sentence or two."
)
LONG_WORD_REPLY = (
    f"That message has a run of over {MAX_WORD_CHARS} characters with no space in it, which I can't read. "
    "Please ask in words, in a sentence or two."
)
NO_WORDS_REPLY = 'I didn\'t get any words in that message. Try "what\'s next for A1234BC?" or "help".'

# Newline and tab are how people lay out a message; every other control character (NUL, escape, carriage
# return, the C1 range) and any lone half of a surrogate pair is noise that breaks logs and databases.
_REMOVED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]+")
# Characters that take up no room on screen: Unicode's control, surrogate, format (zero-width space, joiners,
# direction marks) and separator (spaces, line and paragraph) categories, listed so that a regex, not a Python
# loop over every character, reads a long message (tests/core/test_input_budget.py checks the list).
_INVISIBLE = (
    "[\x00-\x20\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u08e2\u1680\u180e\u2000-\u200f\u2028-\u202f"
    "\u205f-\u2064\u2066-\u206f\u3000\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_INVISIBLE_CHAR = re.compile(_INVISIBLE)
_SHOWN_CHAR = re.compile("[^" + _INVISIBLE[1:])
# Private-use and unassigned code points carry no words either; too scattered to list, they are looked up.
_NO_WORDS = frozenset({"Co", "Cn"})


def clean_text(text: str) -> str:
    """The text without control characters (newline and tab kept) or unpaired surrogates."""
    return _REMOVED.sub("", text)


def has_visible_character(text: str) -> bool:
    return any(unicodedata.category(shown.group()) not in _NO_WORDS for shown in _SHOWN_CHAR.finditer(text))


def longest_word(text: str) -> int:
    return max(map(len, text.split()), default=0)


def sender_problem(sender: object) -> str | None:
    """Why a sender id cannot name a conversation, or None when it can (a missing one is Rasa's default)."""
    if sender is None:
        return None
    if not isinstance(sender, str) or not sender.strip():
        return "sender must be a string with something in it"
    if len(sender) > MAX_SENDER_CHARS:
        return f"sender must be at most {MAX_SENDER_CHARS} characters"
    if _INVISIBLE_CHAR.search(sender.replace(" ", "")):
        return "sender must not contain control or invisible characters"
    return None


@dataclass(frozen=True)
class Accepted:
    """A message for the assistant to read, cleaned."""

    sender: str | None
    text: str
    metadata: dict[str, Any] | None
    input_channel: str | None


@dataclass(frozen=True)
class Answered:
    """A message answered at the door with a kind reply, never shown to the assistant."""

    recipient_id: str | None
    text: str
    status: int = 200

    def replies(self) -> list[dict[str, Any]]:
        """The reply in the REST channel's own format."""
        return [{"recipient_id": self.recipient_id, "text": self.text}]


@dataclass(frozen=True)
class Refused:
    """A request that is not a chat message at all: the client, not the user, has to change something."""

    status: int
    error: str


@dataclass(frozen=True)
class Buttons:
    """What a button's payload ("/intent{...}") may name: the assistant's intents and entities."""

    intents: frozenset[str]
    entities: frozenset[str]


# A payload as the assistant's buttons write it: an intent, then at most one flat JSON object.
_PAYLOAD = re.compile(r"/([A-Za-z_][\w-]{0,63})(\{.*\})?", re.DOTALL)
MAX_ENTITY_VALUE_CHARS = 100


def _flat_entities(text: str | None, names: frozenset[str]) -> bool:
    if text is None:
        return True
    try:
        entities = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(entities, dict) and all(
        name in names and isinstance(value, str | int | float) and len(str(value)) <= MAX_ENTITY_VALUE_CHARS
        for name, value in entities.items()
    )


def words_unless_button(text: str, buttons: Buttons) -> str:
    """The text, read as words unless it is exactly a payload the assistant's buttons could send.

    Rasa reads any message starting with "/" as a payload, and on one it cannot parse it logs the whole message
    (which may name a client) in a warning; a typed "/A1234BC" or "/step_done{bad json" is words to the user.
    """
    if not text.startswith("/"):
        return text
    payload = _PAYLOAD.fullmatch(text)
    if payload and payload.group(1) in buttons.intents and _flat_entities(payload.group(2), buttons.entities):
        return text
    return text.lstrip("/").lstrip()


def read_chat_request(body: bytes, buttons: Buttons | None = None) -> Accepted | Answered | Refused:
    """Read a REST channel request body ({"sender", "message", "metadata", "input_channel"}) within the limits.

    With `buttons`, a message that looks like a button's payload but is not one is read as words."""
    if len(body) > MAX_BODY_BYTES:
        # Not parsed at all: the sender is unknown, and parsing is the cost being refused.
        return Answered(None, TOO_LONG_REPLY, status=413)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return Refused(400, "the body must be a JSON object")
    if not isinstance(data, dict):
        return Refused(400, "the body must be a JSON object")
    sender = data.get("sender")
    problem = sender_problem(sender)
    if problem:
        return Refused(400, problem)
    message = data.get("message")
    if not isinstance(message, str):
        return Refused(400, "message must be a string")
    text = clean_text(message)
    if len(text) > MAX_MESSAGE_CHARS:
        return Answered(sender or DEFAULT_SENDER, TOO_LONG_REPLY)
    if buttons is not None:
        text = words_unless_button(text, buttons)
    if not has_visible_character(text):
        return Answered(sender or DEFAULT_SENDER, NO_WORDS_REPLY)
    if longest_word(text) > MAX_WORD_CHARS:
        return Answered(sender or DEFAULT_SENDER, LONG_WORD_REPLY)
    metadata = data.get("metadata")
    channel = data.get("input_channel")
    return Accepted(
        sender=sender,
        text=text,
        metadata=metadata if isinstance(metadata, dict) else None,
        input_channel=channel if isinstance(channel, str) and not sender_problem(channel) else None,
    )
