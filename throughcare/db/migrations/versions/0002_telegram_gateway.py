"""telegram gateway

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:27:52.683379
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "button_payload",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "telegram_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("telegram_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_update_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_telegram_update_telegram_user_id"), ["telegram_user_id"], unique=False)

    op.create_table(
        "digest_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "day"),
    )
    op.create_table(
        "telegram_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "approved", "refused", "revoked", name="accessstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_staff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_staff_id"],
            ["staff_member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("telegram_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_account_telegram_user_id"), ["telegram_user_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("telegram_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_account_telegram_user_id"))

    op.drop_table("telegram_account")
    op.drop_table("digest_delivery")
    with op.batch_alter_table("telegram_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_update_telegram_user_id"))
        batch_op.drop_index(batch_op.f("ix_telegram_update_at"))

    op.drop_table("telegram_update")
    op.drop_table("button_payload")
