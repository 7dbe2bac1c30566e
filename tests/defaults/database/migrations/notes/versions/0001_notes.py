"""A second, independent migration set (a library's tables in the plugin's database)."""

import sqlalchemy as sa
from alembic import op

revision = "notes_0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text)
    )


def downgrade() -> None:
    op.drop_table("notes")
