"""resolution clocks paused while waiting for the customer

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No request taken before was ever paused.
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("paused_s", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.drop_column("paused_s")
        batch_op.drop_column("paused_reason")
        batch_op.drop_column("paused_at")
