"""What several test modules share: plain functions and constants (the fixtures are in conftest.py).

No test module imports another: a helper two of them need lives here.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from questionnaires import load_catalog
from survey import db
from survey.domain import api_keys, signing
from survey.models import (
    Agency,
    Answer,
    AnswerCount,
    Counter,
    Interaction,
    QuestionnaireVersion,
    Response,
    ScoreSum,
    Service,
    utcnow,
)
from survey.transfer.layout import columns, item_columns
from survey.web.api import openapi

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


# --------------------------------------------------------------------------------------------------
# Databases and rows
# --------------------------------------------------------------------------------------------------


def fresh_database_url(request, tmp_path, sqlite_template) -> str:
    """A fresh database on the backend named by request.param (a copy of the SQLite template, or reset PG)."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    database = request.getfixturevalue("postgres_database")
    database.reset()
    return database.url


def count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------------------------------
# Pages and forms
# --------------------------------------------------------------------------------------------------

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a rendered form (CSRF token, submission key)."""
    fields = {}
    for tag in HIDDEN.findall(html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def send(client, path: str, answers: dict, **overrides):
    """Open the page, then post the answers with the page's hidden fields."""
    data = {**hidden_fields(client.get(path).text), **answers, **overrides}
    return client.post(path, data=data)


def post_form(client, url, data):
    """Open the form page for its CSRF token, then post."""
    token = hidden_fields(client.get(url).text).get("csrf_token", "")
    return client.post(url, data={"csrf_token": token, **data})


def make_interaction(app, *, expires_in=timedelta(days=7), used=False) -> str:
    with app.app_context():
        s = db.session()
        counter = s.scalar(select(Counter))
        token = f"tok{s.scalar(select(func.count()).select_from(Interaction))}-abcdefghijklmnop"
        s.add(
            Interaction(
                token_hash=signing.token_hash(token),
                agency_id=s.scalar(select(Agency.id).where(Agency.code == "P-HK")),
                counter_id=counter.id,
                expires_at=utcnow() + expires_in,
                used_at=utcnow() if used else None,
            )
        )
        s.commit()
    return token


# --------------------------------------------------------------------------------------------------
# Staff accounts
# --------------------------------------------------------------------------------------------------

PASSWORD = "correct horse battery"


def login(client, email, password=PASSWORD):
    page = client.get("/auth/login")
    return client.post("/auth/login", data={**hidden_fields(page.text), "email": email, "password": password})


# --------------------------------------------------------------------------------------------------
# The API
#
# Every API response the tests receive through ``call`` is checked against the OpenAPI document: a
# declared status, the declared media type, a body matching the declared schema.
# --------------------------------------------------------------------------------------------------

DOCUMENT = openapi.document("http://survey.test/api/v1")
REGISTRY = Registry().with_resource("urn:doc", Resource.from_contents(DOCUMENT, DRAFT202012))
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def make_key(app, name: str = "one-stop", agency: str | None = None) -> str:
    """Create an API key directly and return its secret text."""
    with app.app_context():
        _, secret = api_keys.create_key(db.session(), name, agency)
        db.session().commit()
    return secret


def add_ward(app, code: str = "P-BD", counter: str = "BD-01", parent: str = "HN") -> None:
    """Another ward with a counter, under the city (outside P-HK's subtree)."""
    with app.app_context():
        s = db.session()
        city = s.scalar(select(Agency).where(Agency.code == parent))
        ward = Agency(code=code, name=f"UBND Phường {code}", level="phuong", parent=city)
        s.add_all([ward, Counter(code=counter, agency=ward, name="Quầy số 1")])
        s.commit()


def _schema_of(method: str, path: str, status: int, mimetype: str) -> dict:
    """The schema the document declares for this response; AssertionError when it declares none."""
    route = path.split("?")[0].removeprefix("/api/v1")
    operation = DOCUMENT["paths"].get(route, {}).get(method.lower())
    if operation is None:  # no such operation: only the router's own problems are possible
        assert status in (404, 405) and mimetype == openapi.PROBLEM_MEDIA_TYPE, (status, mimetype)
        return {"$ref": "urn:doc#/components/schemas/Problem"}
    declared = operation["responses"].get(str(status))
    assert declared is not None, f"{method} {route}: status {status} is not in the document"
    assert mimetype in declared["content"], f"{method} {route} {status}: {mimetype} is not declared"
    schema = declared["content"][mimetype]["schema"]
    return {"$ref": "urn:doc" + schema["$ref"]} if "$ref" in schema else schema


