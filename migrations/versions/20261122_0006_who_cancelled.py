"""who cancelled

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:46:28.647512+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            "cancelled_by_valid", "cancelled_by IS NULL OR cancelled_by IN ('customer', 'us')"
        )


def downgrade() -> None:

    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.drop_constraint("cancelled_by_valid", type_="check")
        batch_op.drop_column("cancelled_by")
