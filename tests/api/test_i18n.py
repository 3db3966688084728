"""The API's human-readable messages in the caller's language (Accept-Language), from the same
message catalogues the board reads."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.i18n import CATALOGUES, negotiate
from optimizer.eligibility import Reason
from tests.api.conftest import evaluate_alerts
from tests.api.test_dispatch import DAY, NOW, run_plan, world  # noqa: F401 - the fixture

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def _catalogue(name: str) -> dict[str, str]:
    return json.loads((Path(CATALOGUES) / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.5, zh;q=0.8", "zh-CN"),
        ("fr-FR, de", "en"),
        ("*", "en"),
        ("zh;q=nonsense, en", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_accept_language_is_negotiated_by_its_q_values(header: str | None, locale: str) -> None:
    """Any Chinese reads Simplified Chinese, English and the unknown read English, and the
    q-values decide between them (a malformed q counts as 0)."""
    assert negotiate(header) == locale


def test_both_catalogues_hold_the_same_messages_with_the_same_placeholders() -> None:
    """Every message has both languages (plural forms aside) with the same parameters, and the
    catalogues name every warning, alert kind and optimiser reason the API can send."""
    en, zh = _catalogue("en"), _catalogue("zh-CN")

    def base(key: str) -> str:
        return re.sub(r"\.(one|other)$", "", key)

    assert {base(k) for k in en} == {base(k) for k in zh}
    for key, text in en.items():
        other = zh.get(key) or zh.get(f"{base(key)}.other")
        assert other is not None, key
        if not key.endswith(".one"):
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", other)), key
    for reason in [*(r.value for r in Reason), "not_planned"]:
        assert f"api.reason.{reason}" in zh, reason
    for code in ("skill", "capacity", "time", "shift", "availability", "promise", "sla"):
        assert f"api.warning.{code}" in zh and f"warning.{code}" in zh, code


def test_a_promise_explains_itself_in_chinese_when_asked(
    client: TestClient,
    auth,
    world,  # noqa: F811 - the fixture
) -> None:
    """The same request read in Chinese has a Chinese explanation (and says so in
    Content-Language); read without the header it is the stored English one."""
    request = world["requests"][0]
    english = client.get(f"/v1/requests/{request.id}", headers=auth("service_desk"))
    chinese = client.get(f"/v1/requests/{request.id}", headers=auth("service_desk") | ZH)
    assert english.headers["content-language"] == "en"
    assert chinese.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in chinese.headers["vary"]
    said = chinese.json()["promise"]["explanation"]
    assert HAN.search(said) and "紧急" in said and "同城" in said, said
    assert english.json()["promise"]["explanation"] == request.promise_explanation
    promise = client.get(f"/v1/requests/{request.id}/promise", headers=auth("service_desk") | ZH)
    assert "同城" in promise.json()["explanation"]


def test_alerts_warnings_and_reasons_come_in_chinese_when_asked(
    client: TestClient,
    auth,
    world,  # noqa: F811 - the fixture
    app,
) -> None:
    """Alert messages and actions, an assignment check's warnings and the plan's reasons for
    unassigned requests are in Chinese for a Chinese caller; English stays the default."""
    app.state.clock.current = NOW + timedelta(minutes=20)
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts", headers=auth("dispatcher") | ZH).json()["items"]
    first = next(a for a in alerts if a["kind"] == "first_response_due")
    assert "首次响应" in first["message"] and "致电客户" in first["suggested_action"]
    assert re.search(r"\d\d:\d\d", first["message"])
    plain = client.get("/v1/alerts", headers=auth("dispatcher")).json()["items"]
    assert any("nobody has contacted" in a["message"] for a in plain)

    plc_job, li = world["requests"][2], world["engineers"][1]
    body = {"request_id": plc_job.id, "engineer_id": li.id, "date": DAY.isoformat()}
    check = client.post(
        "/v1/dispatch/assignments", json=body | {"dry_run": True}, headers=auth("dispatcher") | ZH
    ).json()
    skill = next(w for w in check["warnings"] if w["code"] == "skill")
    assert "技能" in skill["message"] and li.name in skill["message"]

    run_plan(client, auth, world["area"].id)
    url = f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}"
    visit = client.get(url, headers=auth("dispatcher")).json()["routes"][0]["visits"][0]
    client.post(f"/v1/visits/{visit['visit_id']}/unassign", headers=auth("dispatcher"))
    plan = client.get(url, headers=auth("dispatcher") | ZH).json()
    waiting = next(u for u in plan["unassigned"] if u["request_id"] == visit["request_id"])
    assert HAN.search(waiting["message"]), waiting
