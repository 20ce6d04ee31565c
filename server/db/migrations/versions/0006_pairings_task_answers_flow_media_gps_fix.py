"""pairings, task answers, photos on flow records and the GPS fix of a hand-placed report

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", server.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("expires_at", server.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", server.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("token", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_index(op.f("ix_pairing_token"), "pairing", ["token"], unique=False)
    op.create_table(
        "task_answer",
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("incident", sa.String(), nullable=True),
        sa.Column("whistle", sa.String(), nullable=True),
        sa.Column("at", server.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "client_id"),
    )
    op.create_index(op.f("ix_task_answer_incident"), "task_answer", ["incident"], unique=False)
    with op.batch_alter_table("flow_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gps_fix", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("gps_fix")
    with op.batch_alter_table("flow_record", schema=None) as batch_op:
        batch_op.drop_column("media")
    op.drop_index(op.f("ix_task_answer_incident"), table_name="task_answer")
    op.drop_table("task_answer")
    op.drop_index(op.f("ix_pairing_token"), table_name="pairing")
    op.drop_table("pairing")
