"""SLA policies: versioned rules that turn a request into a promise."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminUser, SessionDep, StaffUser
from api.schemas.common import Id
from api.schemas.requests import SlaPolicyCreate, SlaPolicyRead
from dispatch.sla import service

router = APIRouter(prefix="/v1", tags=["SLA policies"])


@router.get("/sla-policies", response_model=list[SlaPolicyRead])
def list_policies(session: SessionDep, user: StaffUser) -> list[SlaPolicyRead]:
    """Every policy version, newest first; exactly one is active."""
    return [SlaPolicyRead.model_validate(p) for p in service.list_policies(session)]


@router.get("/sla-policies/{policy_id}", response_model=SlaPolicyRead)
def get_policy(policy_id: Id, session: SessionDep, user: StaffUser) -> SlaPolicyRead:
    """One policy version."""
    return SlaPolicyRead.model_validate(service.get_policy_row(session, policy_id))


@router.post("/sla-policies", response_model=SlaPolicyRead, status_code=status.HTTP_201_CREATED)
def publish_policy(body: SlaPolicyCreate, session: SessionDep, user: AdminUser) -> SlaPolicyRead:
    """Publish a new version and make it active (a contract's version applies to its customers
    only); promised requests keep their version."""
    row = service.publish_policy(
        session,
        name=body.name,
        rules=[r.model_dump() for r in body.rules],
        max_service_travel_s=body.max_service_travel_s,
        window_minutes=body.window_minutes,
        window=body.window.model_dump(),
        min_lead_minutes=body.min_lead_minutes,
        urgent_overtime_minutes=body.urgent_overtime_minutes,
        priority_rules=body.priority_rules,
        note=body.note,
        actor=user.actor,
        contract=body.contract,
        trips=body.trips.model_dump(),
    )
    return SlaPolicyRead.model_validate(row)
