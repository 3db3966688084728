"""API keys and the caller's identity."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminUser, AnyUser, ClockDep, SessionDep
from api.schemas.auth import ApiKeyCreate, ApiKeyIssued, ApiKeyRead, WhoAmI
from api.schemas.common import Id
from dispatch.auth import service

router = APIRouter(prefix="/v1", tags=["auth"])


@router.get("/me", response_model=WhoAmI)
def whoami(user: AnyUser, clock: ClockDep) -> WhoAmI:
    """Who the key belongs to, its role, and the server's current time."""
    return WhoAmI(
        name=user.name, role=user.role.value, engineer_id=user.engineer_id, now=clock.now()
    )


@router.get("/api-keys", response_model=list[ApiKeyRead])
def list_keys(session: SessionDep, user: AdminUser) -> list[ApiKeyRead]:
    """Every API key (never the key itself)."""
    return [ApiKeyRead.model_validate(k) for k in service.list_api_keys(session)]


@router.post("/api-keys", response_model=ApiKeyIssued, status_code=status.HTTP_201_CREATED)
def create_key(body: ApiKeyCreate, session: SessionDep, user: AdminUser) -> ApiKeyIssued:
    """Issue a key; the answer is the only time it is shown."""
    issued = service.create_api_key(
        session, role=body.role, name=body.name, engineer_id=body.engineer_id
    )
    return ApiKeyIssued(
        id=issued.id,
        name=issued.name,
        role=issued.role.value,
        engineer_id=issued.engineer_id,
        key=issued.key,
    )


@router.delete("/api-keys/{key_id}", response_model=ApiKeyRead)
def revoke_key(key_id: Id, session: SessionDep, user: AdminUser) -> ApiKeyRead:
    """Revoke a key at once."""
    return ApiKeyRead.model_validate(service.revoke_api_key(session, key_id))
