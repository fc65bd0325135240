"""The briefs' events copied into Discord guilds' scheduled events, one row per guild and event.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``mirrored_events``: empty, since nothing was mirrored before."""
    op.create_table(
        "mirrored_events",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("guild_id", sa.String(128), primary_key=True),
        sa.Column("event_key", sa.String(255), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(128)),
        sa.Column("fingerprint", sa.String(128)),
        sa.Column("sequence", sa.Integer),
        sa.Column("owner", sa.String(128)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('creating', 'scheduled', 'cancelled', 'gone')",
            name="ck_mirrored_events_state",
        ),
    )


def downgrade() -> None:
    """Drop ``mirrored_events``: the guilds' copies are no longer known to be the bot's."""
    op.drop_table("mirrored_events")
