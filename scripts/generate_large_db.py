"""Build a large synthetic database for the report benchmark: 50,000 clients and 1,000,000 guidance queries.

    .venv/bin/python scripts/generate_large_db.py --url sqlite:///var/bench.db
    .venv/bin/python scripts/generate_large_db.py --schema tc_bench \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test

Everything is invented (prison numbers, initials, staff names, questions); dates spread over two years
before today. The schema is created afresh (the SQLite file or the PostgreSQL schema is replaced).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import string
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from throughcare.cases import open_steps
from throughcare.db.engine import Database
from throughcare.db.migrate import upgrade
from throughcare.db.models import (
    ChecklistProgress,
    Client,
    ClosureReason,
    DrillCard,
    Episode,
    GuidanceQuery,
    QuizAnswer,
    ReferralRoute,
    Role,
    StaffMember,
    TourProgress,
    TrainingRecord,
)
from throughcare.demo.caseload import CARE_LEVELS
from throughcare.demo.synthetic import synthetic_queries
from throughcare.knowledge.loader import load_knowledge
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol.workdays import add_working_days

TEAMS = 20
PRACTITIONERS_PER_TEAM = 10
BATCH = 20_000


def _fresh(url: str, schema: str | None) -> str:
    """A database URL with an empty, migrated schema."""
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        if not schema:
            raise SystemExit("Give --schema for PostgreSQL, so the benchmark never touches your own tables.")
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    upgrade(url)
    return url


def _staff(db: Database) -> list[int]:
    rows = [
        dict(
            id=1 + team * PRACTITIONERS_PER_TEAM + n,
            display_name=f"Practitioner {team}-{n}",
            role=Role.practitioner,
            team=f"Team {team}",
            active=True,
        )
        for team in range(TEAMS)
        for n in range(PRACTITIONERS_PER_TEAM)
    ]
    rows.append(dict(id=len(rows) + 1, display_name="Bench Manager", role=Role.manager, team="Management", active=True))
    with db.transaction() as session:
        session.execute(insert(StaffMember), rows)
    return [r["id"] for r in rows if r["role"] == Role.practitioner]


def _induction(db: Database, rng: random.Random, staff: list[int], knowledge: Knowledge, today: dt.date) -> None:
    """Each practitioner part way through the induction aid, so its report is timed on real rows."""
    tours, scenarios, courses = list(knowledge.tours), list(knowledge.scenarios), list(knowledge.training)
    terms = [t.term for t in knowledge.glossary]
    now = dt.datetime.combine(today, dt.time(9), tzinfo=dt.timezone.utc)
    with db.transaction() as session:
        session.execute(
            insert(TourProgress),
            [dict(staff_id=s, tour_id=t, card=0, completed_at=now) for s in staff for t in rng.sample(tours, 3)],
        )
        session.execute(
            insert(QuizAnswer),
            [
                dict(staff_id=s, kind="scenario", item=sc, tour_id="", correct=rng.random() < 0.7, at=now)
                for s in staff
                for sc in rng.sample(scenarios, 5)
            ],
        )
        session.execute(
            insert(DrillCard),
            [
                dict(staff_id=s, term=t, box=rng.randint(1, 4), due_on=today)
                for s in staff
                for t in rng.sample(terms, 10)
            ],
        )
        session.execute(
            insert(TrainingRecord),
            [
                dict(staff_id=s, training_id=c, completed_on=today - dt.timedelta(days=rng.randrange(400)))
                for s in staff
                for c in rng.sample(courses, len(courses) // 2)
            ],
        )


def _cases(db: Database, rng: random.Random, clients: int, staff: list[int], today: dt.date) -> list[str]:
    """One episode per client, at every stage; about four in ten closed, most of those by release."""
    numbers: set[str] = set()
    while len(numbers) < clients:
        letters = rng.choices(string.ascii_uppercase, k=3)
        numbers.add(f"{letters[0]}{rng.randrange(1000, 10000)}{letters[1]}{letters[2]}")
    ordered = sorted(numbers)
    client_rows, episode_rows, progress_rows = [], [], []
    for index, number in enumerate(ordered, start=1):
        referral = today - dt.timedelta(days=rng.randrange(1, 730))
        ia = add_working_days(referral, rng.randrange(1, 9)) if rng.random() < 0.9 else None
        triage = add_working_days(ia, rng.randrange(2, 15)) if ia and rng.random() < 0.8 else None
        closed = triage is not None and rng.random() < 0.5
        reason = (
            rng.choice(
                [ClosureReason.release] * 6
                + [ClosureReason.transfer, ClosureReason.positive_exit, ClosureReason.withdrawal]
            )
            if closed
            else None
        )
        closure = min(today, triage + dt.timedelta(days=rng.randrange(20, 300))) if closed else None
        stage = "closed" if closed else "in_treatment" if triage else "assessed" if ia else "referred"
        client_rows.append(
            dict(id=index, prison_number=number, initials="".join(rng.choices(string.ascii_uppercase, k=2)))
        )
        episode_rows.append(
            dict(
                id=index,
                client_id=index,
                referral_date=referral,
                referral_route=rng.choice(list(ReferralRoute)),
                stage=stage,
                care_level=rng.choice(CARE_LEVELS) if triage else None,
                key_worker_id=rng.choice(staff),
                on_prescription=rng.random() < 0.3,
                parole_case=False,
                initial_assessment_date=ia,
                triage_date=triage,
                last_review_date=triage + dt.timedelta(days=rng.randrange(0, 60)) if triage and not closed else None,
                expected_release_date=today + dt.timedelta(days=rng.randrange(10, 400))
                if triage and not closed and rng.random() < 0.4
                else None,
                closure_reason=reason,
                closure_date=closure,
                community_engagement_date=closure + dt.timedelta(days=rng.randrange(1, 20))
                if reason == ClosureReason.release and rng.random() < 0.5
                else None,
            )
        )
        if reason == ClosureReason.release and rng.random() < 0.7:
            progress_rows.append(
                dict(
                    episode_id=index,
                    procedure_id="release_planning",
                    step_id="community_referral",
                    status="done",
                    by_staff_id=episode_rows[-1]["key_worker_id"],
                )
            )
    with db.transaction() as session:
        for table, rows in ((Client, client_rows), (Episode, episode_rows), (ChecklistProgress, progress_rows)):
            for start in range(0, len(rows), BATCH):
                session.execute(insert(table), rows[start : start + BATCH])
    return ordered


def _queries(
    db: Database, rng: random.Random, count: int, staff: list[int], numbers: list[str], today: dt.date
) -> None:
    end = dt.datetime.combine(today, dt.time(18), tzinfo=dt.timezone.utc)
    rows = synthetic_queries(load_knowledge(), rng, staff, numbers, end - dt.timedelta(days=730), end, count)
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            with db.transaction() as session:
                session.execute(insert(GuidanceQuery), batch)
            batch = []
    if batch:
        with db.transaction() as session:
            session.execute(insert(GuidanceQuery), batch)


def _after_bulk_load(db: Database) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; fresh statistics (and PostgreSQL's visibility map,
    which index-only scans need) let the planner use the indexes as a long-running database would."""
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if postgres:
            for table in ("staff_member", "client", "episode", "checklist_progress", "guidance_query", "open_step"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1)) FROM {table}")
                )
        connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", help="PostgreSQL schema to (re)create for the benchmark")
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng, today = random.Random(args.seed), dt.date.today()
    started = time.perf_counter()
    db = Database.from_url(_fresh(args.url, args.schema))
    staff = _staff(db)
    numbers = _cases(db, rng, args.clients, staff, today)
    print(f"{len(numbers):,} clients in {time.perf_counter() - started:.0f} s")
    _queries(db, rng, args.queries, staff, numbers, today)
    print(f"{args.queries:,} guidance queries by {time.perf_counter() - started:.0f} s")
    knowledge = load_knowledge()
    _induction(db, rng, staff, knowledge, today)
    refreshed = open_steps.refresh_open_steps(db, knowledge, today)
    print(f"open steps for {refreshed:,} open episodes by {time.perf_counter() - started:.0f} s")
    _after_bulk_load(db)
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
