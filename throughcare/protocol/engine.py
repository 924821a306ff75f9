"""The protocol engine: pure functions from an episode's facts and a date to the next steps.

Nothing here reads the database or the clock; callers pass `today` and the facts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from throughcare.knowledge.schema import Knowledge, Procedure, Source, Step, Timescale
from throughcare.protocol.workdays import add_working_days

UNIT_WORDS = {"working_days": "working days", "calendar_days": "days", "weeks": "weeks", "hours": "hours"}
EVENT_WORDS = {
    "referral": "referral",
    "initial_assessment": "the initial assessment",
    "triage": "the triage assessment",
    "last_review": "the last review",
    "expected_release": "release",
    "planned_transfer": "the transfer",
    "reception": "reception into custody",
}

# The routes that follow the illicit-use pathway (000 › Referral: anyone under the influence or reported as
# involved with substances is referred automatically and visited within hours). A confirmed positive drug test
# is such a report, and 004 §2 makes it an automatic referral too, so it is visited on the same clock rather
# than waiting up to five working days for the initial assessment.
ILLICIT_USE_ROUTES = {"illicit_use": "the illicit-use referral", "positive_drug_test": "the positive drug test"}

# Both are worked through inside the release window: the local checklist and the national written plan.
RELEASE_CHECKLISTS = ("release_planning", "release")


@dataclass(frozen=True)
class EpisodeFacts:
    """What the engine needs to know of one episode, detached from the database."""

    prison_number: str
    initials: str | None
    referral_date: dt.date
    referral_route: str
    stage: str
    care_level: str | None = None
    key_worker: str | None = None
    on_prescription: bool = False
    parole_case: bool = False
    consent_to_share: bool | None = None
    reception_date: dt.date | None = None
    initial_assessment_date: dt.date | None = None
    triage_date: dt.date | None = None
    last_review_date: dt.date | None = None
    joint_review_date: dt.date | None = None
    expected_release_date: dt.date | None = None
    planned_transfer_date: dt.date | None = None
    closure_reason: str | None = None
    closure_date: dt.date | None = None
    # (procedure id, step id) -> "done" or "skipped"
    progress: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return self.closure_date is not None


@dataclass(frozen=True)
class NextStep:
    # What kind of step this is, for questions about one of them: "triage", "care_plan_review", "release:naloxone".
    key: str
    what: str
    who: str
    due: dt.date | None
    overdue: bool
    rule: str
    source: Source
    procedure_id: str | None = None
    step_id: str | None = None
    clinical: bool = False
    mandatory: bool = True


def event_date(facts: EpisodeFacts, event: str) -> dt.date | None:
    """The date on the client's record that a timescale counts from, if the record has it."""
    return {
        "referral": facts.referral_date,
        "initial_assessment": facts.initial_assessment_date,
        "triage": facts.triage_date,
        "last_review": facts.last_review_date or facts.triage_date,
        "expected_release": facts.expected_release_date,
        "planned_transfer": facts.planned_transfer_date,
        "reception": facts.reception_date,
    }[event]


def due_date(timescale: Timescale, start: dt.date) -> dt.date:
    sign = -1 if timescale.direction == "before" else 1
    if timescale.unit == "working_days":
        return add_working_days(start, sign * timescale.amount)
    if timescale.unit == "weeks":
        return start + dt.timedelta(weeks=sign * timescale.amount)
    if timescale.unit == "hours":
        # Case records hold dates, not times: a limit in hours is met by the end of the day it falls on.
        return start + dt.timedelta(days=sign * math.ceil(timescale.amount / 24))
    return start + dt.timedelta(days=sign * timescale.amount)


def describe_rule(timescale: Timescale) -> str:
    amount = f"{timescale.amount} {UNIT_WORDS[timescale.unit]}"
    if timescale.ideal_amount:
        amount += f" (ideally {timescale.ideal_amount})"
    relation = "before" if timescale.direction == "before" else "of" if timescale.unit == "working_days" else "after"
    lead = "at least" if timescale.direction == "before" else "within"
    return f"{lead} {amount} {relation} {EVENT_WORDS[timescale.counted_from]}"


