"""The scenario's world, made through the same services the API uses: areas, skills, engineers,
customers and their sites; and the day's demand, drawn from the seed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.areas import service as areas
from dispatch.customers import service as customers
from dispatch.db import Session
from dispatch.engineers import service as engineers
from dispatch.geo_support import GeoContext
from dispatch.promise import policy_to_dict
from dispatch.sla import service as sla
from simulation.scenario import ProblemType, Scenario

# Names read naturally to a Chinese and to an English reader alike: in characters, then in
# pinyin ("王伟 Wang Wei"), as bilingual teams write them.
FAMILY = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("赵", "Zhao"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("胡", "Hu"),
    ("朱", "Zhu"),
    ("高", "Gao"),
    ("林", "Lin"),
    ("何", "He"),
    ("郭", "Guo"),
    ("马", "Ma"),
    ("罗", "Luo"),
    ("梁", "Liang"),
    ("宋", "Song"),
    ("郑", "Zheng"),
    ("谢", "Xie"),
    ("韩", "Han"),
)
GIVEN = (
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("磊", "Lei"),
    ("静", "Jing"),
    ("涛", "Tao"),
    ("敏", "Min"),
    ("军", "Jun"),
    ("燕", "Yan"),
    ("浩", "Hao"),
    ("宁", "Ning"),
    ("强", "Qiang"),
    ("琳", "Lin"),
    ("波", "Bo"),
    ("欣", "Xin"),
    ("宇", "Yu"),
    ("平", "Ping"),
    ("凯", "Kai"),
    ("慧", "Hui"),
    ("刚", "Gang"),
    ("丽", "Li"),
    ("鹏", "Peng"),
    ("睿", "Rui"),
    ("丹", "Dan"),
    ("超", "Chao"),
    ("毅", "Yi"),
)
BRANDS = (
    ("华信", "Huaxin"),
    ("东方", "Dongfang"),
    ("恒通", "Hengtong"),
    ("金宇", "Jinyu"),
    ("信达", "Xinda"),
    ("天润", "Tianrun"),
    ("中科", "Zhongke"),
    ("瑞丰", "Ruifeng"),
    ("永盛", "Yongsheng"),
    ("海天", "Haitian"),
    ("隆基", "Longji"),
    ("美德", "Meide"),
    ("宏远", "Hongyuan"),
    ("新华", "Xinhua"),
    ("安康", "Ankang"),
    ("百联", "Bailian"),
    ("星河", "Xinghe"),
    ("嘉禾", "Jiahe"),
    ("鼎盛", "Dingsheng"),
    ("汇丰", "Huifeng"),
)
INDUSTRIES = (
    ("食品", "Foods"),
    ("塑料", "Plastics"),
    ("物流", "Logistics"),
    ("制药", "Pharma"),
    ("纺织", "Textiles"),
    ("酒店", "Hotel"),
    ("医院", "Hospital"),
    ("冷链", "Cold Chain"),
    ("电子", "Electronics"),
    ("印刷", "Printing"),
    ("超市", "Supermarket"),
    ("数据中心", "Data Centre"),
)
ROADS = (
    ("工业路", "Industrial Road"),
    ("科技大道", "Technology Avenue"),
    ("滨江路", "Riverside Road"),
    ("建设路", "Jianshe Road"),
    ("开发区大道", "Development Zone Avenue"),
    ("县道", "County Road"),
)
PLACES = {"Shanghai": "上海", "Hangzhou": "杭州"}


def person(n: int, stride: int) -> str:
    """The ``n``-th person's name, "王伟 Wang Wei"; distinct for the first 625 (``stride``
    coprime to 25 walks the given names)."""
    (family_zh, family), (given_zh, given) = (
        FAMILY[n % len(FAMILY)],
        GIVEN[(n // len(FAMILY) + n * stride) % len(GIVEN)],
    )
    return f"{family_zh}{given_zh} {family} {given}"


def company(n: int) -> str:
    """The ``n``-th customer's name, "华信冷链 Huaxin Cold Chain"; distinct for the first
    240: a brand comes back every 20 customers with the trade moved on by 25, which is 1
    modulo the 12 trades."""
    brand_zh, brand = BRANDS[n % len(BRANDS)]
    trade_zh, trade = INDUSTRIES[(n + 5 * (n // len(BRANDS))) % len(INDUSTRIES)]
    return f"{brand_zh}{trade_zh} {brand} {trade}"


VIP_TIERS = ("none",) * 6 + ("silver",) * 2 + ("gold", "platinum")


@dataclass(frozen=True)
class SiteInfo:
    id: int
    area: str
    lat: float
    lon: float
    out_of_town: bool


@dataclass(frozen=True)
class EngineerInfo:
    id: int
    name: str
    area: str
    area_id: int
    home: tuple[float, float]
    skills: dict[str, int]


@dataclass(frozen=True)
class World:
    """What was built, by id."""

    area_ids: dict[str, int]
    timezones: dict[str, str]
    sites: tuple[SiteInfo, ...]
    engineers: tuple[EngineerInfo, ...]


def _polygon(boundary: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in boundary]]}


def _inside(boundary: list[tuple[float, float]], lat: float, lon: float) -> bool:
    """Ray casting on the [lon, lat] outline (the shipped outlines are simple polygons)."""
    inside = False
    n = len(boundary)
    for i in range(n - 1):
        (x1, y1), (x2, y2) = boundary[i], boundary[i + 1]
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if x > lon:
                inside = not inside
    return inside


def _point_in(boundary: list[tuple[float, float]], rng: random.Random) -> tuple[float, float]:
    lons = [p[0] for p in boundary]
    lats = [p[1] for p in boundary]
    while True:
        lat, lon = rng.uniform(min(lats), max(lats)), rng.uniform(min(lons), max(lons))
        if _inside(boundary, lat, lon):
            return round(lat, 5), round(lon, 5)


def _centre(boundary: list[tuple[float, float]]) -> tuple[float, float]:
    points = boundary[:-1]
    return sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points)


def _site(
    session: Session,
    geo: GeoContext,
    *,
    n: int,
    place: str,
    road: str,
    at: tuple[float, float],
    vip: bool,
) -> Any:
    """The ``n``-th customer, with one site (placed in its area and locality by the
    service) and a contact person."""
    contact = person(n * 3 + 1, 3)
    phone = f"+86 139 {2000 + (n * 13) % 8000:04d} {3000 + (n * 29) % 7000:04d}"
    owner = customers.create_customer(
        session,
        name=company(n),
        vip_tier=VIP_TIERS[n % len(VIP_TIERS)] if vip else "none",
        contact_name=contact,
        phone=phone,
    )
    return customers.create_site(
        session,
        geo,
        customer_id=owner.id,
        name="厂区 Main plant" if n % 3 else "总部 Head office",
        address=_address(n, place, road),
        lat=at[0],
        lon=at[1],
        contact_name=contact,
        contact_phone=phone,
    )


def _address(n: int, place: str, road: str) -> str:
    """ "上海 工业路 106号 / 106 Industrial Road, Shanghai": both ways round, as signs read."""
    road_zh, road_en = next(((zh, en) for zh, en in ROADS if en == road), (road, road))
    number = 100 + n
    city = place.removesuffix(" region")
    place_zh = PLACES.get(city, city) + ("周边" if city != place else "")
    return f"{place_zh}{road_zh}{number}号 / {number} {road_en}, {place}"


def build_world(session: Session, geo: GeoContext, scenario: Scenario, seed: int) -> World:
    """Create the scenario's areas, engineers and sites (deterministic for a seed)."""
    rng = random.Random(f"{seed}:world")
    area_ids: dict[str, int] = {}
    for spec in scenario.areas:
        area = areas.create_area(
            session,
            name=spec.name,
            boundary=_polygon(spec.boundary),
            timezone=spec.timezone,
            business_hours={d: [list(i) for i in v] for d, v in spec.business_hours.items()},
            holiday_country=spec.holiday_country,
            engineers_based=True,
            # The dispatcher's view of the roads: the default rush hours, or none.
            travel_profile=None if spec.rush_hours else {"rush_hours": []},
        )
        area_ids[spec.name] = area.id
    for code in sorted({s for g in scenario.engineers for s in g.skills}):
        engineers.create_skill(session, code=code, name=code.replace("_", " ").title())
    built: list[EngineerInfo] = []
    boundaries = {a.name: a.boundary for a in scenario.areas}
    n = 0
    for group in scenario.engineers:
        for _ in range(group.count):
            name = person(n, 7)
            lat, lon = _point_in(boundaries[group.area], rng)
            # Each engineer holds every skill of the group at 1..the group's level, so the
            # highest levels are rare, as in a real team.
            skills = {code: rng.randint(max(1, top - 2), top) for code, top in group.skills.items()}
            hours = {
                "start": group.shift.start,
                "end": group.shift.end,
                "break_start": group.shift.break_start,
                "break_end": group.shift.break_end,
                "break_minutes": group.shift.break_minutes,
            }
            template = {
                d: {k: v for k, v in hours.items() if v is not None} for d in group.shift.days
            }
            engineer = engineers.create_engineer(
                session,
                name=name,
                home_lat=lat,
                home_lon=lon,
                service_area_id=area_ids[group.area],
                skills=[{"skill": k, "level": v} for k, v in skills.items()],
                weekly_template=template,
                max_visits=group.max_visits,
                max_work_minutes=11 * 60,
            )
            built.append(
                EngineerInfo(
                    id=engineer.id,
                    name=name,
                    area=group.area,
                    area_id=area_ids[group.area],
                    home=(lat, lon),
                    skills=skills,
                )
            )
            n += 1
    sites: list[SiteInfo] = []
    out_of_town = scenario.out_of_town_sites
    for spec in scenario.areas:
        for _k in range(scenario.sites_per_area):
            lat, lon = _point_in(spec.boundary, rng)
            site = _site(
                session,
                geo,
                n=len(sites),
                place=spec.name,
                road="Industrial Road",
                at=(lat, lon),
                vip=scenario.vip_customers,
            )
            sites.append(SiteInfo(site.id, spec.name, lat, lon, False))
        centre = _centre(spec.boundary)
        for _k in range(max(1, scenario.sites_per_area // 4)):
            while True:
                km = rng.uniform(out_of_town.min_km, out_of_town.max_km)
                bearing = rng.uniform(0, 2 * math.pi)
                lat = centre[0] + km / 111.0 * math.cos(bearing)
                lon = centre[1] + km / (111.0 * math.cos(math.radians(centre[0]))) * math.sin(
                    bearing
                )
                lat, lon = round(lat, 5), round(lon, 5)
                if not any(_inside(a.boundary, lat, lon) for a in scenario.areas):
                    break
            site = _site(
                session,
                geo,
                n=len(sites),
                place=f"{spec.name} region",
                road="County Road",
                at=(lat, lon),
                vip=scenario.vip_customers,
            )
            sites.append(SiteInfo(site.id, spec.name, lat, lon, site.locality == "out_of_town"))
    session.flush()
    return World(
        area_ids=area_ids,
        timezones={a.name: a.timezone for a in scenario.areas},
        sites=tuple(sites),
        engineers=tuple(built),
    )


@dataclass(frozen=True)
class RequestSpec:
    """One customer's call, as the scenario draws it."""

    key: int
    at: datetime
    site: SiteInfo
    tier: str
    channel: str
    problem: ProblemType
    availability: tuple[tuple[datetime, datetime], ...]
    cancel_after: timedelta | None
    first_response_after: timedelta


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    names = sorted(mix)
    return rng.choices(names, weights=[mix[n] for n in names])[0]


def draw_demand(scenario: Scenario, world: World, day: date, seed: int) -> list[RequestSpec]:
    """The day's requests: Poisson arrivals over the demand hours (local time of each city)."""
    rng = random.Random(f"{seed}:demand:{day.isoformat()}")
    demand = scenario.demand
    start_h, end_h = demand.hours
    weights = demand.hourly_weights or [1.0] * (end_h - start_h)
    total = sum(weights)
    problems = {p.code: p for p in scenario.problem_types}
    problem_mix = {p.code: p.share for p in scenario.problem_types}
    by_locality = {
        True: [s for s in world.sites if s.out_of_town],
        False: [s for s in world.sites if not s.out_of_town],
    }
    out: list[RequestSpec] = []
    key = 0
    volume = demand.requests * (demand.weekend_share if day.weekday() >= 5 else 1.0)
    for h, weight in enumerate(weights):
        # Poisson arrivals: exponential gaps within the hour at the hour's rate.
        rate = volume * weight / total
        t = rng.expovariate(rate) if rate > 0 else 60.0
        while rate > 0 and t < 1.0:
            out_of_town = rng.random() < demand.out_of_town and bool(by_locality[True])
            site = rng.choice(by_locality[out_of_town] or by_locality[not out_of_town])
            tz = ZoneInfo(world.timezones[site.area])
            at = datetime.combine(day, time(start_h + h), tz) + timedelta(hours=t)
            availability: tuple[tuple[datetime, datetime], ...] = ()
            if rng.random() < demand.availability:
                ahead = rng.randint(0, demand.advance_days)
                opening = rng.choice([9, 10, 11, 13, 14, 15])
                when = datetime.combine(day + timedelta(days=ahead), time(opening), tz)
                if when <= at + timedelta(hours=1):
                    when = datetime.combine(day + timedelta(days=ahead + 1), time(opening), tz)
                availability = ((when, when + timedelta(hours=demand.availability_hours)),)
            lo, hi = demand.first_response_minutes
            out.append(
                RequestSpec(
                    key=key,
                    at=at,
                    site=site,
                    tier=_pick(rng, demand.tiers),
                    channel=_pick(rng, demand.channels),
                    problem=problems[_pick(rng, problem_mix)],
                    availability=availability,
                    cancel_after=timedelta(minutes=rng.uniform(20, 180))
                    if rng.random() < demand.cancellations
                    else None,
                    first_response_after=timedelta(minutes=rng.uniform(lo, hi)),
                )
            )
            key += 1
            t += rng.expovariate(rate)
    out.sort(key=lambda r: (r.at, r.key))
    return out


def use_window_policy(session: Session, mode: str) -> None:
    """Publish a version of the active SLA policy whose windows are ``fixed`` or
    ``calibrated`` (the rest of the policy unchanged)."""
    current = sla.active_policy(session).policy
    data = policy_to_dict(current)
    sla.publish_policy(
        session,
        name=current.name,
        rules=data["rules"],
        max_service_travel_s=current.max_service_travel_s,
        window_minutes=current.window_minutes,
        min_lead_minutes=current.min_lead_minutes,
        priority_rules=None,
        note=f"day simulation with {mode} windows",
        actor="simulator",
        window={"mode": mode},
    )
