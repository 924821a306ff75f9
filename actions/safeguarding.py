"""Raising a safeguarding concern: the escalation route at once, then the checklist for the client if wanted."""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.common import Answer, ThroughcareAction, button, knowledge, signed_in_staff
from actions.parsing import Message
from actions.protocol import hit_answer, strong_matches
from throughcare.protocol import answers

# "can he still consent", "does he get more", "what's the process": asked, rather than reported.
ASKED_NOT_REPORTED = re.compile(
    r"\?|(^|[,.;]\s*)(can|could|does|do|did|should|is|are|what|whats|what's|when|how|who|why|will|would)\b"
    r"|\b(can|could|does|do|should|would) (he|she|they|i|we)\b",
    re.IGNORECASE,
)
# A message that shares this much of one protocol item's own words is about that subject even when it is not
# phrased as a question ("hes being sectioned and moved to hospital" 9.1 for the Mental Health Act transfer;
# "she disclosed abuse by her partner" 4.8, which stays a concern only).
SUBJECT_MATCH = 7.0


class ActionRaiseSafeguarding(ThroughcareAction):
    def name(self) -> str:
        return "action_raise_safeguarding"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        route = knowledge().procedures["safeguarding"]
        lines = [f"Safeguarding concern: {route.summary}"]
        lines += [f"{n}. {step.what} ({step.who})" for n, step in enumerate(route.steps, start=1)]
        lines.append(answers.source_line(route.source))
        buttons = []
        if message.prison_number and await signed_in_staff(tracker):
            buttons.append(
                button(
                    f"Walk through it for {message.prison_number}",
                    f'/start_checklist{{"checklist":"safeguarding","prison_number":"{message.prison_number}"}}',
                )
            )
        # The route always comes first; a message phrased as a question, or plainly about one protocol subject,
        # also gets the closest protocol answer.
        hits = [h for h in strong_matches(message.text) if h.id != "safeguarding"]
        if hits and (ASKED_NOT_REPORTED.search(message.text) or hits[0].score >= SUBJECT_MATCH):
            lines.append(f"If you were asking about this rather than raising a concern:\n{hit_answer(hits[0])}")
        return Answer("\n".join(lines), buttons=buttons, cited=str(route.source), topic="procedure:safeguarding")
