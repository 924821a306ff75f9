"""Each open episode's next steps, kept as rows so the overdue reports need not compute them: rewritten with every
change to an episode, and refreshed daily."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from throughcare.cases.facts import facts_of
from throughcare.db.engine import Database
from throughcare.db.models import (
    Episode,
    OpenStep,
)
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol.engine import next_steps


def _open_step_rows(episode: Episode, knowledge: Knowledge, today: dt.date) -> list[OpenStep]:
    return [
        OpenStep(
            episode_id=episode.id,
            key=step.key[:80],
            what=step.what[:300],
            who=step.who[:80],
            due=step.due,
            computed_on=today,
        )
        for step in next_steps(facts_of(episode), knowledge, today)
    ]


def replace_open_steps(session: Session, episode: Episode, knowledge: Knowledge, today: dt.date) -> None:
    """Rewrite the episode's rows in `open_step`, in the transaction that changed the episode."""
    session.flush()
    session.execute(delete(OpenStep).where(OpenStep.episode_id == episode.id))
    session.refresh(episode)
    session.add_all(_open_step_rows(episode, knowledge, today))


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
            session.add_all(row for episode in episodes for row in _open_step_rows(episode, knowledge, today))
    return len(ids)


def open_steps_computed_on(db: Database) -> dt.date | None:
    """The oldest date the open steps were computed for: reports of what is overdue are as of then."""
    with db.transaction() as session:
        return session.scalar(select(func.min(OpenStep.computed_on)))
