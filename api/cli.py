"""The ``onsite`` command: serve, run cluster workers, migrate, load demo data, issue API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dispatch.errors import DomainError
from dispatch.settings import get_settings

if TYPE_CHECKING:
    from celery import Celery

app = typer.Typer(
    help="Onsite: field-engineer dispatch and arrival promises.", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes (several need PostgreSQL)")
    ] = 1,
) -> None:
    """Serve the API (OpenAPI docs at /docs)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and reload:
        typer.echo("error: --workers and --reload do not go together", err=True)
        raise typer.Exit(code=2)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        typer.echo(
            "error: --workers > 1 needs a database several processes can share: set "
            "ONSITE_DATABASE_URL to PostgreSQL (SQLite serves one process)",
            err=True,
        )
        raise typer.Exit(code=2)
    typer.echo(f"Onsite on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers if workers > 1 else None,
    )


def _cluster_app() -> Celery:
    from api.worker import celery_app

    settings = get_settings()
    if not settings.broker_url:
        typer.echo(
            "error: set ONSITE_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//) to run a "
            "cluster; without it `onsite serve` solves runs itself",
            err=True,
        )
        raise typer.Exit(code=2)
    return celery_app(settings, worker=True)


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="runs solved at a time (one process each)")
    ] = 1,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = "INFO",
) -> None:
    """Solve dispatch runs handed over through the broker (ONSITE_BROKER_URL), and deliver
    webhooks (a thread of the worker's main process; several workers share the work)."""
    import os

    from api.worker import webhook_settings
    from dispatch.clock import SystemClock
    from dispatch.db import make_engine, make_session_factory
    from dispatch.notify.webhooks import DeliveryLoop
    from dispatch.planning.solver import lower_priority

    settings = get_settings()
    # Solving yields the CPU to the API processes on a machine they share (ONSITE_SOLVER_NICE).
    lower_priority(settings.solver_nice)
    deliveries = DeliveryLoop(
        make_session_factory(make_engine(settings.database_url)),
        webhook_settings(settings),
        SystemClock(),
    )
    deliveries.start()
    _cluster_app().worker_main(
        [
            "worker",
            # Unique per process: workers on one machine would otherwise share a node name,
            # and the second would fail to open its control queue.
            f"--hostname=onsite-{os.getpid()}@%h",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            f"--queues={get_settings().broker_queue}",
        ]
    )


@app.command()
def beat(
    schedule: Annotated[
        str, typer.Option(help="file where beat keeps its schedule state")
    ] = "celerybeat-schedule",
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = "INFO",
) -> None:
    """Send the periodic tasks (the sweep that re-queues runs whose worker died); run one."""
    _cluster_app().start(["beat", f"--schedule={schedule}", f"--loglevel={loglevel}"])


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
    reset: Annotated[bool, typer.Option(help="empty the database first and load afresh")] = False,
    history_days: Annotated[
        int, typer.Option(help="days of simulated history before today (0-30)")
    ] = 28,
) -> None:
    """Load the demo: four weeks of simulated service days up to now, then today's plan.

    Idempotent: a database that already holds data is left alone (``--reset`` starts afresh).
    """
    import sys

    from dispatch.clock import SystemClock
    from simulation.demo import DEMO_KEYS, load_demo

    settings = get_settings()

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            width = 30
            filled = width * done // max(total, 1)
            sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} calls")
            sys.stderr.flush()

    try:
        result = load_demo(
            settings.database_url,
            now=SystemClock().now(),
            history_days=history_days,
            reset=reset,
            progress=progress,
        )
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if not result.loaded:
        typer.echo("demo: the database already holds data; left as it is (--reset starts afresh)")
    else:
        report = result.report
        assert report is not None
        typer.echo(
            f"demo: {result.days} days simulated up to now in {result.wall_s:.0f} s: "
            f"{report.promises} promises made, {(report.kept_share or 0):.1%} of those due kept "
            f"({report.replans} dispatch runs)"
        )
    typer.echo("demo API keys (for trying the API; never use demo mode in production):")
    for role, key in DEMO_KEYS.items():
        typer.echo(f"  {role:<13} {key}")


