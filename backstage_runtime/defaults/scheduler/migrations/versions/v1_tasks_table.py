"""The scheduler's tasks table, in Backstage's layout.

Revision ID: backend_tasks_v1

Idempotent: a table that Node Backstage's knex migrations created in a shared database is kept
and completed (the ``last_run_*`` columns, a nullable ``next_run_start_at`` for manual tasks)
rather than created again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "backend_tasks_v1"
down_revision = None
branch_labels = None
depends_on = None

TABLE = "backstage_backend_tasks__tasks"
#: MySQL's plain DATETIME keeps whole seconds: sub-second cadences need the fraction.
TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    """Create the table, or complete one created by Backstage's own migrations."""
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column("id", sa.String(255), primary_key=True, comment="The unique ID of the task"),
            sa.Column("settings_json", sa.Text(), nullable=False, comment="Task settings, JSON"),
            sa.Column(
                "next_run_start_at",
                TIME,
                nullable=True,
                comment="The next time that the task should be started; null: manual only",
            ),
            sa.Column("current_run_ticket", sa.Text(), nullable=True, comment="Lease ticket"),
            sa.Column("current_run_started_at", TIME, nullable=True),
            sa.Column(
                "current_run_expires_at",
                TIME,
                nullable=True,
                comment="The time that the current task run will time out",
            ),
            sa.Column("last_run_error_json", sa.Text(), nullable=True),
            sa.Column("last_run_ended_at", TIME, nullable=True),
            comment="Tasks used for scheduling work on multiple workers",
        )
        return
    columns = {column["name"]: column for column in inspector.get_columns(TABLE)}
    if "last_run_error_json" not in columns:
        op.add_column(TABLE, sa.Column("last_run_error_json", sa.Text(), nullable=True))
    if "last_run_ended_at" not in columns:
        op.add_column(TABLE, sa.Column("last_run_ended_at", TIME, nullable=True))
    if not columns["next_run_start_at"]["nullable"] and op.get_bind().dialect.name != "sqlite":
        # SQLite cannot relax a column in place; a table shared with Node is on PostgreSQL.
        op.alter_column(
            TABLE,
            "next_run_start_at",
            nullable=True,
            # MySQL's MODIFY restates the whole column: keep its type.
            existing_type=columns["next_run_start_at"]["type"],
        )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
