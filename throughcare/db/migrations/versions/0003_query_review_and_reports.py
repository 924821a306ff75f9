"""query review and reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:49:28.417331
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.Column("who", sa.String(length=80), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episode.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("open_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_step_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_step_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "query_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column(
            "mark",
            sa.Enum("answered_well", "wrong_answer", "knowledge_gap", name="reviewmark", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("by_staff_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_staff_id"],
            ["staff_member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["guidance_query.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("query_id"),
    )
    with op.batch_alter_table("query_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_query_review_mark"), ["mark"], unique=False)

    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community_engagement_date", sa.Date(), nullable=True))

    with op.batch_alter_table("guidance_query", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f("ix_guidance_query_topic"), ["topic"], unique=False)
        batch_op.add_column(sa.Column("week", sa.Date(), nullable=True))
    _backfill_weeks()
    with op.batch_alter_table("guidance_query", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guidance_query_report", ["at", "week", "topic", "fell_back", "staff_id", "intent"], unique=False
        )
        batch_op.create_index("ix_guidance_query_fell_back_at", ["fell_back", "at"], unique=False)


def _backfill_weeks() -> None:
    """Queries logged before this revision get their week, worked out as the application does."""
    from throughcare.db.models import week_of

    connection = op.get_bind()
    table = sa.table(
        "guidance_query", sa.column("id", sa.Integer), sa.column("at", sa.DateTime), sa.column("week", sa.Date)
    )
    rows = connection.execute(sa.select(table.c.id, table.c.at)).all()
    for row in rows:
        connection.execute(sa.update(table).where(table.c.id == row.id).values(week=week_of(row.at)))


def downgrade() -> None:
    with op.batch_alter_table("guidance_query", schema=None) as batch_op:
        batch_op.drop_index("ix_guidance_query_fell_back_at")
        batch_op.drop_index("ix_guidance_query_report")
        batch_op.drop_column("week")
        batch_op.drop_index(batch_op.f("ix_guidance_query_topic"))
        batch_op.drop_column("topic")
        batch_op.drop_column("answer")

    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("community_engagement_date")

    with op.batch_alter_table("query_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_query_review_mark"))

    op.drop_table("query_review")
    with op.batch_alter_table("open_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_step_episode_id"))
        batch_op.drop_index(batch_op.f("ix_open_step_due"))

    op.drop_table("open_step")
