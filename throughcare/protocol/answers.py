"""Answers in words, shared by the chat and the CLI so both say the same thing."""

from __future__ import annotations

import datetime as dt

from throughcare import labels
from throughcare.knowledge.schema import Difference, Knowledge, Source, Timescale
from throughcare.protocol.engine import (
    EVENT_WORDS,
    EpisodeFacts,
    NextStep,
    due_date,
    event_date,
    next_steps,
    subject_plan,
)

CLINICAL_NOTE = "Clinical information for the clinical team: not an instruction to act on alone."
# How a step's condition reads in a list of steps.
CONDITION_WORDS = {
    "on_prescription": "only for clients on a prescription",
    "not_on_prescription": "only for clients not on a prescription",
    "illicit_use_referral": "only after an illicit-use referral",
    "no_consent_to_share": "only if the client has not consented to sharing",
    "within_28_days_of_custody": "only within the first 28 days in custody",
    "parole_case": "only for parole cases",
}


def day(date: dt.date) -> str:
    return f"{date:%a} {date.day} {date:%b %Y}"


def source_line(source: Source) -> str:
    return f"Source: {source}"


def differences_lines(differences: tuple[Difference, ...] | list[Difference]) -> list[str]:
    """Where other documents differ: each view with its source; the answer above is the local choice."""
    if not differences:
        return []
    return ["The documents differ. The answer above is what this service follows; elsewhere:"] + [
        f"• {d.says} ({source_line(d.source)})" for d in differences
    ]


def timescale_for_client(timescale: Timescale, facts: EpisodeFacts, today: dt.date) -> str:
    """The timescale worked out from one client's record, or what the record still lacks."""
    label = client_label(facts)
    event = EVENT_WORDS[timescale.counted_from]
    start = event_date(facts, timescale.counted_from)
    note = f" ({CLINICAL_NOTE})" if timescale.clinical else ""
    if start is None:
        return f"For {label}: the record has no date for {event} yet, so I can't work it out.{note}"
    due = due_date(timescale, start)
    passed = ", which has passed" if due < today else ""
    return f"For {label}, counting from {event} on {day(start)}: {day(due)}{passed}.{note}"


def whom(role: str) -> str:
    """A role as it reads after "by" or "Who:": "the recovery practitioner", but "any staff member"."""
    return role if role.startswith("any ") else f"the {role}"


def client_label(facts: EpisodeFacts) -> str:
    return f"{facts.prison_number} ({facts.initials})" if facts.initials else facts.prison_number


def timing(step: NextStep, today: dt.date) -> str:
    """When a step is due, as every answer and the digest say it."""
    if step.due is None:
        return "no fixed date"
    if step.overdue:
        return f"OVERDUE since {day(step.due)}"
    return "due today" if step.due == today else f"due {day(step.due)}"


def step_summary(step: NextStep, today: dt.date) -> str:
    """What, when and by whom, in one line."""
    optional = "" if step.mandatory else " (optional)"
    return f"{step.what.rstrip('.')}{optional}: {timing(step, today)}, by {whom(step.who)}"


def cited(steps: list[NextStep]) -> str | None:
    """The distinct sources of the steps an answer lists, for the query log."""
    return "; ".join(dict.fromkeys(str(s.source) for s in steps)) or None


def describe_step(step: NextStep, today: dt.date) -> str:
    """The step with its rule and source, as every protocol answer gives it."""
    text = f"{step_summary(step, today)}. Rule: {step.rule}. {source_line(step.source)}"
    if step.clinical:
        text += f" ({CLINICAL_NOTE})"
    return text


def caseload_answer(rows: list[tuple[EpisodeFacts, list[NextStep]]], today: dt.date, limit: int = 12) -> str:
    """A key worker's open clients, most urgent first: anything overdue, then the soonest due."""
    if not rows:
        return "You have no open clients as key worker."

    def urgency(row: tuple[EpisodeFacts, list[NextStep]]) -> tuple[bool, dt.date]:
        steps = row[1]
        return (not steps[0].overdue, steps[0].due or dt.date.max) if steps else (True, dt.date.max)

    ordered = sorted(rows, key=urgency)
    overdue = sum(1 for _, steps in rows if any(s.overdue for s in steps))
    lines = [f"Your caseload: {len(rows)} open clients, {overdue} with something overdue."]
    for facts, steps in ordered[:limit]:
        lines.append(f"• {client_label(facts)}: {step_summary(steps[0], today) if steps else 'nothing due'}")
    if len(ordered) > limit:
        lines.append(f"…and {len(ordered) - limit} more.")
    lines.append("Ask \"what's next for <prison number>\" for each client's full list with sources.")
    return "\n".join(lines)


def next_steps_answer(facts: EpisodeFacts, steps: list[NextStep], today: dt.date, limit: int = 6) -> str:
    header = f"{client_label(facts)}: {labels.stage(facts.stage)}"
    if facts.key_worker:
        header += f", key worker {facts.key_worker}"
    if facts.closed:
        return f"{header}. The episode closed on {day(facts.closure_date)} ({facts.closure_reason}); nothing is due."  # type: ignore[arg-type]
    if not steps:
        return f"{header}. Nothing is due right now."
    lines = [f"{header}. Next steps:"]
    lines += [f"{n}. {describe_step(step, today)}" for n, step in enumerate(steps[:limit], start=1)]
    if len(steps) > limit:
        lines.append(f"…and {len(steps) - limit} more.")
    return "\n".join(lines)


def subject_plan_answer(
    facts: EpisodeFacts, knowledge: Knowledge, today: dt.date, subject: str, notes: list[str]
) -> tuple[str, list[NextStep]]:
    """Every open step on one subject's checklists for a client ("what's left before he leaves?"), one line each
    with who and the source, then anything else overdue. The steps share one due date, said once in the header
    with any notes on it below. Returns the text and the steps it lists."""
    plan = subject_plan(facts, knowledge, today, subject)
    header = f"{client_label(facts)}: {plan.title.lower()}"
    if plan.subject in ("release", "transfer"):
        header += f" on {day(plan.date)}" if plan.date else f"; no {plan.subject} date is recorded yet"
        if plan.date and plan.date < today:
            header += ", which has passed"
    if plan.opens:
        header += f"; preparation starts {day(plan.opens)}"
    if facts.closed:
        return f"{header}. The episode closed on {day(facts.closure_date)}; nothing is due.", []  # type: ignore[arg-type]
    if not plan.steps:
        return f"{header}. Nothing is left on the {plan.title.lower()} checklist.", []
    lines = [f"{header}.", *notes, f"Still to do {plan.rule} ({len(plan.steps)}):"]
    lines += [
        f"{n}. {s.what.rstrip('.')}{'' if s.mandatory else ' (optional)'}: by {whom(s.who)}. {source_line(s.source)}"
        for n, s in enumerate(plan.steps, start=1)
    ]
    if any(s.clinical for s in plan.steps):
        lines.append(CLINICAL_NOTE)
    planned = {s.key for s in plan.steps}
    overdue = [s for s in next_steps(facts, knowledge, today) if s.overdue and s.key not in planned]
    if overdue:
        lines.append("Also overdue: " + "; ".join(step_summary(s, today) for s in overdue) + ".")
    return "\n".join(lines), plan.steps
