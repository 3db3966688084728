"""A deterministic, realistic demo data set: Shanghai and Hangzhou, about 165 km apart.

Loading is idempotent: every object is looked up by its natural key first, so a second run adds
nothing. Later issues extend the set (SLA policy, a day of requests, a planned day).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.areas import service as areas
from dispatch.auth.service import create_api_key, hash_key
from dispatch.clock import FixedClock, SystemClock
from dispatch.customers import service as customers
from dispatch.engineers import service as engineers
from dispatch.engineers.repository import engineers_query
from dispatch.geo_support import GeoContext
from dispatch.models import ApiKey, Customer, Engineer, RepairRequest, ServiceArea, Site, Skill
from dispatch.requests import service as requests
from dispatch.requests.intake import take_request

# Documented demo keys, one per role, so a newcomer can call the API at once. Demo only.
DEMO_KEYS = {
    "admin": "osk_demo_admin",
    "dispatcher": "osk_demo_dispatcher",
    "service_desk": "osk_demo_service_desk",
    "engineer": "osk_demo_engineer",
}

WEEKDAYS_9_TO_6 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}

# Believable outlines of the two cities' serviced cores (inside the outer ring roads), lon/lat.
AREAS: list[dict[str, Any]] = [
    {
        "name": "Shanghai",
        "timezone": "Asia/Shanghai",
        "holiday_country": "CN",
        "business_hours": WEEKDAYS_9_TO_6 | {"sat": [["09:00", "13:00"]]},
        "boundary": {
            "type": "Polygon",
            "coordinates": [
                [
                    [121.300, 31.330],
                    [121.400, 31.385],
                    [121.520, 31.385],
                    [121.625, 31.330],
                    [121.685, 31.220],
                    [121.625, 31.100],
                    [121.500, 31.050],
                    [121.380, 31.075],
                    [121.300, 31.150],
                    [121.270, 31.250],
                    [121.300, 31.330],
                ]
            ],
        },
    },
    {
        "name": "Hangzhou",
        "timezone": "Asia/Shanghai",
        "holiday_country": "CN",
        "business_hours": WEEKDAYS_9_TO_6,
        "boundary": {
            "type": "Polygon",
            "coordinates": [
                [
                    [120.050, 30.350],
                    [120.170, 30.400],
                    [120.300, 30.360],
                    [120.350, 30.270],
                    [120.280, 30.170],
                    [120.150, 30.130],
                    [120.050, 30.180],
                    [120.020, 30.270],
                    [120.050, 30.350],
                ]
            ],
        },
    },
]

SKILLS = {
    "hvac": "Heating, ventilation and air conditioning",
    "refrigeration": "Commercial refrigeration",
    "electrical": "Electrical systems",
    "plc": "PLC and industrial automation",
    "hydraulics": "Hydraulic machinery",
    "network": "Network and controller connectivity",
}

FAMILY = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Zhao",
    "Huang",
    "Zhou",
    "Wu",
    "Xu",
    "Sun",
    "Hu",
    "Zhu",
    "Gao",
    "Lin",
    "He",
    "Guo",
    "Ma",
    "Luo",
    "Liang",
    "Song",
    "Zheng",
    "Xie",
    "Han",
]
GIVEN = [
    "Wei",
    "Fang",
    "Lei",
    "Jing",
    "Tao",
    "Min",
    "Jun",
    "Yan",
    "Hao",
    "Ning",
    "Qiang",
    "Lin",
    "Bo",
    "Xin",
    "Yu",
    "Ping",
    "Kai",
    "Hui",
    "Gang",
    "Li",
    "Peng",
    "Rui",
    "Dan",
    "Chao",
    "Yi",
]

DAY_SHIFT = {
    "start": "08:30",
    "end": "17:30",
    "break_start": "11:30",
    "break_end": "13:30",
    "break_minutes": 30,
}
LATE_SHIFT = {
    "start": "11:00",
    "end": "20:00",
    "break_start": "16:00",
    "break_end": "18:00",
    "break_minutes": 30,
}
SATURDAY = {
    "start": "09:00",
    "end": "15:00",
    "break_start": "12:00",
    "break_end": "13:30",
    "break_minutes": 30,
}

# Towns around and between the cities: sites there are out of town.
TOWNS = [
    ("Jiaxing", 30.753, 120.758),
    ("Jiashan", 30.841, 120.926),
    ("Haining", 30.510, 120.681),
    ("Tongxiang", 30.630, 120.565),
    ("Kunshan", 31.385, 120.981),
    ("Songjiang", 31.032, 121.228),
    ("Jiading", 31.376, 121.266),
    ("Xiaoshan", 30.162, 120.264),
    ("Yuhang", 30.420, 120.300),
    ("Pinghu", 30.676, 121.016),
    ("Deqing", 30.544, 119.960),
    ("Huzhou", 30.894, 120.088),
]

INDUSTRIES = [
    "Foods",
    "Plastics",
    "Logistics",
    "Pharma",
    "Textiles",
    "Hotel",
    "Hospital",
    "Cold Chain",
    "Electronics",
    "Printing",
    "Supermarket",
    "Data Centre",
]


def _point_in(boundary: dict[str, Any], rng: random.Random) -> tuple[float, float]:
    from shapely.geometry import Point, shape

    polygon = shape(boundary)
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    while True:
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if polygon.contains(Point(lon, lat)):
            return round(lat, 5), round(lon, 5)


def _areas(session: Session) -> tuple[dict[str, ServiceArea], int]:
    added = 0
    by_name = {}
    for spec in AREAS:
        area = session.scalar(select(ServiceArea).where(ServiceArea.name == spec["name"]))
        if area is None:
            area = areas.create_area(session, **spec, engineers_based=True)
            added += 1
        by_name[spec["name"]] = area
    return by_name, added


def _skills(session: Session) -> int:
    have = set(session.scalars(select(Skill.code)))
    for code, name in SKILLS.items():
        if code not in have:
            engineers.create_skill(session, code=code, name=name)
    return len(set(SKILLS) - have)


def _engineers(session: Session, by_area: dict[str, ServiceArea]) -> tuple[list[Engineer], int]:
    rng = random.Random(20261123)
    result, added = [], 0
    codes = list(SKILLS)
    for i in range(25):
        city = "Shanghai" if i < 14 else "Hangzhou"
        area = by_area[city]
        name = f"{FAMILY[i]} {GIVEN[(i * 7) % len(GIVEN)]}"
        lat, lon = _point_in(area.boundary, rng)
        held = rng.sample(codes, k=rng.choice([2, 2, 3, 3, 4]))
        skills = [{"skill": c, "level": rng.choice([1, 2, 3, 3, 4, 4, 5])} for c in held]
        shift = LATE_SHIFT if i % 6 == 5 else DAY_SHIFT
        template = {d: shift for d in ("mon", "tue", "wed", "thu", "fri")}
        if i % 4 == 0:
            template["sat"] = SATURDAY
        existing = session.scalar(select(Engineer).where(Engineer.name == name))
        if existing is None:
            existing = engineers.create_engineer(
                session,
                name=name,
                home_lat=lat,
                home_lon=lon,
                service_area_id=area.id,
                skills=skills,
                weekly_template=template,
                phone=f"+86 138 {1000 + i * 37:04d} {5000 + i * 91:04d}",
                max_work_minutes=540,
                max_visits=8 if shift is DAY_SHIFT else 7,
                capacity=None,
            )
            added += 1
        result.append(existing)
    return result, added


def _customers(
    session: Session, geo: GeoContext, by_area: dict[str, ServiceArea]
) -> tuple[int, int]:
    rng = random.Random(7)
    added_customers = added_sites = 0
    places: list[tuple[str, float, float]] = []
    for city, count in (("Shanghai", 26), ("Hangzhou", 20)):
        for k in range(count):
            lat, lon = _point_in(by_area[city].boundary, rng)
            places.append((f"{city} {k + 1}", lat, lon))
    for town, lat, lon in TOWNS:
        for k in range(3):
            places.append(
                (
                    f"{town} {k + 1}",
                    round(lat + rng.uniform(-0.04, 0.04), 5),
                    round(lon + rng.uniform(-0.04, 0.04), 5),
                )
            )
    tiers = ["none"] * 6 + ["silver"] * 2 + ["gold", "platinum"]
    for n, (place, lat, lon) in enumerate(places):
        town = place.rsplit(" ", 1)[0]
        name = f"{town} {INDUSTRIES[n % len(INDUSTRIES)]} Co. #{n + 1:03d}"
        customer = session.scalar(select(Customer).where(Customer.name == name))
        if customer is None:
            customer = customers.create_customer(
                session,
                name=name,
                vip_tier=tiers[n % len(tiers)],
                contact_name=f"{FAMILY[(n * 3) % 25]} {GIVEN[(n * 5) % 25]}",
                phone=f"+86 139 {2000 + n * 13:04d} {3000 + n * 29:04d}",
            )
            added_customers += 1
        site_name = "Main plant" if n % 3 else "Head office"
        if (
            session.scalar(
                select(Site.id).where(Site.customer_id == customer.id, Site.name == site_name)
            )
            is None
        ):
            customers.create_site(
                session,
                geo,
                customer_id=customer.id,
                name=site_name,
                address=f"{100 + n} Industrial Road, {town}",
                lat=lat,
                lon=lon,
                contact_name=customer.contact_name,
                contact_phone=customer.phone,
            )
            added_sites += 1
    return added_customers, added_sites


def _keys(session: Session, first_engineer: Engineer) -> int:
    added = 0
    for role, key in DEMO_KEYS.items():
        if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key))) is None:
            create_api_key(
                session,
                role=role,
                name=f"demo {role}",
                engineer_id=first_engineer.id if role == "engineer" else None,
                key=key,
            )
            added += 1
    return added


DEMO_REQUESTS = 150
CHANNELS = ["phone"] * 8 + ["online"] * 4 + ["email"] * 3 + ["app"] * 4 + ["on_site"]
PROBLEMS = [
    ("system_down", "Line stopped: controller fault"),
    ("safety_risk", "Refrigerant smell near the compressor"),
    ("production_loss", "Cold room above 8 C, stock at risk"),
    ("core_function_broken", "Chiller trips every hour"),
    ("core_function_broken", "Hydraulic press losing pressure"),
    ("customer_chasing", "Second call: cooling still weak"),
    ("minor_fault", "Panel display flickers"),
    ("minor_fault", "Noisy fan on unit 2"),
    ("question", "Annual maintenance check"),
    ("advice", "Advice on controller firmware update"),
]


def _demo_skills(rng: random.Random, staff: list[Engineer], area_id: int) -> list[dict[str, Any]]:
    # Ask only for what some engineer of the serving city can do, as a desk that knows its
    # team would; a few requests ask for a level nobody has, to show an unassignable reason.
    local = [e for e in staff if e.service_area_id == area_id] or staff
    engineer = rng.choice(local)
    held = rng.choice(engineer.skills)
    level = max(1, held.level - rng.choice([0, 1, 1, 2]))
    return [{"skill": held.skill.code, "min_level": level}]


def _requests(session: Session, staff: list[Engineer], now: datetime) -> int:
    """About 150 requests received over the six hours before ``now``, each promised then."""
    if session.scalar(select(RepairRequest.id).where(RepairRequest.external_ref == "DEMO-0001")):
        return 0
    rng = random.Random(42)
    sites = session.scalars(select(Site).order_by(Site.id)).all()
    tz = ZoneInfo("Asia/Shanghai")
    added = 0
    for n in range(DEMO_REQUESTS):
        site = rng.choice(sites)
        received = now - timedelta(minutes=rng.randrange(5, 6 * 60))
        problem, description = rng.choice(PROBLEMS)
        availability = []
        if rng.random() < 0.2:
            day = (received.astimezone(tz) + timedelta(days=1)).date()
            start_hour = rng.choice([9, 10, 13, 14])
            start = datetime(day.year, day.month, day.day, start_hour, tzinfo=tz)
            availability = [{"start": start, "end": start + timedelta(hours=3)}]
        tier = rng.choice(["urgent", "important", "general"]) if rng.random() < 0.3 else None
        request = take_request(
            session,
            now=received,
            actor="demo",
            external_ref=f"DEMO-{n + 1:04d}",
            site_id=site.id,
            channel=rng.choice(CHANNELS),
            problem_type=problem,
            description=description,
            tier=tier,
            skills=_demo_skills(rng, staff, site.base_area_id or staff[0].service_area_id),
            service_minutes=rng.choice([30, 45, 60, 60, 90, 120]),
            availability=availability,
        ).request
        responded = received + timedelta(minutes=rng.randrange(3, 50))
        if responded <= now and rng.random() < 0.7:
            requests.acknowledge(session, request.id, actor="demo", now=now, at=responded)
        added += 1
    return added


def plan_demo_day(
    session_factory: Any, geo: GeoContext, *, now: datetime, time_limit_s: int = 10
) -> int | None:
    """Plan today and tomorrow for every demo area, once (a later call finds the run and
    does nothing); returns the run id, or None when a plan already exists."""
    from dispatch.db import unit_of_work
    from dispatch.errors import InvalidInput
    from dispatch.models import DispatchRun
    from dispatch.models.enums import RunStatus
    from dispatch.planning.runs import create_run, execute_run
    from dispatch.planning.solver import InlineSolver

    with unit_of_work(session_factory) as session:
        if session.scalar(
            select(DispatchRun.id).where(DispatchRun.status == RunStatus.SUCCEEDED.value)
        ):
            return None
        today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
        try:
            run = create_run(
                session,
                area_ids=None,
                horizon_start=today,
                days=2,
                time_limit_s=time_limit_s,
                actor="demo",
                now=now,
            )
        except InvalidInput:
            return None  # nobody works today or tomorrow (a weekend night): nothing to plan
        run_id = run.id

    execute_run(session_factory, geo, InlineSolver(), run_id, clock=FixedClock(now))
    return run_id


def load_demo(
    session: Session, geo: GeoContext | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Load (or complete) the demo data set; returns how many objects of each kind were added.

    The requests are received over the six hours before ``now`` (default: the current time),
    so their promises lie ahead of whoever loads the demo.
    """
    geo = geo or GeoContext()
    counts: dict[str, int] = {}
    by_area, counts["service areas"] = _areas(session)
    counts["skills"] = _skills(session)
    staff, counts["engineers"] = _engineers(session, by_area)
    counts["customers"], counts["sites"] = _customers(session, geo, by_area)
    counts["api keys"] = _keys(session, staff[0])
    session.flush()
    everyone = list(session.scalars(engineers_query()))
    counts["repair requests"] = _requests(session, everyone, now or SystemClock().now())
    return counts
