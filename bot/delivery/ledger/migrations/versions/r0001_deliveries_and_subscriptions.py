"""Deliveries and subscriptions, as the releases before Alembic left them (their version 3).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create both tables (a legacy ledger at version 3 is stamped with this revision instead)."""
    op.create_table(
        "deliveries",
        sa.Column("reminder_id", sa.String(255), primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_claimed_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("owner", sa.String(128)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("message_id", sa.String(128)),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("retry_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('claimed', 'sent', 'failed', 'missed')", name="ck_deliveries_state"
        ),
    )
    op.create_index("ix_deliveries_updated_at", "deliveries", ["updated_at"])
    op.create_table(
        "subscriptions",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(128), primary_key=True),
        sa.Column("guild_id", sa.String(128)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warning", sa.Text),
        sa.CheckConstraint("source IN ('settings', 'command')", name="ck_subscriptions_source"),
        sa.CheckConstraint("state IN ('active', 'broken')", name="ck_subscriptions_state"),
    )


def downgrade() -> None:
    """Drop both tables, and every delivery and subscription with them."""
    op.drop_table("subscriptions")
    op.drop_index("ix_deliveries_updated_at", table_name="deliveries")
    op.drop_table("deliveries")
