"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:28:44.157727
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prison_number", sa.String(length=7), nullable=False),
        sa.Column("initials", sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_prison_number"), ["prison_number"], unique=True)

    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "practitioner", "administrator", "manager", "clinical_lead", name="role", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("team", sa.String(length=80), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)

    op.create_table(
        "episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("referral_date", sa.Date(), nullable=False),
        sa.Column(
            "referral_route",
            sa.Enum(
                "induction",
                "self_referral",
                "staff_referral",
                "illicit_use",
                "positive_drug_test",
                name="referralroute",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reception_date", sa.Date(), nullable=True),
        sa.Column(
            "stage",
            sa.Enum("referred", "assessed", "in_treatment", "closed", name="stage", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("care_level", sa.String(length=32), nullable=True),
        sa.Column("key_worker_id", sa.Integer(), nullable=True),
        sa.Column("on_prescription", sa.Boolean(), nullable=False),
        sa.Column("parole_case", sa.Boolean(), nullable=False),
        sa.Column("consent_to_share", sa.Boolean(), nullable=True),
        sa.Column("ndtms_consent", sa.Boolean(), nullable=True),
        sa.Column("initial_assessment_date", sa.Date(), nullable=True),
        sa.Column("triage_date", sa.Date(), nullable=True),
        sa.Column("last_review_date", sa.Date(), nullable=True),
        sa.Column("joint_review_date", sa.Date(), nullable=True),
        sa.Column("expected_release_date", sa.Date(), nullable=True),
        sa.Column("planned_transfer_date", sa.Date(), nullable=True),
        sa.Column("transfer_destination", sa.String(length=80), nullable=True),
        sa.Column(
            "closure_reason",
            sa.Enum(
                "transfer",
                "release",
                "positive_exit",
                "withdrawal",
                "declined",
                name="closurereason",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("closure_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.ForeignKeyConstraint(
            ["key_worker_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_episode_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_episode_key_worker_id"), ["key_worker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_episode_stage"), ["stage"], unique=False)

    op.create_table(
        "guidance_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=48), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("cited", sa.String(length=200), nullable=True),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guidance_query", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guidance_query_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_guidance_query_fell_back"), ["fell_back"], unique=False)
        batch_op.create_index(batch_op.f("ix_guidance_query_intent"), ["intent"], unique=False)
        batch_op.create_index(batch_op.f("ix_guidance_query_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "checklist_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.String(length=48), nullable=False),
        sa.Column("step_id", sa.String(length=48), nullable=False),
        sa.Column(
            "status", sa.Enum("done", "skipped", name="stepstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by_staff_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_staff_id"],
            ["staff_member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episode.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("episode_id", "procedure_id", "step_id"),
    )
    with op.batch_alter_table("checklist_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checklist_progress_episode_id"), ["episode_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checklist_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_progress_episode_id"))

    op.drop_table("checklist_progress")
    with op.batch_alter_table("guidance_query", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guidance_query_staff_id"))
        batch_op.drop_index(batch_op.f("ix_guidance_query_intent"))
        batch_op.drop_index(batch_op.f("ix_guidance_query_fell_back"))
        batch_op.drop_index(batch_op.f("ix_guidance_query_at"))

    op.drop_table("guidance_query")
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episode_stage"))
        batch_op.drop_index(batch_op.f("ix_episode_key_worker_id"))
        batch_op.drop_index(batch_op.f("ix_episode_client_id"))

    op.drop_table("episode")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    op.drop_table("staff_member")
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_prison_number"))

    op.drop_table("client")
