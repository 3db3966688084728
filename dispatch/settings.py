"""The one settings class. Read where the app, the CLI or a benchmark is assembled, nowhere else."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Onsite configuration, from ``ONSITE_*`` environment variables or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="ONSITE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./onsite.db",
        description="SQLAlchemy URL; SQLite is the embedded default, PostgreSQL for production.",
    )
    database_echo: bool = False

    # Travel times: the embedded model by default; OSRM when a server is configured.
    travel_provider: Literal["model", "osrm"] = "model"
    osrm_url: str | None = None
    osrm_profile: str = "driving"
    osrm_fallback_to_model: bool = False
    travel_cache_mb: int = Field(default=100, ge=1, description="memory bound of the travel cache")

    # Geocoding is off unless switched on (it calls a public service).
    geocoding_enabled: bool = False
    nominatim_url: str = "nominatim.openstreetmap.org"
    nominatim_scheme: Literal["http", "https"] = "https"
    geocoding_user_agent: str = "onsite-dispatch"
    geocoding_min_delay_s: float = 1.0

    # Planning.
    solver: Literal["process", "inline"] = Field(
        default="process",
        description="solve in a worker process (keeps the API responsive) or inline",
    )
    solver_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description=(
            "how much lower the CPU priority of solving is than the API's (the embedded "
            "solver process, `onsite worker`): on a machine they share, the service desk's "
            "intake is answered first and a run's search takes the time left; 0 puts them on "
            "equal terms"
        ),
    )
    freeze_minutes: int = Field(
        default=60, ge=0, description="visits starting this soon keep their engineer"
    )
    part_max_engineers: int = Field(
        default=60,
        ge=2,
        le=10_000,
        description=(
            "on a cluster, an area with more active engineers than this is solved as several "
            "geographic parts at once (engineers living near each other, at most this many per "
            "part), each by its own worker"
        ),
    )
    webhook_delivery: Literal["process", "thread"] = Field(
        default="process",
        description=(
            "the embedded default delivers webhooks in a process of its own beside the API's "
            "(a busy API never delays them), or in a thread of the API process"
        ),
    )
    webhook_allow_private: bool = Field(
        default=False,
        description=(
            "let webhook subscriptions reach loopback, link-local and private addresses "
            "(development and tests only: a subscription could otherwise reach internal services)"
        ),
    )
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="how long one webhook delivery may take"
    )
    webhook_retry_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 14,
        description="a webhook delivery is retried (backoff with jitter) this long, then dead",
    )
    eta_change_minutes: int = Field(
        default=15,
        ge=1,
        le=240,
        description="with the engineer on the way, an ETA moving more than this is told "
        "(eta.changed); smaller moves are not",
    )
    customer_messages_log: bool = Field(
        default=False,
        description="write every message to a customer to the log (development sender)",
    )
    broker_url: str | None = Field(
        default=None,
        description=(
            "the cluster's message broker (e.g. amqp://guest:guest@127.0.0.1:5672//): runs go "
            "to `onsite worker` processes through it; unset, runs are solved in the API process"
        ),
    )
    broker_queue: str = Field(
        default="onsite",
        pattern=r"^[A-Za-z0-9_.-]{1,100}$",
        description="the broker queue runs go through (one per deployment sharing a broker)",
    )
    run_lease_s: int = Field(
        default=30,
        ge=3,
        le=3600,
        description=(
            "a solving run's claim lasts this long unless its process renews it (every third "
            "of it); a run whose process died is taken over once its lease has run out"
        ),
    )
    replan_on_urgent: bool = Field(
        default=True, description="insert an urgent request at once, then re-plan its area"
    )
    replan_time_limit_s: int = Field(default=20, ge=1, le=600)
    assign_on_intake: bool = Field(
        default=True,
        description="book every promised request into the route capacity found for it at once",
    )
    capacity_days: int = Field(
        default=3,
        ge=1,
        le=13,
        description="days after today that capacity-aware promises and slot offers look at",
    )
    intake_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "new requests one API process takes at once (the others wait their turn in the "
            "process): Python runs one thread at a time, so more at once only stretch the time "
            "each holds its area's turn, and every booking of that area waits longer"
        ),
    )

    # Paging limits for list endpoints.
    page_size_default: int = 50
    page_size_max: int = 500

    # The board's map: tile-free by default (it works offline); an organisation that runs a
    # tile server gives its URL template.
    tile_url: str | None = Field(
        default=None,
        description="base map tiles for the board, e.g. https://tiles.example.com/{z}/{x}/{y}.png",
    )
    tile_attribution: str = Field(default="", max_length=300)

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://", "/")):
            raise ValueError("ONSITE_TILE_URL must be an http(s) URL or a path on this server")
        if not all(part in value for part in ("{z}", "{x}", "{y}")):
            raise ValueError("ONSITE_TILE_URL must hold {z}, {x} and {y}")
        return value

    # The edge.
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="larger request bodies are refused (413)"
    )
    auth_failure_limit: str = Field(
        default="30/minute",
        description="failed authentications allowed per client, then 429 (a `limits` string)",
    )
    rate_limit_storage_url: str = Field(
        default="memory://",
        description="where failure counts live: memory:// (per process) or redis://host:port",
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
