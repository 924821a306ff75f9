"""A synthetic demo caseload: invented prison numbers and initials, dates set relative to today.

Every client is made up; nothing here comes from a real person.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from throughcare.cases import open_steps
from throughcare.db.engine import Database
from throughcare.db.models import (
    Base,
    ChecklistProgress,
    Client,
    ClosureReason,
    Episode,
    GuidanceQuery,
    ReferralRoute,
    Role,
    StaffMember,
    Stage,
    StepStatus,
)
from throughcare.demo.synthetic import synthetic_queries
from throughcare.knowledge.loader import default_knowledge
from throughcare.protocol.workdays import add_working_days

DEMO_PRACTITIONER = "Demo Practitioner"
DEMO_MANAGER = "Morgan Manager"
DEMO_STAFF = [
    ("Demo Practitioner", Role.practitioner, "Recovery team A"),
    ("Sam Okafor", Role.practitioner, "Recovery team A"),
    ("Jo Lindqvist", Role.practitioner, "Recovery team B"),
    ("Priya Duty", Role.practitioner, "Recovery team B"),
    ("Alex Admin", Role.administrator, "Admin"),
    ("Morgan Manager", Role.manager, "Management"),
    ("Dr Chris Clinical", Role.clinical_lead, "Clinical"),
]
CARE_LEVELS = ["dars_high_risk", "dars_dependence", "dars_freedom", "tc_connect", "tc_dependence", "tc_freedom"]


@dataclass(frozen=True)
class DemoClient:
    """How far along a demo client is, in working days before today."""

    stage: str
    referred: int
    assessed: int | None = None
    triaged: int | None = None
    reviewed: int | None = None
    release_in_days: int | None = None  # working days ahead
    transfer_in_days: int | None = None
    route: ReferralRoute = ReferralRoute.self_referral
    on_prescription: bool = False
    closed: ClosureReason | None = None


# The first entry is the client named in the README; the rest spread across every stage.
DEMO_CLIENTS = [
    DemoClient(
        "in_treatment", referred=70, assessed=66, triaged=58, reviewed=25, release_in_days=40, on_prescription=True
    ),
    DemoClient("referred", referred=2),
    DemoClient("referred", referred=7),
    DemoClient("referred", referred=1, route=ReferralRoute.illicit_use),
    DemoClient("referred", referred=4, route=ReferralRoute.positive_drug_test),
    DemoClient("referred", referred=3, route=ReferralRoute.staff_referral),
    DemoClient("assessed", referred=12, assessed=8),
    DemoClient("assessed", referred=20, assessed=14),
    DemoClient("assessed", referred=6, assessed=2),
    DemoClient("assessed", referred=9, assessed=5, route=ReferralRoute.induction),
    DemoClient("in_treatment", referred=40, assessed=36, triaged=28),
    DemoClient("in_treatment", referred=60, assessed=57, triaged=50, reviewed=12),
    DemoClient("in_treatment", referred=90, assessed=85, triaged=77, reviewed=40, on_prescription=True),
    DemoClient("in_treatment", referred=120, assessed=116, triaged=108, reviewed=8),
    DemoClient("in_treatment", referred=30, assessed=27, triaged=18, on_prescription=True),
    DemoClient("in_treatment", referred=200, assessed=196, triaged=188, reviewed=55),
    DemoClient("in_treatment", referred=45, assessed=41, triaged=33, reviewed=3),
    DemoClient("in_treatment", referred=75, assessed=72, triaged=63, reviewed=20, route=ReferralRoute.induction),
    DemoClient("in_treatment", referred=50, assessed=46, triaged=37, reviewed=9, on_prescription=True),
    DemoClient("in_treatment", referred=150, assessed=146, triaged=139, reviewed=30),
    DemoClient(
        "in_treatment", referred=100, assessed=96, triaged=89, reviewed=15, release_in_days=10, on_prescription=True
    ),
    DemoClient("in_treatment", referred=110, assessed=105, triaged=98, reviewed=22, release_in_days=120),
    DemoClient("in_treatment", referred=80, assessed=76, triaged=69, reviewed=6, release_in_days=25),
    DemoClient("in_treatment", referred=35, assessed=31, triaged=24, transfer_in_days=6, on_prescription=True),
    DemoClient("in_treatment", referred=55, assessed=52, triaged=44, reviewed=11, transfer_in_days=15),
    DemoClient("in_treatment", referred=65, assessed=62, triaged=54, reviewed=28, route=ReferralRoute.staff_referral),
    DemoClient("in_treatment", referred=95, assessed=92, triaged=84, reviewed=45),
    DemoClient("in_treatment", referred=25, assessed=22, triaged=14),
    DemoClient("in_treatment", referred=130, assessed=127, triaged=118, reviewed=17),
    DemoClient("in_treatment", referred=85, assessed=80, triaged=70, reviewed=35, on_prescription=True),
    DemoClient("closed", referred=140, assessed=136, triaged=128, reviewed=60, closed=ClosureReason.positive_exit),
    DemoClient("closed", referred=100, assessed=97, triaged=90, closed=ClosureReason.withdrawal),
    DemoClient("closed", referred=60, assessed=56, triaged=48, closed=ClosureReason.transfer),
    DemoClient("referred", referred=0, route=ReferralRoute.induction),
]


def _prison_number(rng: random.Random, taken: set[str]) -> str:
    while True:
        letters = "".join(rng.choices(string.ascii_uppercase, k=3))
        number = f"{letters[0]}{rng.randrange(1000, 10000)}{letters[1:]}"
        if number not in taken:
            taken.add(number)
            return number


def _back(today: dt.date, working_days: int | None) -> dt.date | None:
    return None if working_days is None else add_working_days(today, -working_days)


def _ahead(today: dt.date, working_days: int | None) -> dt.date | None:
    return None if working_days is None else add_working_days(today, working_days)


def load_demo_data(db: Database, today: dt.date, reset: bool = False, seed: int = 7) -> int:
    """Load the demo caseload in one transaction; returns the number of clients (0 when already loaded)."""
    rng = random.Random(seed)
    knowledge = default_knowledge()
    with db.transaction() as session:
        if reset:
            # Every table, children first: a list written by hand missed the ones added later (induction).
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))
        elif session.scalar(select(func.count()).select_from(Client)):
            return 0
        staff = [StaffMember(display_name=name, role=role, team=team, active=True) for name, role, team in DEMO_STAFF]
        session.add_all(staff)
        session.flush()
        practitioners = [s for s in staff if s.role == Role.practitioner]
        taken: set[str] = set()
        for index, spec in enumerate(DEMO_CLIENTS):
            number = "A1234BC" if index == 0 else _prison_number(rng, taken)
            session.add(_demo_episode(spec, index, number, practitioners, rng, today))
        _released_episodes(session, rng, today, practitioners, taken)
        session.flush()
        numbers = sorted(taken | {"A1234BC"})
        start = dt.datetime.combine(today - dt.timedelta(weeks=12), dt.time(9), tzinfo=dt.timezone.utc)
        ids = [s.id for s in practitioners]
        rows = list(synthetic_queries(knowledge, rng, ids, numbers, start, start + dt.timedelta(weeks=12), 600))
        session.execute(insert(GuidanceQuery), rows)
    open_steps.refresh_open_steps(db, knowledge, today)
    return len(DEMO_CLIENTS)


def _demo_episode(
    spec: DemoClient, index: int, number: str, practitioners: list[StaffMember], rng: random.Random, today: dt.date
) -> Episode:
    client = Client(prison_number=number, initials="".join(rng.choices(string.ascii_uppercase, k=2)))
    # Half the caseload belongs to the demo practitioner, so "my caseload" has something to show.
    worker = practitioners[0] if index % 2 == 0 else rng.choice(practitioners[1:])
    referral = _back(today, spec.referred)
    episode = Episode(
        client=client,
        referral_date=referral,
        referral_route=spec.route,
        reception_date=referral - dt.timedelta(days=rng.randrange(1, 20)),  # type: ignore[operator]
        stage=Stage(spec.stage),
        care_level=rng.choice(CARE_LEVELS) if spec.triaged else None,
        key_worker=worker if spec.triaged else None,
        on_prescription=spec.on_prescription,
        consent_to_share=True if spec.assessed else None,
        ndtms_consent=True if spec.assessed else None,
        initial_assessment_date=_back(today, spec.assessed),
        triage_date=_back(today, spec.triaged),
        last_review_date=_back(today, spec.reviewed),
        expected_release_date=_ahead(today, spec.release_in_days),
        planned_transfer_date=_ahead(today, spec.transfer_in_days),
    )
    if spec.stage != "in_treatment":
        # Until triage the case sits with whoever assesses it; show it on the demo practitioner's list.
        episode.key_worker = practitioners[0] if index % 2 == 0 else None
    if spec.closed:
        episode.closure_reason = spec.closed
        episode.stage = Stage.closed
        episode.closure_date = _back(today, 5)
    if spec.release_in_days == 25:
        episode.progress.append(
            ChecklistProgress(
                procedure_id="release", step_id="harm_reduction_session", status=StepStatus.done, by_staff_id=worker.id
            )
        )
    return episode


def _released_episodes(
    session, rng: random.Random, today: dt.date, practitioners: list[StaffMember], taken: set[str]
) -> None:  # type: ignore[no-untyped-def]
    """Clients released over the past year, so the commissioner's figures have two half years to show."""
    for index in range(16):
        released = _back(today, 10 + index * 14)
        referral = released - dt.timedelta(days=rng.randrange(60, 200))
        assessed = add_working_days(referral, rng.randrange(1, 6))
        episode = Episode(
            client=Client(
                prison_number=_prison_number(rng, taken), initials="".join(rng.choices(string.ascii_uppercase, k=2))
            ),
            referral_date=referral,
            referral_route=rng.choice(list(ReferralRoute)),
            stage=Stage.closed,
            care_level=rng.choice(CARE_LEVELS),
            key_worker=rng.choice(practitioners),
            initial_assessment_date=assessed,
            triage_date=add_working_days(assessed, rng.randrange(2, 12)),
            closure_reason=ClosureReason.release,
            closure_date=released,
            community_engagement_date=released + dt.timedelta(days=rng.randrange(1, 10)) if index % 3 else None,
        )
        session.add(episode)
        if index % 4:
            session.add(
                ChecklistProgress(
                    episode=episode,
                    procedure_id="release_planning",
                    step_id="community_referral",
                    status=StepStatus.done,
                    by_staff_id=episode.key_worker.id,
                )
            )


def demo_manager_id(db: Database) -> int | None:
    with db.transaction() as session:
        return session.scalar(select(StaffMember.id).where(StaffMember.display_name == DEMO_MANAGER))


def demo_practitioner_id(db: Database) -> int | None:
    with db.transaction() as session:
        return session.scalar(select(StaffMember.id).where(StaffMember.display_name == DEMO_PRACTITIONER))
