"""Plain words for the pages: dates as people write them, and knowledge ids, intents and stages by name."""

from __future__ import annotations

import datetime as dt
import re

# Dates read the same in the dashboard as in the chat.
from throughcare.answers import day
from throughcare.clock import LONDON
from throughcare.knowledge import Knowledge

# How the assistant names a client in its answers: "A1234BC (JS)" (`throughcare.answers.client_label`).
CLIENT_WITH_INITIALS = re.compile(r"\b([A-Za-z][0-9]{4}[A-Za-z]{2}) \([^()\n]{1,3}\)")

# What each intent means to a manager; an intent missing here is shown as its words.
INTENT_WORDS = {
    "nlu_fallback": "Not understood (fell back)",
    "ask_next_steps": "What's next for a client",
    "ask_caseload": "My caseload",
    "ask_due_date": "When something is due",
    "ask_protocol": "A protocol question",
    "define_term": "What a term means",
    "start_checklist": "Starting a checklist",
    "step_done": "Checklist: step done",
    "step_skip": "Checklist: step skipped",
    "step_back": "Checklist: back a step",
    "step_why": "Checklist: why this step",
    "checklist_stop": "Checklist: stopped",
    "record_event": "Recording an event",
    "record_referral": "Recording a referral",
    "raise_safeguarding": "Safeguarding concern",
    "out_of_scope": "Outside what the assistant covers",
    "greet": "Greeting",
    "goodbye": "Goodbye",
    "help": "Asking for help",
    "affirm": "Yes",
    "deny": "No",
}
STAGE_WORDS = {
    "referred": "Referred",
    "assessed": "Assessed, awaiting triage",
    "in_treatment": "In treatment",
    "closed": "Closed",
}


def moment(value: dt.datetime) -> str:
    """A logged time in UK local time; SQLite gives times back without their zone, and they are stored in UTC."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    local = aware.astimezone(LONDON)
    return f"{day(local.date())}, {local:%H:%M}"


def intent_label(intent: str) -> str:
    return INTENT_WORDS.get(intent) or intent.replace("_", " ").capitalize() or "(none)"


def topic_label(knowledge: Knowledge, topic: str) -> str:
    """The title of the knowledge item an answer came from; without one, what the question was taken to be."""
    kind, _, key = topic.partition(":")
    if kind == "topic" and key in knowledge.topics:
        return knowledge.topics[key].title
    if kind == "procedure" and key in knowledge.procedures:
        return f"{knowledge.procedures[key].title} (procedure)"
    if kind == "term" and key:
        return f"{key} (what a term means)"
    return intent_label(topic)


def stage_label(stage: str) -> str:
    return STAGE_WORDS.get(stage, stage.replace("_", " ").capitalize())


def care_level_label(knowledge: Knowledge, level: str) -> str:
    if level in knowledge.care_levels:
        return knowledge.care_levels[level].name
    return "No care level yet" if level == "(not set)" else level


def half_year_words(start: dt.date) -> str:
    return f"{'January to June' if start.month == 1 else 'July to December'} {start.year}"


def without_initials(answer: str) -> str:
    """An answer as the dashboard shows it: clients by prison number alone. Reviewing whether an answer was right
    needs no more, and initials beside a prison number and a prison narrow down who the client is."""
    return CLIENT_WITH_INITIALS.sub(r"\1", answer)
