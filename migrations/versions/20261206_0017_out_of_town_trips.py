"""out-of-town trips: a night away after a shift, and a lodging per service area

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every day planned before ended at home; no area had a lodging.
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("night_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("night_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("night_label", sa.String(length=200), nullable=True))
    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lodging", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.drop_column("lodging")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_column("night_label")
        batch_op.drop_column("night_lon")
        batch_op.drop_column("night_lat")
