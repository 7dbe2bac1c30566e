"""The event bus tables: events and subscriptions (PostgreSQL only, as Node's events backend:
on other databases the bus keeps its state in memory and this revision creates nothing)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "events_0001"
down_revision = None


def upgrade() -> None:
    """Create the two tables (on PostgreSQL)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "event_bus_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("data_json", sa.Text, nullable=False),
        sa.Column("notified_subscribers", postgresql.ARRAY(sa.Text)),
        comment="Events published to the events bus",
    )
    # The cleanup deletes by age, and a subscription reads its topics from its cursor on.
    op.create_index("event_bus_events_created_at_id_idx", "event_bus_events", ["created_at", "id"])
    op.create_index("event_bus_events_topic_id_idx", "event_bus_events", ["topic", "id"])
    op.create_table(
        "event_bus_subscriptions",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("read_until", sa.BigInteger, nullable=False),
        sa.Column("topics", postgresql.ARRAY(sa.Text)),
        comment="Subscriptions to the event bus",
    )


def downgrade() -> None:
    """Drop the two tables (on PostgreSQL)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("event_bus_subscriptions")
    op.drop_table("event_bus_events")
