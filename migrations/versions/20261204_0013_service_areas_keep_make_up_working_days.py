"""service areas keep make-up working days

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:05:55.920297+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing areas have none: an empty list, written by the database for every row.
    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("working_dates", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.drop_column("working_dates")