def condition_holds(condition: str | None, facts: EpisodeFacts, today: dt.date) -> bool:
    if condition is None:
        return True
    if condition == "on_prescription":
        return facts.on_prescription
    if condition == "not_on_prescription":
        return not facts.on_prescription
    if condition == "illicit_use_referral":
        return facts.referral_route in ILLICIT_USE_ROUTES
    if condition == "no_consent_to_share":
        return facts.consent_to_share is False
    if condition == "parole_case":
        return facts.parole_case
    if condition == "within_28_days_of_custody":
        moment = facts.planned_transfer_date or today
        return facts.reception_date is not None and (moment - facts.reception_date).days < 28
    raise ValueError(f"unknown condition {condition!r}")


def applicable_steps(procedure: Procedure, facts: EpisodeFacts, today: dt.date) -> list[Step]:
    """The procedure's steps that apply to this episode, in protocol order."""
    return [s for s in procedure.steps if condition_holds(s.condition, facts, today)]


def pending_steps(procedure: Procedure, facts: EpisodeFacts, today: dt.date) -> list[Step]:
    return [s for s in applicable_steps(procedure, facts, today) if (procedure.id, s.id) not in facts.progress]


def _timed_step(
    key: str,
    what: str,
    who: str,
    timescale: Timescale,
    start: dt.date,
    today: dt.date,
    overdue_after: dt.date | None = None,
) -> NextStep:
    due = due_date(timescale, start)
    return NextStep(
        key=key,
        what=what,
        who=who,
        due=due,
        overdue=today > due,
        rule=describe_rule(timescale),
        source=timescale.source,
    )


def _assessment_steps(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date) -> list[NextStep]:
    profile = knowledge.profile
    steps: list[NextStep] = []
    if facts.initial_assessment_date is None:
        if facts.referral_route in ILLICIT_USE_ROUTES:
            visit = knowledge.timescale(profile.illicit_use_visit_timescale)
            steps.append(
                _timed_step(
                    "illicit_use_visit",
                    f"Visit after {ILLICIT_USE_ROUTES[facts.referral_route]}",
                    "any staff member",
                    visit,
                    facts.referral_date,
                    today,
                )
            )
        ia = knowledge.timescale(profile.initial_assessment_timescale)
        steps.append(
            _timed_step(
                "initial_assessment", "Initial assessment (IA)", "support worker", ia, facts.referral_date, today
            )
        )
    elif facts.triage_date is None:
        triage = knowledge.timescale(profile.triage_timescale)
        steps.append(
            _timed_step(
                "triage", "Triage assessment", "recovery practitioner", triage, facts.initial_assessment_date, today
            )
        )
    return steps


def _review_steps(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date) -> list[NextStep]:
    if facts.triage_date is None:
        return []
    review_source = knowledge.procedures["care_plan_review"].source
    level = knowledge.care_levels.get(facts.care_level or "")
    steps: list[NextStep] = []
    if level is None:
        steps.append(
            NextStep(
                key="care_plan_review",
                what="Agree and record a care level, so reviews can be scheduled",
                who="recovery practitioner",
                due=None,
                overdue=False,
                rule="review frequency follows the care level",
                source=review_source,
            )
        )
    else:
        last = facts.last_review_date or facts.triage_date
        due = last + dt.timedelta(weeks=level.review_every_weeks)
        latest = last + dt.timedelta(weeks=level.review_latest_weeks or level.review_every_weeks)
        every = f"{level.review_every_weeks}"
        if level.review_latest_weeks:
            every += f"-{level.review_latest_weeks}"
        steps.append(
            NextStep(
                key="care_plan_review",
                what="Care plan review",
                who="recovery practitioner",
                due=due,
                overdue=today > latest,
                rule=f"every {every} weeks for {level.name}",
                source=level.source,
                procedure_id="care_plan_review",
            )
        )
    if facts.on_prescription and facts.joint_review_date is None:
        joint = knowledge.timescale(knowledge.profile.joint_review_timescale)
        steps.append(
            _timed_step(
                "joint_review",
                "13-week joint review with the clinical team",
                "recovery practitioner",
                joint,
                facts.triage_date,
                today,
            )
        )
    return steps