@app.command()
def simulate(
    scenario: Annotated[str, typer.Argument(help="standard, stress, or a TOML/JSON file")],
    seed: Annotated[int, typer.Option(help="seeds every random draw")] = 1,
    days: Annotated[
        int | None, typer.Option(help="days of demand (default: the scenario's)")
    ] = None,
    policy: Annotated[str, typer.Option(help="arrival windows (the SLA policy's rule)")] = "fixed",
    database: Annotated[
        str | None, typer.Option(help="an empty database URL (default: a throwaway SQLite file)")
    ] = None,
    chart: Annotated[
        str | None, typer.Option(help="also write an HTML chart (kept share by hour, widths)")
    ] = None,
) -> None:
    """Replay a service day against the real services and report how many promises held.

    The plain-text report comes first; the last line is the report as one JSON object.
    """
    import json
    import sys
    from pathlib import Path

    from simulation.chart import chart_html
    from simulation.engine import Simulator
    from simulation.report import report_text
    from simulation.scenario import ScenarioError, load_scenario

    try:
        loaded = load_scenario(scenario)
        if days is not None:
            loaded = loaded.model_copy(update={"days": days})
    except ScenarioError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            sys.stderr.write(f"\r  [{bar}] {done}/{total} requests")
            sys.stderr.flush()

    try:
        report = Simulator(
            loaded, seed=seed, policy=policy, database_url=database, progress=progress
        ).run()
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    typer.echo(report_text(report))
    if chart:
        Path(chart).write_text(chart_html([report]), encoding="utf-8")
        typer.echo(f"chart: {chart}")
    typer.echo(json.dumps(report.as_dict(), sort_keys=True, default=str))


import_app = typer.Typer(help="Bulk loads from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("requests")
def import_requests(
    file: Annotated[str, typer.Argument(help="a CSV file with a header line (see below)")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check and promise every row, store nothing")
    ] = False,
) -> None:
    """Take every request of a CSV file through the same intake as POST /v1/requests.

    Columns (any order; site_id and channel required): site_id, channel, external_ref, tier,
    problem_type, description, service_minutes, skills (plc:3;hvac:2), availability
    (START/END;START/END, ISO instants with a zone), received_at, idempotency_key. Each row is
    taken in a transaction of its own; a row already imported (same external_ref) is answered
    with the original. Every bad row is reported by line and column; the last line is a JSON
    summary; the exit code is 1 when a row was refused, 2 when the file cannot be read.
    """
    import csv
    import json
    from pathlib import Path

    from api.importer import RowError, read_rows
    from dispatch.clock import SystemClock
    from dispatch.db import make_engine, make_session_factory
    from dispatch.geo_support import GeoContext
    from dispatch.planning.capacity import CapacityIndex
    from dispatch.requests.batch import BatchItem, take_batch
    from dispatch.requests.intake import IntakeSettings

    path = Path(file)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows, problems = read_rows(handle)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if any(p.line == 1 for p in problems):  # the header: no row can be read
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        results = take_batch(
            make_session_factory(engine),
            [BatchItem(r.item.intake_fields(), r.item.idempotency_key) for r in rows],
            now=SystemClock().now(),
            actor="cli: import",
            geo=GeoContext.from_settings(settings),
            capacity=CapacityIndex(days=settings.capacity_days),
            settings=IntakeSettings(
                replan_on_urgent=settings.replan_on_urgent,
                assign_on_intake=settings.assign_on_intake,
                replan_time_limit_s=settings.replan_time_limit_s,
            ),
            dry_run=dry_run,
        )
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        engine.dispose()
    counts = {"created": 0, "existing": 0, "would_create": 0}
    for row, result in zip(rows, results, strict=True):
        if result.status != "refused":
            counts[result.status] += 1
        for refusal in result.refusals:
            column = ".".join(str(p) for p in refusal.loc)
            problems.append(RowError(row.line, column, refusal.msg))
    counts["refused"] = len({p.line for p in problems})
    for problem in sorted(problems, key=lambda p: (p.line, p.column)):
        typer.echo(str(problem))
    verb = "would be created" if dry_run else "created"
    made = counts["would_create"] if dry_run else counts["created"]
    typer.echo(
        f"{sum(counts.values())} rows: {made} {verb}, {counts['existing']} already "
        f"there, {counts['refused']} refused" + (" (dry run: nothing stored)" if dry_run else "")
    )
    typer.echo(json.dumps({"file": file, "dry_run": dry_run, **counts}, sort_keys=True))
    if counts["refused"]:
        raise typer.Exit(code=1)


@app.command("create-api-key")
def create_api_key(
    role: Annotated[str, typer.Option(help="admin, dispatcher, service_desk or engineer")],
    name: Annotated[str, typer.Option(help="who or what uses the key")] = "cli",
    engineer_id: Annotated[int | None, typer.Option(help="the engineer, for role engineer")] = None,
) -> None:
    """Issue an API key and print it once (only its hash is stored)."""
    from dispatch.auth.service import create_api_key as issue
    from dispatch.db import make_engine, make_session_factory, unit_of_work

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
