"""The request's unit of work: a write is acknowledged only once it is committed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.models import Customer


class CommitFails(Session):
    """A session whose commit fails the way a lost database connection does."""

    def commit(self) -> None:
        raise OperationalError("COMMIT", {}, Exception("connection reset by peer"))


def test_a_failed_commit_is_an_error_response_not_a_201(app: Any, session: Session) -> None:
    """When the commit fails, the client gets a 503 and the customer does not exist."""
    factory = app.state.session_factory
    headers = _desk_key(session)
    app.state.session_factory = sessionmaker(
        bind=factory.kw["bind"],
        class_=CommitFails,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v1/customers", json={"name": "Acme"}, headers=headers)
    assert r.status_code == 503, r.text
    assert "database" in r.json()["detail"][0]["msg"]
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def _desk_key(session: Session) -> dict[str, str]:
    from tests.fixtures.factories import api_key

    token = api_key(session, "service_desk")
    session.commit()
    return {"Authorization": f"Bearer {token}"}
