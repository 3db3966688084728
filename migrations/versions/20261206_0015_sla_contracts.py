"""SLA contracts: policies for named customers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every policy stored before is the organisation's own, and no customer has a contract.
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contract", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_contract", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("sla_contract")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_column("contract")
