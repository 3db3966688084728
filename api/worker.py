"""The cluster's processes, assembled from the settings: the Celery application that
``onsite worker`` and ``onsite beat`` run, and the one the API hands runs to."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from dispatch.clock import SystemClock
from dispatch.db import make_engine, make_session_factory
from dispatch.geo_support import GeoContext
from dispatch.notify.webhooks import WebhookSettings
from dispatch.planning.runs import RunSettings
from dispatch.planning.solver import InlineSolver
from dispatch.settings import Settings

if TYPE_CHECKING:  # Celery is imported only where a cluster is configured
    from celery import Celery

    from dispatch.planning.cluster import WorkerContext


def run_settings(settings: Settings) -> RunSettings:
    """How runs behave in this deployment (API processes and workers alike)."""
    lease = timedelta(seconds=settings.run_lease_s)
    return RunSettings(
        freeze=timedelta(minutes=settings.freeze_minutes),
        lease=lease,
        heartbeat_s=lease.total_seconds() / 3,
        part_max_engineers=settings.part_max_engineers,
    )


def webhook_settings(settings: Settings) -> WebhookSettings:
    """How webhook deliveries behave in this deployment."""
    return WebhookSettings(
        allow_private=settings.webhook_allow_private,
        timeout_s=settings.webhook_timeout_s,
        retry_for=timedelta(hours=settings.webhook_retry_hours),
        log_messages=settings.customer_messages_log,
    )


def worker_context(settings: Settings) -> WorkerContext:
    """A worker process's resources. Its solves run inline: the worker is its own process."""
    from dispatch.planning.cluster import WorkerContext

    engine = make_engine(settings.database_url)
    return WorkerContext(
        factory=make_session_factory(engine),
        geo=GeoContext.from_settings(settings),
        solver=InlineSolver(),
        clock=SystemClock(),
        settings=run_settings(settings),
    )


def celery_app(settings: Settings, *, worker: bool) -> Celery:
    """The Celery application on ``ONSITE_BROKER_URL``; ``worker`` adds the tasks' resources."""
    if not settings.broker_url:
        raise ValueError("ONSITE_BROKER_URL is not set: a cluster needs a broker")
    from dispatch.planning.cluster import make_celery

    context = (lambda: worker_context(settings)) if worker else None
    return make_celery(settings.broker_url, settings.broker_queue, context)
