"""the community service's report that a released client did not engage

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00

The new referral route `community_team` needs no migration: routes are stored as plain strings
(VARCHAR(32), no CHECK constraint; see throughcare/db/models.py `_enum`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community_not_engaged_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("community_not_engaged_date")
