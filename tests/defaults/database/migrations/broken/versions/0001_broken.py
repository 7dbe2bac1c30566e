"""A revision that fails halfway: its table must not survive (the run is one transaction)."""

import sqlalchemy as sa
from alembic import op

revision = "broken_0001"
down_revision = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer))
    raise RuntimeError("this migration is broken")


def downgrade() -> None:
    op.drop_table("half_done")
