"""induction progress

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:16:03.813797
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drill_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=80), nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "term"),
    )
    with op.batch_alter_table("drill_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drill_card_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "quiz_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=80), nullable=False),
        sa.Column("tour_id", sa.String(length=48), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quiz_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_answer_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "tour_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("tour_id", sa.String(length=48), nullable=False),
        sa.Column("card", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "tour_id"),
    )
    with op.batch_alter_table("tour_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tour_progress_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "training_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.String(length=48), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_record_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_record_staff_id"))

    op.drop_table("training_record")
    with op.batch_alter_table("tour_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tour_progress_staff_id"))

    op.drop_table("tour_progress")
    with op.batch_alter_table("quiz_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_answer_staff_id"))

    op.drop_table("quiz_answer")
    with op.batch_alter_table("drill_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drill_card_staff_id"))

    op.drop_table("drill_card")
