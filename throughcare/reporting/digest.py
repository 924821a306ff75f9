"""The practitioner's daily digest: what is overdue or due by the next working day on their caseload.

Short and actionable on a phone screen, and private: each client by prison number and initials, and no
health detail beyond the step that is due.
"""

from __future__ import annotations

import datetime as dt

from throughcare.cases import store
from throughcare.db.engine import Database
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol.answers import client_label, day, timing, whom
from throughcare.protocol.engine import EpisodeFacts, NextStep, next_steps
from throughcare.protocol.workdays import add_working_days

MAX_LINES = 12


def _line(facts: EpisodeFacts, step: NextStep, today: dt.date) -> str:
    return f"• {client_label(facts)}: {step.what.rstrip('.')}, {timing(step, today)} (by {whom(step.who)})"


def digest_text(rows: list[tuple[EpisodeFacts, list[NextStep]]], today: dt.date) -> str:
    horizon = add_working_days(today, 1)
    due = [
        (facts, step)
        for facts, steps in rows
        for step in steps
        if step.due is not None and (step.overdue or step.due <= horizon)
    ]
    due.sort(key=lambda pair: (not pair[1].overdue, pair[1].due, pair[0].prison_number))
    if not due:
        return f"Good morning. Nothing on your caseload is overdue or due by {day(horizon)}."
    overdue = sum(1 for _, step in due if step.overdue)
    lines = [f"Good morning. {len(due)} steps on your caseload need you by {day(horizon)}, {overdue} overdue:"]
    lines += [_line(facts, step, today) for facts, step in due[:MAX_LINES]]
    if len(due) > MAX_LINES:
        lines.append(f"…and {len(due) - MAX_LINES} more: /caseload lists them all.")
    lines.append("Ask /next with a prison number for the rules and sources.")
    return "\n".join(lines)


def staff_digest(db: Database, knowledge: Knowledge, staff_id: int, today: dt.date) -> str:
    rows = [(facts, next_steps(facts, knowledge, today)) for facts in store.caseload(db, staff_id)]
    return digest_text(rows, today)
