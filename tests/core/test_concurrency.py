"""Staff writing to one client's record at the same moment, as real threads on SQLite and PostgreSQL: each race ends
with one result on the record, and everyone who lost it is told what happened instead of seeing a database fault."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from throughcare import errors
from throughcare.cases import open_steps, staff_members, store
from throughcare.db.engine import Database
from throughcare.db.models import (
    AuditEvent,
    ChecklistProgress,
    Client,
    ClosureReason,
    Episode,
    OpenStep,
    ReferralRoute,
    Role,
    Stage,
    StepStatus,
)
from throughcare.knowledge.loader import default_knowledge
from throughcare.protocol.engine import next_steps

THREADS = 8
ROUTE = ReferralRoute.staff_referral


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at once, each on its own thread, and return what each returned or raised, in order."""
    results: list[object] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as err:  # every outcome is kept: the assertions say which are allowed
            results[index] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def staff(db: Database, count: int = THREADS) -> list[int]:
    return [staff_members.add_staff(db, f"Worker {n}", Role.practitioner) for n in range(count)]


def names(db: Database) -> dict[int, str]:
    return {s.id: s.display_name for s in staff_members.list_staff(db)}


def outcomes(results: list[object]) -> Counter[str]:
    return Counter(type(r).__name__ for r in results)


def rows(db: Database, model: type, *where) -> list:  # type: ignore[no-untyped-def, type-arg]
    with db.transaction() as session:
        return list(session.scalars(select(model).where(*where).order_by(model.id)))  # type: ignore[attr-defined]


def test_eight_staff_referring_a_new_client_at_once_open_one_episode(database: Database) -> None:
    workers, today = staff(database), dt.date.today()
    results = race(
        [lambda s=s: store.record_referral(database, default_knowledge(), "A1234BC", ROUTE, today, s) for s in workers]  # type: ignore[misc]
    )

    assert outcomes(results) == {"EpisodeFacts": 1, "AlreadyReferred": THREADS - 1}
    winner = workers[next(n for n, r in enumerate(results) if not isinstance(r, Exception))]
    told = f"A1234BC already has an open episode (referred by {names(database)[winner]} on"
    assert all(told in str(r) for r in results if isinstance(r, errors.AlreadyReferred))
    assert len(rows(database, Episode)) == 1
    assert len(rows(database, AuditEvent, AuditEvent.action == "record_referral")) == 1


def test_eight_staff_re_referring_a_released_client_at_once_open_one_new_episode(database: Database) -> None:
    workers, today = staff(database), dt.date.today()
    with database.transaction() as session:
        session.add(
            Episode(
                client=Client(prison_number="B2345CD"),
                referral_date=today - dt.timedelta(days=400),
                referral_route=ROUTE,
                stage=Stage.closed,
                closure_reason=ClosureReason.release,
                closure_date=today - dt.timedelta(days=100),
            )
        )
    results = race(
        [lambda s=s: store.record_referral(database, default_knowledge(), "B2345CD", ROUTE, today, s) for s in workers]  # type: ignore[misc]
    )

    assert outcomes(results) == {"EpisodeFacts": 1, "AlreadyReferred": THREADS - 1}
    assert [e.closure_date for e in rows(database, Episode)] == [today - dt.timedelta(days=100), None]


def test_eight_staff_marking_one_step_done_at_once_leave_one_mark(database: Database) -> None:
    workers, today = staff(database), dt.date.today()
    store.record_referral(database, default_knowledge(), "A1234BC", ROUTE, today, workers[0])
    results = race(
        [
            lambda s=s: store.mark_step(
                database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.done, s
            )  # type: ignore[misc]
            for s in workers
        ]
    )

    assert outcomes(results) == {"EpisodeFacts": 1, "AlreadyMarked": THREADS - 1}
    (mark,) = rows(database, ChecklistProgress)
    told = f"Already marked done by {names(database)[mark.by_staff_id]} at "
    assert all(str(r).startswith(told) for r in results if isinstance(r, errors.AlreadyMarked))
    assert len(rows(database, AuditEvent, AuditEvent.action == "transfer.ndtms_form")) == 1


def test_a_changed_mark_races_with_the_same_mark_and_both_are_audited_in_order(database: Database) -> None:
    workers, today = staff(database, 2), dt.date.today()
    store.record_referral(database, default_knowledge(), "A1234BC", ROUTE, today, workers[0])
    results = race(
        [
            lambda: store.mark_step(
                database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.done, workers[0]
            ),
            lambda: store.mark_step(
                database,
                default_knowledge(),
                "A1234BC",
                "transfer",
                "ndtms_form",
                StepStatus.skipped,
                workers[1],
                "no NDTMS consent",
            ),
        ]
    )

    assert outcomes(results) == {"EpisodeFacts": 2}
    trail = rows(database, AuditEvent, AuditEvent.action == "transfer.ndtms_form")
    assert trail[0].before is None and trail[1].before == trail[0].after
    (mark,) = rows(database, ChecklistProgress)
    assert mark.status.value == trail[1].after["status"]


def test_events_recorded_at_once_leave_an_audit_trail_whose_before_values_chain(database: Database) -> None:
    workers, today = staff(database), dt.date.today()
    store.record_referral(database, default_knowledge(), "A1234BC", ROUTE, today, workers[0])
    dates = [today + dt.timedelta(days=60 + n) for n in range(THREADS)]
    results = race(
        [
            lambda s=s, d=d: store.record_event(database, default_knowledge(), "A1234BC", "release_date", d, s, today)  # type: ignore[misc]
            for s, d in zip(workers, dates, strict=True)
        ]
    )

    assert outcomes(results) == {"EpisodeFacts": THREADS}
    trail = rows(database, AuditEvent, AuditEvent.action == "record_release_date")
    befores = [e.before["expected_release_date"] for e in trail]
    afters = [e.after["expected_release_date"] for e in trail]
    assert befores == [None, *afters[:-1]]
    assert sorted(afters) == [d.isoformat() for d in dates]
    assert store.episode_facts(database, "A1234BC").expected_release_date.isoformat() == afters[-1]  # type: ignore[union-attr]


def test_steps_marked_while_the_daily_refresh_runs_are_each_listed_once(database: Database, knowledge) -> None:  # type: ignore[no-untyped-def]
    workers, today = staff(database, 4), dt.date.today()
    store.record_referral(database, default_knowledge(), "A1234BC", ROUTE, today, workers[0])
    store.record_event(
        database, default_knowledge(), "A1234BC", "transfer", today + dt.timedelta(days=10), workers[0], today
    )
    steps = ["support_known_transfer", "ndtms_form", "transfer_email", "handover"]
    marks = [
        lambda s=s, step=step: store.mark_step(
            database, default_knowledge(), "A1234BC", "transfer", step, StepStatus.done, s
        )  # type: ignore[misc]
        for s, step in zip(workers, steps, strict=True)
    ]
    refreshes = [lambda: open_steps.refresh_open_steps(database, knowledge, today) for _ in range(4)]
    results = race([call for pair in zip(marks, refreshes, strict=True) for call in pair])

    assert not [r for r in results if isinstance(r, Exception)]
    listed = [row.key for row in rows(database, OpenStep)]
    facts = store.episode_facts(database, "A1234BC")
    assert sorted(listed) == sorted(step.key for step in next_steps(facts, knowledge, today))
    assert not {f"transfer:{step}" for step in steps} & set(listed)
