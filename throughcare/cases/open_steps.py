"""Each open episode's next steps, kept as rows so the overdue reports need not compute them: rewritten with every
change to an episode, and refreshed daily."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from throughcare.cases.facts import facts_of
from throughcare.db.engine import Database
from throughcare.db.models import (
    Episode,
    OpenStep,
)
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol.engine import next_steps


def _open_step_rows(episode: Episode, knowledge: Knowledge, today: dt.date) -> list[dict]:
    return [
        {
            "episode_id": episode.id,
            "key": step.key[:80],
            "what": step.what[:300],
            "who": step.who[:80],
            "due": step.due,
            "computed_on": today,
        }
        for step in next_steps(facts_of(episode), knowledge, today)
    ]


def replace_open_steps(session: Session, episode: Episode, knowledge: Knowledge, today: dt.date) -> None:
    """Bring the episode's rows in `open_step` up to date, in the transaction that changed the episode. The episode
    as the caller holds it is the record: its changes, and its marks in `episode.progress`, are in the session.

    Only the rows that differ are rewritten: a change moves one or two of an episode's thirty-odd steps, and
    rewriting them all cost more than the rest of the change."""
    session.flush()
    wanted = {row["key"]: row for row in _open_step_rows(episode, knowledge, today)}
    held = session.execute(select(OpenStep.__table__).where(OpenStep.episode_id == episode.id)).mappings().all()
    # A row stays when every column but its id is what the engine says now, the day it was worked out included.
    kept = {row["key"] for row in held if wanted.get(row["key"]) == {c: v for c, v in row.items() if c != "id"}}
    stale = [row["id"] for row in held if row["key"] not in kept]
    if stale:
        session.execute(delete(OpenStep).where(OpenStep.id.in_(stale)))
    new = [row for key, row in wanted.items() if key not in kept]
    if new:
        session.execute(insert(OpenStep), new)


def refresh_open_steps(db: Database, knowledge: Knowledge, today: dt.date, batch: int = 1000) -> int:
    """Recompute `open_step` for every open episode as of `today`. Run daily: steps open and fall due as time
    passes, not only when an episode changes. Each batch is one transaction. Returns the episodes refreshed."""
    open_episodes = select(Episode.id).where(Episode.closure_date.is_(None))
    with db.writing() as session:
        ids = session.scalars(open_episodes.order_by(Episode.id)).all()
        session.execute(delete(OpenStep).where(OpenStep.episode_id.not_in(open_episodes)))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with db.writing() as session:
            # Locked, as every change to an episode locks it, so a step marked meanwhile is not rewritten twice.
            episodes = session.scalars(
                select(Episode)
                .where(Episode.id.in_(chunk))
                .order_by(Episode.id)
                .with_for_update()
                .options(selectinload(Episode.client), selectinload(Episode.key_worker), selectinload(Episode.progress))
            ).all()
            session.execute(delete(OpenStep).where(OpenStep.episode_id.in_(chunk)))
            rows = [row for episode in episodes for row in _open_step_rows(episode, knowledge, today)]
            if rows:
                session.execute(insert(OpenStep), rows)
    return len(ids)


def open_steps_computed_on(db: Database) -> dt.date | None:
    """The oldest date the open steps were computed for: reports of what is overdue are as of then."""
    with db.transaction() as session:
        return session.scalar(select(func.min(OpenStep.computed_on)))
