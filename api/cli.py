"""The ``onsite`` command: serve, migrate, load demo data, issue API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch.settings import get_settings

app = typer.Typer(
    help="Onsite: field-engineer dispatch and arrival promises.", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the API (OpenAPI docs at /docs)."""
    import uvicorn

    typer.echo(f"Onsite on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, reload=reload)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Bring the database schema up to date (Alembic)."""
    from dispatch.db import migrate as run_migrations
    from dispatch.db import safe_url

    settings = get_settings()
    run_migrations(settings.database_url, revision)
    typer.echo(f"database at {revision}: {safe_url(settings.database_url)}")


@app.command()
def demo(
    plan: Annotated[bool, typer.Option(help="also plan today and tomorrow (once)")] = True,
    time_limit: Annotated[int, typer.Option(help="seconds for the demo plan")] = 10,
) -> None:
    """Load the demo data set and plan its day (idempotent: a second run changes nothing)."""
    from dispatch.clock import SystemClock
    from dispatch.db import make_engine, make_session_factory, unit_of_work
    from dispatch.demo import DEMO_KEYS, load_demo, plan_demo_day
    from dispatch.geo_support import GeoContext
    from dispatch.planning.runs import get_run_or_raise

    settings = get_settings()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    now = SystemClock().now()
    try:
        with unit_of_work(factory) as session:
            counts = load_demo(session, now=now)
        added = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
        typer.echo(f"demo data: added {added or 'nothing (already loaded)'}")
        if plan:
            run_id = plan_demo_day(factory, GeoContext(), now=now, time_limit_s=time_limit)
            if run_id is None:
                typer.echo("demo plan: already planned")
            else:
                with factory() as session:
                    run = get_run_or_raise(session, run_id)
                    kpis = run.kpis_after or {}
                    failure = f"; {run.failure_reason}" if run.failure_reason else ""
                    typer.echo(
                        f"demo plan: run {run_id} {run.status} ({kpis.get('assigned', 0)} visits "
                        f"planned for today and tomorrow{failure})"
                    )
    finally:
        engine.dispose()
    typer.echo("demo API keys (for trying the API; never use demo mode in production):")
    for role, key in DEMO_KEYS.items():
        typer.echo(f"  {role:<13} {key}")


@app.command("create-api-key")
def create_api_key(
    role: Annotated[str, typer.Option(help="admin, dispatcher, service_desk or engineer")],
    name: Annotated[str, typer.Option(help="who or what uses the key")] = "cli",
    engineer_id: Annotated[int | None, typer.Option(help="the engineer, for role engineer")] = None,
) -> None:
    """Issue an API key and print it once (only its hash is stored)."""
    from dispatch.auth.service import create_api_key as issue
    from dispatch.db import make_engine, make_session_factory, unit_of_work
    from dispatch.errors import DomainError

    engine = make_engine(get_settings().database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            issued = issue(session, role=role, name=name, engineer_id=engineer_id)
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        engine.dispose()
    typer.echo(issued.key)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