def conforms(response, method: str, path: str) -> None:
    """Check a real response against the OpenAPI document."""
    schema = _schema_of(method, path, response.status_code, response.mimetype)
    body = response.get_json(force=True)
    errors = sorted(Draft202012Validator(schema, registry=REGISTRY).iter_errors(body), key=str)
    assert not errors, f"{method} {path} {response.status_code}: {errors[0].message}"
    if response.status_code >= 400:
        assert PROBLEM_FIELDS <= set(body) and body["status"] == response.status_code
        assert body["type"] == "about:blank" and body["title"] and body["detail"]


def call(client, method: str, path: str, key: str | None = None, **kwargs):
    """Send an API request (with the key as a Bearer token) and check the response against the document."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    response = client.open(path, method=method, headers=headers, **kwargs)
    conforms(response, method, path)
    return response


def create(client, key: str, body: dict | None = None, **kwargs):
    return call(client, "POST", "/api/v1/interactions", key, json=body or {"counter_code": "HK-01"}, **kwargs)


def this_month() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")


# --------------------------------------------------------------------------------------------------
# Files of responses for import-responses (and what an export must give back)
# --------------------------------------------------------------------------------------------------

CATALOG = load_catalog()
ITEMS = item_columns([CATALOG.get("sipas", 1), CATALOG.get("quay-nhanh", 1)])
HEADER = columns(ITEMS)
SIPAS_ROW = {"submitted_at": "2026-01-15T09:00", "agency_code": "P-HK", "service_code": "KS", "counter_code": "HK-01",
             "questionnaire": "sipas", "version": "1", "TC1": "5", "TC3": "4", "CC1": "2", "UT1": "3", "BG_AGE": "2",
             "comment": "Rất tốt, cảm ơn"}  # fmt: skip
QUICK_ROW = {"submitted_at": "2026-01-16T14:45:00+07:00", "agency_code": "P-BD", "questionnaire": "quay-nhanh",
             "version": "1", "channel": "kiosk", "QN_TC": "3", "QN_CC": "5"}  # fmt: skip


def csv_text(rows: list[dict], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row.get(c, "") for c in header] for row in rows)
    return out.getvalue()


def write_csv(tmp_path, rows: list[dict], name: str = "responses.csv", bom: bool = False, header=HEADER) -> str:
    path = tmp_path / name
    path.write_bytes(csv_text(rows, header).encode("utf-8-sig" if bom else "utf-8"))
    return str(path)


def import_file(runner, path: str, *options: str):
    return runner.invoke(args=["import-responses", path, *options])


def counts(app) -> dict[str, int]:
    """Rows of every table an import writes, read on a connection of its own."""
    with app.extensions["survey.db"]["engine"].connect() as conn:
        return {m.__tablename__: conn.scalar(select(func.count()).select_from(m))
                for m in (Response, Answer, AnswerCount, ScoreSum)}  # fmt: skip


def rollup_totals(app) -> tuple:
    """The answers counted and the respondents scored in every rollup, read on a connection of its own."""
    with app.extensions["survey.db"]["engine"].connect() as conn:
        answers = conn.execute(select(func.sum(AnswerCount.count))).scalar_one()
        scores = conn.execute(select(func.sum(ScoreSum.n), func.sum(ScoreSum.sum_y))).one()
        return answers, tuple(scores)


def stored(app) -> list[tuple]:
    """Every response by codes and values: (UTC time, agency, service, counter, questionnaire, version, channel,
    answers, comment), sorted."""
    with app.app_context():
        s = db.session()
        codes = {m: dict(s.execute(select(m.id, m.code)).all()) for m in (Agency, Service, Counter)}
        versions = {v.id: (v.questionnaire, v.version) for v in s.scalars(select(QuestionnaireVersion))}
        rows = []
        for r in s.scalars(select(Response)):
            answers = {a.item_code: a.value for a in r.answers if a.item_code != "COMMENT"}
            comment = next((a.text for a in r.answers if a.item_code == "COMMENT"), None)
            rows.append((r.submitted_at.isoformat(), codes[Agency][r.agency_id], codes[Service].get(r.service_id),
                         codes[Counter].get(r.counter_id), *versions[r.questionnaire_version_id], r.channel,
                         tuple(sorted(answers.items())), comment))  # fmt: skip
    return sorted(rows)


def rollups(app) -> dict[str, list[tuple]]:
    """Every row of the rollup tables (floats to 9 places), read on a connection of its own."""
    with app.extensions["survey.db"]["engine"].connect() as conn:
        return {
            m.__tablename__: sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                                    for row in conn.execute(select(m.__table__)))
            for m in (AnswerCount, ScoreSum)
        }  # fmt: skip
