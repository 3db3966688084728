"""A one-page HTML chart of a simulated day: kept share by hour of the window, and the
distribution of window widths. Plain SVG, no scripts, no downloads."""

from __future__ import annotations

from html import escape

from simulation.report import Report, report_text

WIDTH, HEIGHT, PAD = 560, 220, 36


def _bars(values: list[tuple[str, float]], *, top: float, unit: str, colour: str) -> str:
    if not values:
        return '<p class="empty">nothing to show</p>'
    step = (WIDTH - 2 * PAD) / len(values)
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">']
    base = HEIGHT - PAD
    for i, (label, value) in enumerate(values):
        h = 0 if top <= 0 else (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * step
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(label)}: {value:g} {escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{base + 14}" text-anchor="middle" '
            f'font-size="10">{escape(label)}</text>'
        )
    parts.append(f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#334155"/>')
    parts.append(f'<text x="4" y="{PAD - 8}" font-size="10">{top:g} {escape(unit)}</text></svg>')
    return "".join(parts)


def chart_html(reports: list[Report]) -> str:
    """The chart of one or more runs (e.g. fixed and calibrated windows side by side)."""
    sections = []
    for report in reports:
        hours = [(h, round(100 * v, 1)) for h, v in report.kept_by_hour.items() if v is not None]
        buckets: dict[int, int] = {}
        for width in report.widths_min:
            bucket = int(width // 30) * 30
            buckets[bucket] = buckets.get(bucket, 0) + 1
        widths = [(f"{b}-{b + 30}", float(n)) for b, n in sorted(buckets.items())]
        sections.append(
            f"<section><h2>{escape(report.scenario)}, seed {report.seed}, "
            f"{escape(report.policy)} windows</h2>"
            f"<pre>{escape(report_text(report))}</pre>"
            "<h3>Promises kept, by the hour the window starts (%)</h3>"
            + _bars(hours, top=100.0, unit="%", colour="#15803d")
            + "<h3>Window widths (min): how many promises</h3>"
            + _bars(
                widths,
                top=max((n for _, n in widths), default=0.0),
                unit="promises",
                colour="#2563eb",
            )
            + "</section>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Onsite day simulation</title><style>body{font-family:sans-serif;margin:2em;"
        "max-width:60em}svg{width:100%;max-width:560px;height:auto}pre{white-space:pre-wrap}"
        "</style></head><body><h1>Onsite day simulation</h1>" + "".join(sections) + "</body></html>"
    )


def calibration_svg(*, target: float = 0.95, slot_minutes: int = 30) -> str:
    """How calibrated windows grow along a route: the width of the window promised for the
    n-th visit of a day of 60-minute visits 20 minutes apart (the documented prior), from 09:00,
    for a policy target of ``target`` (the noise held at its ``noise_level``)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from dispatch.promise.calibration import (
        Leg,
        NoiseEstimate,
        arrival_spread,
        calibrated_window,
        noise_level,
    )

    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 local
    values = []
    for before in range(7):
        legs, t = [], start
        for _ in range(before):
            legs.append(Leg(1200, t, 3600, None))
            t += timedelta(seconds=1200 + 3600)
        legs.append(Leg(1200, t))
        spread = arrival_spread(legs, NoiseEstimate(), tz=tz, first_of_day=before == 0)
        eta = t + timedelta(seconds=1200)
        lo, hi = calibrated_window(
            eta,
            spread,
            target=noise_level(target),
            slot=timedelta(minutes=slot_minutes),
            max_width=timedelta(hours=4),
            tz=tz,
        )
        values.append((f"{before + 1}", (hi - lo).total_seconds() / 60))
    return _bars(values, top=240, unit="min wide (n-th visit of the day)", colour="#2563eb")
