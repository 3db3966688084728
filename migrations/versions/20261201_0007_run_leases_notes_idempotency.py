"""run leases, notes and idempotency fingerprints

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 08:33:26.961791+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispatch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("recoveries", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=True))

    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("idempotency_fingerprint", sa.String(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.drop_column("idempotency_fingerprint")

    with op.batch_alter_table("dispatch_runs", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("recoveries")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("owner")