def _checklist_steps(
    procedure: Procedure, facts: EpisodeFacts, today: dt.date, due: dt.date | None, rule: str
) -> list[NextStep]:
    return [
        NextStep(
            key=f"{procedure.id}:{step.id}",
            what=step.what,
            who=step.who,
            due=due,
            overdue=due is not None and today > due,
            rule=rule,
            source=step.source,
            procedure_id=procedure.id,
            step_id=step.id,
            clinical=step.clinical,
            mandatory=step.mandatory,
        )
        for step in pending_steps(procedure, facts, today)
    ]


def _release_steps(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date) -> list[NextStep]:
    release = facts.expected_release_date
    if release is None:
        return []
    planning = knowledge.timescale(knowledge.profile.release_planning_timescale)
    start = due_date(planning, release)
    if today < start:
        return [
            NextStep(
                key="release_preparation",
                what="Start release preparation",
                who="recovery practitioner",
                due=start,
                overdue=False,
                rule=describe_rule(planning),
                source=planning.source,
                procedure_id="release",
            )
        ]
    checklists = [knowledge.procedures[procedure_id] for procedure_id in RELEASE_CHECKLISTS]
    return [step for p in checklists for step in _checklist_steps(p, facts, today, release, "before the release date")]


@dataclass(frozen=True)
class SubjectPlan:
    """Everything still to do on one subject's checklists for a client, for a question such as "what's left before
    he leaves?": the whole list, even before the window opens, since staff ask in order to plan ahead."""

    subject: str  # "release", "transfer" or a checklist's id
    title: str
    date: dt.date | None  # the release or transfer date on the record, when the subject has one
    opens: dt.date | None  # when preparation starts, if that is still ahead
    rule: str  # when the steps are due
    steps: list[NextStep]


def _dated_subject(facts: EpisodeFacts, knowledge: Knowledge, subject: str) -> tuple[dt.date | None, str]:
    if subject == "release":
        return facts.expected_release_date, "before the release date"
    if subject == "transfer":
        return facts.planned_transfer_date, "before the transfer date"
    return None, f"to finish the {knowledge.procedures[subject].title.lower()}"


def subject_plan(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date, subject: str) -> SubjectPlan:
    """The open steps of the checklists a subject names ("release" walks both release checklists)."""
    # The local release checklist first: it starts with the 12-week list that opens preparation.
    ids = ("release", "release_planning") if subject == "release" else (subject,)
    procedures = [knowledge.procedures[p] for p in ids]
    date, rule = _dated_subject(facts, knowledge, subject)
    opens = None
    if subject == "release" and date is not None:
        start = due_date(knowledge.timescale(knowledge.profile.release_planning_timescale), date)
        opens = start if today < start else None
    steps = [] if facts.closed else [s for p in procedures for s in _checklist_steps(p, facts, today, date, rule)]
    return SubjectPlan(subject, procedures[0].title, date, opens, rule, steps)


def _transfer_steps(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date) -> list[NextStep]:
    if facts.planned_transfer_date is None:
        return []
    transfer = knowledge.procedures["transfer"]
    return _checklist_steps(transfer, facts, today, facts.planned_transfer_date, "before the transfer date")


def _started_checklist_steps(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date) -> list[NextStep]:
    """Checklists begun by hand (positive exit, withdrawal, escalations) stay on the list until finished."""
    timed = {*RELEASE_CHECKLISTS, "transfer"}
    started = {procedure_id for procedure_id, _ in facts.progress} - timed
    steps: list[NextStep] = []
    for procedure_id in sorted(started):
        procedure = knowledge.procedures.get(procedure_id)
        if procedure is not None:
            steps += _checklist_steps(procedure, facts, today, None, f"to finish the {procedure.title.lower()}")
    return steps


def next_steps(facts: EpisodeFacts, knowledge: Knowledge, today: dt.date) -> list[NextStep]:
    """Every step now open for the episode: overdue first, then by due date; undated steps last."""
    if facts.closed:
        return []
    steps = (
        _assessment_steps(facts, knowledge, today)
        + _review_steps(facts, knowledge, today)
        + _release_steps(facts, knowledge, today)
        + _transfer_steps(facts, knowledge, today)
        + _started_checklist_steps(facts, knowledge, today)
    )
    return sorted(steps, key=lambda s: (not s.overdue, s.due is None, s.due or dt.date.max))
