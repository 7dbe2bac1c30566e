"""Create the events table: no unique key, so a second run of 0002 would add a second row."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("events", sa.Column("id", sa.Integer), sa.Column("note", sa.String(50)))


def downgrade() -> None:
    op.drop_table("events")
