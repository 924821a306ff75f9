"""Prison numbers in the NOMIS format: one letter, four digits, two letters (A1234BC).

A message is read no further than throughcare.access.input_limits lets a message go: the patterns are linear, and
the limit keeps them in milliseconds whatever a caller passes.
"""

from __future__ import annotations

import re

from throughcare.access.input_limits import MAX_MESSAGE_CHARS

VALID = re.compile(r"^[A-Za-z][0-9]{4}[A-Za-z]{2}$")
# Something a user meant as a prison number but got wrong: letters and digits mixed, 5 to 9 characters.
LOOKS_LIKE = re.compile(
    r"\b(?=[A-Za-z0-9]{5,9}\b)(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z]{0,3}[0-9]{2,6}[A-Za-z]{0,3}\b"
)
FIND = re.compile(r"\b[A-Za-z][0-9]{4}[A-Za-z]{2}\b")
FORMAT_HELP = "a prison number is one letter, four digits and two letters, like A1234BC"


def normalise(text: str) -> str | None:
    """The prison number upper-cased, or None when `text` is not one."""
    candidate = text.strip()
    return candidate.upper() if VALID.match(candidate) else None


def find_in(text: str) -> str | None:
    match = FIND.search(text[:MAX_MESSAGE_CHARS])
    return match.group(0).upper() if match else None


def find_malformed(text: str) -> str | None:
    """A token that looks meant as a prison number but is not valid, so the user can be told the format."""
    for match in LOOKS_LIKE.finditer(text[:MAX_MESSAGE_CHARS]):
        token = match.group(0)
        if not VALID.match(token) and not re.fullmatch(r"[0-9]+[a-z]{0,2}|[0-9]{1,2}(st|nd|rd|th)", token.lower()):
            return token
    return None
