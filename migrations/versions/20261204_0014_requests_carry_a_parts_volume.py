"""requests carry a parts volume

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Requests taken before carry nothing that counts against a van's capacity.
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parts_volume", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_check_constraint("parts_volume_non_negative", "parts_volume >= 0")


def downgrade() -> None:
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.drop_constraint("parts_volume_non_negative", type_="check")
        batch_op.drop_column("parts_volume")
