"""a promise's account as data, so the API can give it in the caller's language

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Promises made before keep their English account only.
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promise_said", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.drop_column("promise_said")
