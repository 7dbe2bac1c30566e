"""The plugin's public keys table, shared by every replica of the plugin (Backstage's layout)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_public_keys"
down_revision = None
branch_labels = None
depends_on = None

TABLE = "backstage_backend_public_keys__keys"


def upgrade() -> None:
    """Create the table unless a Node backend sharing this database already made it."""
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(255), primary_key=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
