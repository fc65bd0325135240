"""Which deployment names each settings channel, so that one never unsubscribes another's;
and an index that finds a process's open claims (its heartbeat) without reading every delivery.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``named_channels``; every settings subscription so far belongs to ``default``."""
    op.create_table(
        "named_channels",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(128), primary_key=True),
        sa.Column("instance", sa.String(64), primary_key=True),
    )
    op.create_index("ix_named_channels_instance", "named_channels", ["platform", "instance"])
    op.create_index("ix_deliveries_state_owner", "deliveries", ["state", "owner"])
    op.execute(
        "INSERT INTO named_channels (platform, channel_id, instance) "
        "SELECT platform, channel_id, 'default' FROM subscriptions WHERE source = 'settings'"
    )


def downgrade() -> None:
    """Drop ``named_channels``: every deployment's settings channels are one list again."""
    op.drop_index("ix_deliveries_state_owner", table_name="deliveries")
    op.drop_index("ix_named_channels_instance", table_name="named_channels")
    op.drop_table("named_channels")
