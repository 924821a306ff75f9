"""What the intent classifier sees of a message: lower case, each entity pattern's matches as a placeholder.

Apart from the classifier so that it loads without Rasa: the action server's environment tests and times it.
"""

import re
from typing import Dict, List, Text

from throughcare.access.input_limits import MAX_MESSAGE_CHARS


class Normaliser:
    """Lower case, with each entity pattern's matches replaced by a placeholder ("event words" -> "evententity")."""

    def __init__(self, patterns: List[Dict[Text, Text]]) -> None:
        self.patterns = [(p["name"], re.compile(p["pattern"], re.IGNORECASE)) for p in patterns]

    def __call__(self, text: str) -> str:
        # No message is longer (the REST channel refuses it); the patterns are linear, and this keeps them fast.
        text = text[:MAX_MESSAGE_CHARS].lower()
        found = sorted((m.start(), m.end(), name) for name, pattern in self.patterns for m in pattern.finditer(text))
        pieces, end = [], 0
        for start, stop, name in found:
            if start >= end:
                pieces += [text[end:start], f" {name.replace('_', '')}entity "]
                end = stop
        return "".join(pieces) + text[end:]
