"""runs on a cluster: when a run was handed to the broker (the run row is the outbox), and
the parts a run over several areas is split into

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispatch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("part_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_foreign_key(
            "fk_dispatch_runs_parent_id_dispatch_runs",
            "dispatch_runs",
            ["parent_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_dispatch_runs_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("dispatch_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_dispatch_runs_parent_id")
        batch_op.drop_constraint("fk_dispatch_runs_parent_id_dispatch_runs", type_="foreignkey")
        batch_op.drop_column("part_count")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("handed_at")
