"""Create the ``user_settings`` table: one JSON value per user, bucket and key.

The schema of Backstage's knex migration ``20220824183000_init``, so a database either backend
created reads the same: three ``varchar(255)`` columns as the primary key and the value as
``text`` holding its JSON.
"""

import sqlalchemy as sa
from alembic import op

revision = "20220824183000_init"
down_revision = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "user_settings",
        sa.Column(
            "user_entity_ref", sa.String(255), nullable=False, comment="The entityRef of the user"
        ),
        sa.Column("bucket", sa.String(255), nullable=False, comment="Name of the bucket"),
        sa.Column("key", sa.String(255), nullable=False, comment="Key of a bucket value"),
        sa.Column("value", sa.Text, nullable=False, comment="The value"),
        sa.PrimaryKeyConstraint("user_entity_ref", "bucket", "key", name="user_settings_pkey"),
        comment="The table of user related settings",
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("user_settings")
