"""incident milestones and late flow records

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 00:18:20.947886
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MOMENTS = ("accepted_at", "dispatched_at", "handled_at", "closed_at")
_FLAGS = ("accept_late", "misdispatched", "handle_late")

# Milestones of the incidents already stored, from their flow records. Records written before this
# revision carry no late flag, so those incidents count as on time.
_BACKFILL = """
UPDATE incident SET
  accepted_at = (SELECT min(f.at) FROM flow_record f WHERE f.incident = incident.id AND f.action = 'accept'),
  dispatched_at = (SELECT min(f.at) FROM flow_record f WHERE f.incident = incident.id AND f.action = 'dispatch'),
  handled_at = (SELECT max(f.at) FROM flow_record f WHERE f.incident = incident.id AND f.action = 'handle'),
  closed_at = CASE WHEN state = 'closed' THEN
    (SELECT max(f.at) FROM flow_record f WHERE f.incident = incident.id AND f.action = 'close') END,
  misdispatched = EXISTS (SELECT 1 FROM flow_record f WHERE f.incident = incident.id AND (f.action = 'return'
    OR (f.action = 'reroute' AND f.from_state IN ('dispatched', 'signed'))))
"""


def upgrade() -> None:
    with op.batch_alter_table("flow_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late", sa.Boolean(), nullable=True))

    with op.batch_alter_table("incident", schema=None) as batch_op:
        for name in _MOMENTS:
            batch_op.add_column(sa.Column(name, server.db.types.UtcDateTime(timezone=True), nullable=True))
        for name in _FLAGS:
            batch_op.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("late_stages", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_incident_accepted_at"), ["accepted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_dispatched_at"), ["dispatched_at"], unique=False)

    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_dispatched_at"))
        batch_op.drop_index(batch_op.f("ix_incident_accepted_at"))
        for name in ("late_stages", *_FLAGS, *_MOMENTS):
            batch_op.drop_column(name)

    with op.batch_alter_table("flow_record", schema=None) as batch_op:
        batch_op.drop_column("late")
