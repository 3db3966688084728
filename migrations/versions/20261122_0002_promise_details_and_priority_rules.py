"""promise details and priority rules; seed the default SLA policy

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:51:42.202216+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the defaults at the time of writing (a migration never imports model code).
# Targets in minutes; see DOMAIN.md "Default service levels".
DEFAULT_POLICY = {
    "name": "default",
    "version": 1,
    "max_service_travel_s": 28800,
    "window_minutes": 120,
    "min_lead_minutes": 30,
    "rules": [
        {
            "tier": "urgent",
            "locality": "same_city",
            "max_travel_s": None,
            "first_response_min": 15,
            "arrival_min": 120,
            "resolution_min": 120,
            "clock": "24x7",
        },
        {
            "tier": "urgent",
            "locality": "out_of_town",
            "max_travel_s": None,
            "first_response_min": 15,
            "arrival_min": 720,
            "resolution_min": 120,
            "clock": "24x7",
        },
        {
            "tier": "important",
            "locality": "same_city",
            "max_travel_s": None,
            "first_response_min": 30,
            "arrival_min": 240,
            "resolution_min": 240,
            "clock": "business_hours",
        },
        {
            "tier": "important",
            "locality": "out_of_town",
            "max_travel_s": None,
            "first_response_min": 30,
            "arrival_min": 1440,
            "resolution_min": 240,
            "clock": "business_hours",
        },
        {
            "tier": "general",
            "locality": "same_city",
            "max_travel_s": None,
            "first_response_min": 120,
            "arrival_min": 480,
            "resolution_min": 1440,
            "clock": "business_hours",
        },
        {
            "tier": "general",
            "locality": "out_of_town",
            "max_travel_s": None,
            "first_response_min": 120,
            "arrival_min": 2880,
            "resolution_min": 2880,
            "clock": "business_hours",
        },
    ],
}
DEFAULT_PRIORITY = {
    "default_tier": "general",
    "problem_types": {
        "safety_risk": "urgent",
        "system_down": "urgent",
        "production_loss": "urgent",
        "core_function_broken": "important",
        "customer_chasing": "important",
        "question": "general",
        "advice": "general",
        "minor_fault": "general",
    },
    "vip_tiers": {
        "gold": {"raise_by": 0, "at_least": "important"},
        "platinum": {"raise_by": 1, "at_least": None},
    },
}


def upgrade() -> None:
    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrival_target", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rule_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("at_risk", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("risk_reason", sa.String(length=500), nullable=True))

    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority_rules", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=120), nullable=True))

    policies = sa.table(
        "sla_policies",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("version", sa.Integer()),
        sa.column("active", sa.Boolean()),
        sa.column("rules", sa.JSON()),
        sa.column("priority_rules", sa.JSON()),
        sa.column("note", sa.String()),
        sa.column("created_by", sa.String()),
    )
    # Policies written before this revision derive priority with the defaults.
    op.execute(
        policies.update()
        .where(policies.c.priority_rules.is_(None))
        .values(priority_rules=DEFAULT_PRIORITY)
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.alter_column("priority_rules", existing_type=sa.JSON(), nullable=False)

    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(policies)).scalar() == 0:
        op.bulk_insert(
            policies,
            [
                {
                    "name": "default",
                    "version": 1,
                    "active": True,
                    "rules": json.loads(json.dumps(DEFAULT_POLICY)),
                    "priority_rules": DEFAULT_PRIORITY,
                    "note": "common after-sales practice (seeded)",
                    "created_by": "migration 0002",
                }
            ],
        )


def downgrade() -> None:
    op.execute("DELETE FROM sla_policies WHERE created_by = 'migration 0002'")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("priority_rules")

    with op.batch_alter_table("repair_requests", schema=None) as batch_op:
        batch_op.drop_column("risk_reason")
        batch_op.drop_column("at_risk")
        batch_op.drop_column("rule_key")
        batch_op.drop_column("arrival_target")
