"""Raising a safeguarding concern: the escalation route at once, then the checklist for the client if wanted."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.common import Answer, ThroughcareAction, button, knowledge, signed_in_staff
from actions.parsing import Message
from throughcare import answers


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
        return Answer("\n".join(lines), buttons=buttons, cited=str(route.source))
