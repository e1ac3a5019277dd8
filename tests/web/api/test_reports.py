"""The API's monthly results (scoped to the key's agencies), health check and OpenAPI document."""

from __future__ import annotations

import pytest
from alembic import command

from survey import db
from survey.reporting import monthly
from survey.web.api import openapi
from tests.helpers import add_ward, call, create, make_key, send, this_month

RESULTS = "/api/v1/satisfaction"


@pytest.fixture
def answered(app, client, counter_path) -> str:
    """Three responses at counter HK-01 (ward P-HK, city HN) this month; returns the month."""
    for value in ("5", "4", "2"):
        assert send(client, counter_path, {"CC1": value, "TC1": value}).status_code == 303
    return this_month()


def results(client, key, **query):
    return call(client, "GET", RESULTS + "?" + "&".join(f"{k}={v}" for k, v in query.items()), key)


def expected_rows(app, month: str, **filters) -> list[dict]:
    with app.app_context():
        table = monthly.monthly_report(db.session(), month, **filters)
    return table.astype(object).where(table.notna(), None).to_dict("records")


def test_unscoped_key_reads_every_agency_block(app, client, answered):
    reply = results(client, make_key(app), month=answered)
    assert reply.status_code == 200
    body = reply.get_json()
    assert (body["period"], body["questionnaire"], body["agency"]) == (answered, None, "ALL")
    assert body["rows"] == expected_rows(app, answered)
    assert {r["agency_code"] for r in body["rows"]} == {"ALL", "HN", "P-HK"}
    overall = next(r for r in body["rows"] if r["agency_code"] == "P-HK" and r["level"] == "overall")
    assert overall["n"] == 3 and overall["change"] is None and overall["response_rate"] is None
    criterion = next(r for r in body["rows"] if r["agency_code"] == "P-HK" and r["code"] == "CC1")
    assert (criterion["n"], criterion["n_satisfied"], criterion["pct_satisfied"]) == (3, 2, 66.67)
    assert {"status_86", "status_90"} <= set(criterion)


def test_questionnaire_and_agency_filters(app, client, answered):
    key = make_key(app)
    body = results(client, key, month=answered, questionnaire="sipas", agency="P-HK").get_json()
    assert (body["questionnaire"], body["agency"]) == ("sipas", "P-HK")
    assert body["rows"] == expected_rows(app, answered, questionnaire="sipas", agency="P-HK")
    assert {r["agency_code"] for r in body["rows"]} == {"P-HK"}
    assert results(client, key, month=answered, questionnaire="tt01").get_json()["rows"] == []
    assert results(client, key, month="2001-01").get_json()["rows"] == []


def test_scoped_key_reads_only_its_subtree(app, client, answered):
    add_ward(app)
    ward, city = make_key(app, "ward", "P-HK"), make_key(app, "city", "HN")
    mine = results(client, ward, month=answered)
    assert mine.status_code == 200 and mine.get_json()["agency"] == "P-HK"
    assert {r["agency_code"] for r in mine.get_json()["rows"]} == {"P-HK"}
    for agency in ("HN", "ALL", "P-BD"):
        assert results(client, ward, month=answered, agency=agency).status_code == 403, agency
    assert results(client, ward, month=answered, agency="NOPE").status_code == 404
    city_rows = results(client, city, month=answered).get_json()["rows"]
    assert {r["agency_code"] for r in city_rows} == {"HN", "P-HK"}
    assert results(client, city, month=answered, agency="P-BD").get_json()["rows"] == []
    assert results(client, city, month=answered, agency="ALL").status_code == 403


@pytest.mark.parametrize(
    "query, parameters",
    [({}, ["month"]), ({"month": "2026-13"}, ["month"]), ({"month": "26-01"}, ["month"]),
     ({"month": "2026-01", "questionnaire": "nope"}, ["questionnaire"]),
     ({"month": "x", "questionnaire": "nope"}, ["month", "questionnaire"]), ({"month": "0001-01"}, ["month"]),
     ({"month": "1999-12"}, ["month"]), ({"month": "9999-12"}, ["month"])],
)  # fmt: skip
def test_invalid_query_is_422(app, client, counter, query, parameters):
    reply = results(client, make_key(app), **query)
    assert reply.status_code == 422
    assert [e["parameter"] for e in reply.get_json()["errors"]] == parameters


def test_unknown_agency_is_404(app, client, counter):
    assert results(client, make_key(app), month="2026-01", agency="NOPE").status_code == 404


def test_results_need_a_key(client, counter):
    assert results(client, None, month="2026-01").status_code == 401


def test_response_rate_counts_links_issued_through_the_api(app, client, counter):
    key = make_key(app)
    urls = [create(client, key).get_json()["url"].removeprefix("http://survey.test") for _ in range(2)]
    assert send(client, urls[0], {"CC1": "5"}).status_code == 303
    rows = results(client, key, month=this_month(), agency="P-HK").get_json()["rows"]
    overall = next(r for r in rows if r["level"] == "overall")
    assert overall["response_rate"] == 50.0
    assert all(r["response_rate"] is None for r in rows if r["level"] != "overall")


def test_health_ok_without_a_key(client):
    reply = call(client, "GET", "/api/v1/health")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "checks": {"database": "ok", "migrations": "current"}}


def test_health_503_when_a_migration_is_missing(app, client, database_url):
    config = db.alembic_config(database_url)
    command.stamp(config, "0003")
    try:
        reply = call(client, "GET", "/api/v1/health")
    finally:
        command.stamp(config, "head")
    assert reply.status_code == 503
    assert reply.get_json()["checks"] == {"database": "ok", "migrations": "outdated"}


def test_health_503_when_the_database_is_unreachable(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    reply = call(app.test_client(), "GET", "/api/v1/health")
    assert reply.status_code == 503
    assert reply.get_json()["checks"] == {"database": "unreachable", "migrations": "unknown"}


def test_openapi_document_is_served_without_a_key(client):
    reply = call(client, "GET", "/api/v1/openapi.json")
    assert reply.status_code == 200
    assert reply.get_json() == openapi.document("http://survey.test/api/v1")
    assert reply.get_json()["openapi"].startswith("3.1")
