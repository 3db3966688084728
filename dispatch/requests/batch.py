"""Bulk intake: many requests in one call, each taken exactly as a single one would be.

Every request goes through :func:`dispatch.requests.intake.take_request` (its promise, its
capacity check, its booking) in a transaction of its own, so a refused request never costs the
others theirs, a batch never holds the area for minutes, and a retry of the whole batch (or of
a part) answers each request already taken with the original, by its ``external_ref`` or its
own idempotency key. A dry run takes each request in a transaction that is rolled back: every
refusal is reported and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dispatch.db import translate_db_error
from dispatch.errors import DomainError, NotFound
from dispatch.geo_support import GeoContext
from dispatch.models import RepairRequest
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.runner import JobRunner
from dispatch.requests import intake

MAX_BATCH = 1000
"""Requests in one batch (a day of a large organisation; more are split by the caller)."""


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch: the fields ``take_request`` takes, and its idempotency key."""

    fields: Mapping[str, Any]
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a request was not taken: where (``loc`` inside the item), what, and the HTTP status
    it would have had alone."""

    loc: tuple[str | int, ...]
    msg: str
    type: str
    status: int


@dataclass
class ItemResult:
    """What became of one request: ``created``, ``existing`` (a retry: the original),
    ``would_create`` (dry run) or ``refused``."""

    index: int
    status: str
    request: RepairRequest | None = None
    taken: intake.Taken | None = None
    refusals: list[Refusal] = field(default_factory=list)


STATUS_OF_ERROR = {"not_found": 404, "conflict": 409, "invalid_input": 422, "unavailable": 503}


def refusal_of(exc: DomainError) -> Refusal:
    """A domain error as a refusal of one item."""
    loc = tuple(getattr(exc, "loc", ()) or ())
    if isinstance(exc, NotFound) and not loc:
        loc = (f"{exc.what.replace(' ', '_')}_id",)
    return Refusal(loc, exc.message, exc.type, STATUS_OF_ERROR.get(exc.type, 400))


def take_batch(
    factory: sessionmaker[Session],
    items: Sequence[BatchItem],
    *,
    now: datetime,
    actor: str,
    geo: GeoContext | None = None,
    capacity: CapacityIndex | None = None,
    runner: JobRunner | None = None,
    settings: intake.IntakeSettings | None = None,
    dry_run: bool = False,
    read: Callable[[Session, ItemResult], Any] | None = None,
) -> list[ItemResult]:
    """Take each request in a transaction of its own; ``read`` (called inside that transaction)
    turns a result into what the caller answers with, while the request is still loaded."""
    results = []
    for index, item in enumerate(items):
        result = ItemResult(index=index, status="refused")
        session = factory()
        try:
            taken = intake.take_request(
                session,
                now=now,
                actor=actor,
                geo=geo,
                capacity=capacity,
                runner=runner,
                settings=settings,
                idempotency_key=item.idempotency_key,
                **item.fields,
            )
            result.taken = taken
            result.request = taken.request
            if not taken.created:
                result.status = "existing"
            else:
                result.status = "would_create" if dry_run else "created"
            session.flush()
            if read is not None:
                read(session, result)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except (IntegrityError, StaleDataError) as exc:
            # Two callers took the same request at once: this one lost; a retry finds it.
            session.rollback()
            result.status, result.request, result.taken = "refused", None, None
            error = translate_db_error(exc)
            assert isinstance(error, DomainError)
            result.refusals = [refusal_of(error)]
        except DomainError as exc:
            session.rollback()
            result.status, result.request, result.taken = "refused", None, None
            result.refusals = [refusal_of(exc)]
        except OperationalError as exc:
            # The database went away: the rest would fail too. What was taken stays taken
            # (a retry of the batch answers those with the originals).
            session.rollback()
            raise translate_db_error(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        results.append(result)
    return results


__all__ = ["MAX_BATCH", "BatchItem", "ItemResult", "Refusal", "refusal_of", "take_batch"]
