"""Insert one row: the row count tells how many times this revision ran."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    events = sa.table("events", sa.column("id", sa.Integer), sa.column("note", sa.String))
    op.bulk_insert(events, [{"id": 1, "note": "migrated"}])


def downgrade() -> None:
    op.execute("DELETE FROM events")
