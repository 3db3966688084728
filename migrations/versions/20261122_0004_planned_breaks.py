"""planned breaks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:17:28.421951+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("planned_break_start", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("planned_break_end", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:

    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_column("planned_break_end")
        batch_op.drop_column("planned_break_start")
