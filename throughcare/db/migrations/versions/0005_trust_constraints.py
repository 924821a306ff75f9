"""database constraints that keep concurrent writes right

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:40:00

Checklist progress is already one row per episode, procedure and step (0001). This adds: at most one open
episode per client, and one open step per episode and key.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = sa.text("closure_date IS NULL")


class DuplicateOpenEpisodes(RuntimeError):
    pass


def upgrade() -> None:
    connection = op.get_bind()
    _refuse_duplicate_open_episodes(connection)
    _drop_duplicate_open_steps(connection)
    op.create_index(
        "uq_episode_open_per_client", "episode", ["client_id"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
    )
    op.create_index("uq_open_step_episode_key", "open_step", ["episode_id", "key"], unique=True)


def _refuse_duplicate_open_episodes(connection: sa.Connection) -> None:
    """Stop, changing nothing, if a client already has two open episodes.

    Which of them is the client's record, and why the other ends, is for the service to decide: closing one here
    would write a closure nobody made. Client and episode ids only, so the message names no one.
    """
    episode = sa.table("episode", sa.column("id"), sa.column("client_id"), sa.column("closure_date"))
    clients = (
        sa.select(episode.c.client_id)
        .where(episode.c.closure_date.is_(None))
        .group_by(episode.c.client_id)
        .having(sa.func.count() > 1)
    )
    rows = connection.execute(
        sa.select(episode.c.client_id, episode.c.id)
        .where(episode.c.closure_date.is_(None), episode.c.client_id.in_(clients))
        .order_by(episode.c.client_id, episode.c.id)
    ).all()
    if not rows:
        return
    by_client: dict[int, list[int]] = {}
    for client_id, episode_id in rows:
        by_client.setdefault(client_id, []).append(episode_id)
    listed = "; ".join(f"client {c}: episodes {', '.join(map(str, ids))}" for c, ids in by_client.items())
    raise DuplicateOpenEpisodes(
        f"{len(by_client)} client(s) have more than one open episode ({listed}). Nothing was changed. Ask the "
        "service which episode is each client's record, close the others with their closure date and reason, "
        "then run `throughcare db upgrade` again."
    )


def _drop_duplicate_open_steps(connection: sa.Connection) -> None:
    """Keep the first row of each episode's step. Open steps are worked out from the episode, not entered, and
    `throughcare steps refresh` rewrites them all, so nothing is lost."""
    open_step = sa.table("open_step", sa.column("id"), sa.column("episode_id"), sa.column("key"))
    first = sa.select(sa.func.min(open_step.c.id)).group_by(open_step.c.episode_id, open_step.c.key)
    connection.execute(sa.delete(open_step).where(open_step.c.id.not_in(first)))


def downgrade() -> None:
    op.drop_index("uq_open_step_episode_key", table_name="open_step")
    op.drop_index("uq_episode_open_per_client", table_name="episode")
