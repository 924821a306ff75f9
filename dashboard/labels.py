"""Plain words for the pages: dates as people write them, and knowledge ids, intents and stages by name."""

from __future__ import annotations

import datetime as dt
import re

from throughcare import labels
from throughcare.clock import LONDON
from throughcare.knowledge.schema import Knowledge

# Dates read the same in the dashboard as in the chat.
from throughcare.protocol.answers import day
from throughcare.reporting.reports import Period

# How the assistant names a client in its answers: "A1234BC (JS)" (`throughcare.protocol.answers.client_label`).
CLIENT_WITH_INITIALS = re.compile(r"\b([A-Za-z][0-9]{4}[A-Za-z]{2}) \([^()\n]{1,3}\)")


def moment(value: dt.datetime) -> str:
    """A logged time in UK local time; SQLite gives times back without their zone, and they are stored in UTC."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    local = aware.astimezone(LONDON)
    return f"{day(local.date())}, {local:%H:%M}"


def intent_label(intent: str) -> str:
    return labels.intent(intent)


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
    return labels.stage(stage).capitalize()


def care_level_label(knowledge: Knowledge, level: str) -> str:
    if level in knowledge.care_levels:
        return knowledge.care_levels[level].name
    return "No care level yet" if level == "(not set)" else level


def half_year_words(half: Period) -> str:
    return f"{'January to June' if half.start.month == 1 else 'July to December'} {half.start.year}"


def without_initials(answer: str) -> str:
    """An answer as the dashboard shows it: clients by prison number alone. Reviewing whether an answer was right
    needs no more, and initials beside a prison number and a prison narrow down who the client is."""
    return CLIENT_WITH_INITIALS.sub(r"\1", answer)
