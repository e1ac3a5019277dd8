"""The API's views: one-time survey links per dossier, the month's results, health.

The request and response shapes are those of survey.web.api.openapi; errors are problems (problems.py).
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, HTTPException

from analysis.periods import parse_month
from survey import db
from survey.domain import agencies, api_keys, catalog, signing
from survey.domain.interactions import Issued, issue_interaction
from survey.extensions import limiter
from survey.models import Agency, ApiKey, Counter, Interaction, Service
from survey.web.api import openapi, problems
from survey.web.api.problems import ApiError, located

if TYPE_CHECKING:
    import pandas as pd

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.health", "api.openapi_document"}
ALL = "ALL"
MONTHS = ("2000-01", "2999-12")
MISSING_KEY = {"WWW-Authenticate": 'Bearer realm="api"'}
INVALID_KEY = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


def _bearer() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials and " " not in credentials else None


def _presented_key() -> ApiKey | None:
    """The stored key the request's bearer string names (active or revoked, or None), looked up once."""
    if "presented_key" not in g:
        presented = _bearer()
        g.presented_key = api_keys.find_key(db.session(), presented) if presented else None
    return g.presented_key


def _rate_key() -> str:
    """Limit per active API key (by its id); anything else, an invented bearer string too, per address."""
    key = _presented_key()
    return f"api-key:{key.id}" if key is not None and key.revoked_at is None else "addr:" + get_remote_address()


# One budget per key (or address) for the whole API, not one per endpoint.
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=_rate_key)(bp)
bp.register_error_handler(HTTPException, problems.http_problem)
bp.register_error_handler(Exception, problems.server_error)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC:
        return
    if _bearer() is None:
        raise ApiError(401, "Send an API key as 'Authorization: Bearer <key>'.", headers=MISSING_KEY)
    key = _presented_key()
    if key is None or key.revoked_at is not None:
        detail = "This API key is unknown." if key is None else "This API key has been revoked."
        raise ApiError(401, detail, headers=INVALID_KEY)
    if api_keys.touch(key):
        db.session().commit()  # its own unit of work: the key was used, whatever the request's outcome
    g.api_key = key


def _checked_body(schema: str) -> dict:
    """The JSON body, valid against a schema of the document: 415, 400 (syntax, JSON types) or 422 if not."""
    if not request.is_json:
        raise ApiError(415, "Send the body as JSON with 'Content-Type: application/json'.")
    try:
        body = request.get_json()
        json.dumps(body, ensure_ascii=False).encode()  # lone surrogates (\ud800) are not text
    except (BadRequest, RecursionError, UnicodeEncodeError):
        raise ApiError(400, "The body is not valid JSON.") from None
    found = openapi.check(schema, body)
    wrong_types = [i for i in found if i.wrong_type]
    if found:
        code, detail = (400, "wrong JSON types") if wrong_types else (422, "invalid values")
        errors = [{"pointer": i.pointer, "detail": i.detail} for i in wrong_types or found]
        raise ApiError(code, f"The request body has {detail}.", errors=errors)
    return body


def _idempotency_hash() -> str | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]  # the IETF draft sends it as a quoted string; the bare form is the same key
    if not 1 <= len(value) <= 255 or not value.isascii() or not value.isprintable() or " " in value:
        detail = "must be 1 to 255 visible ASCII characters"
        raise located(400, "The Idempotency-Key header is malformed.", detail, header="Idempotency-Key")
    return signing.keyed_hash("idempotency", f"{g.api_key.id}:{value}")


def _counter(session: Session, code: str) -> Counter:
    counter = session.scalar(select(Counter).where(Counter.code == code))
    if counter is not None and not agencies.contains(session, g.api_key.agency_id, counter.agency_id):
        raise ApiError(403, "This counter is outside the agencies of this API key.")
    if counter is None or not counter.active:
        raise located(422, "Unknown counter.", "no active counter has this code", pointer="/counter_code")
    return counter


def _service_id(session: Session, code: str | None) -> int | None:
    service_id = session.scalar(select(Service.id).where(Service.code == code)) if code is not None else None
    if code is not None and service_id is None:
        raise located(422, "Unknown service.", "no service has this code", pointer="/service_code")
    return service_id


def interaction_request(session: Session) -> dict:
    """The columns of the interaction a request asks for: 400, 403, 415 or 422 when it cannot be served."""
    idempotency_hash = _idempotency_hash()
    body = _checked_body("InteractionRequest")
    counter = _counter(session, body["counter_code"])
    dossier, event = body.get("dossier_code"), body.get("event", "result")
    return {
        "agency_id": counter.agency_id,
        "counter_id": counter.id,
        "service_id": _service_id(session, body.get("service_code")),
        "channel": body.get("channel", "counter"),
        # Hashed with the agency and the event, so that a dossier gets one link per event at an agency, and a
        # key of one agency learns nothing of another's dossiers; never stored in clear.
        "dossier_hash": (
            signing.keyed_hash("dossier", f"{counter.agency_id}:{event}:{dossier}") if dossier is not None else None
        ),
        "idempotency_hash": idempotency_hash,
    }


def link(interaction: Interaction, token: str) -> dict:
    """The body of a created interaction: token, links and expiry (ISO 8601 UTC)."""
    return {
        "token": token,
        "url": signing.external_url("citizen.token_form", token=token),
        "qr_svg_url": signing.external_url("citizen.token_qr", token=token),
        "expires_at": interaction.expires_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


@bp.post("/interactions")
def create_interaction():
    session = db.session()
    issue = interaction_request(session)
    lifetime = timedelta(days=current_app.config["TOKEN_LIFETIME_DAYS"])
    outcome, interaction, token = issue_interaction(session, issue, lifetime)
    if outcome is Issued.DOSSIER_TAKEN:
        session.rollback()
        raise ApiError(409, "This dossier already has a survey link for this event.")
    if outcome is Issued.KEY_REUSED:
        session.rollback()
        raise ApiError(422, "This Idempotency-Key was already used with a different request.")
    session.commit()
    return link(interaction, token), 201, {"Idempotent-Replayed": "true"} if outcome is Issued.REPLAYED else {}


def satisfaction_query(session: Session) -> tuple[str, str | None, str]:
    """Month, questionnaire and agency of a results request: 422, 404 or 403 when they cannot be served."""
    found, month, questionnaire = [], request.args.get("month", ""), request.args.get("questionnaire")
    try:
        month = parse_month(month)
    except ValueError as exc:
        found.append({"parameter": "month", "detail": str(exc)})
    else:
        if not MONTHS[0] <= month <= MONTHS[1]:  # outside, the previous or next month is no valid date
            found.append({"parameter": "month", "detail": f"must lie between {MONTHS[0]} and {MONTHS[1]}"})
    if questionnaire is not None and questionnaire not in catalog.current().ids():
        found.append({"parameter": "questionnaire", "detail": f"known: {', '.join(catalog.current().ids())}"})
    if found:
        raise ApiError(422, "The query has invalid values.", errors=found)
    key = g.api_key
    agency = request.args.get("agency") or (key.agency.code if key.agency else ALL)
    if agency == ALL:
        if key.agency_id is not None:
            raise ApiError(403, "This API key may read only its own agencies, not ALL.")
        return month, questionnaire, agency
    agency_id = session.scalar(select(Agency.id).where(Agency.code == agency))
    if agency_id is None:
        raise ApiError(404, "No agency has this code.")
    if not agencies.contains(session, key.agency_id, agency_id):
        raise ApiError(403, "This agency is outside the agencies of this API key.")
    return month, questionnaire, agency


def json_rows(table: pd.DataFrame) -> list[dict]:
    """The rows of a report table as JSON objects, blank cells (NaN, NA) as null."""
    return table.astype(object).where(table.notna(), None).to_dict("records")


@bp.get("/satisfaction")
def satisfaction():
    session = db.session()
    from survey.reporting import snapshot  # pandas: loaded by the first results request, not at start-up

    month, questionnaire, agency = satisfaction_query(session)
    scope = None if agency == ALL else agency
    head = snapshot.current_heads(session, [month])[month]
    table = snapshot.month_table(snapshot.Month(head), scope, questionnaire)
    return {
        "period": month,
        "questionnaire": questionnaire,
        "agency": agency,
        "figures_as_of": head.taken_at.isoformat(),
        "rows": json_rows(table),
    }


def health_checks() -> dict[str, str]:
    """Whether the database answers and is at the latest migration."""
    try:
        current = db.migrations_current(db.engine())
    except SQLAlchemyError:
        return {"database": "unreachable", "migrations": "unknown"}
    return {"database": "ok", "migrations": "current" if current else "outdated"}


@bp.get("/health")
def health():
    checks = health_checks()
    if checks["migrations"] != "current":
        raise ApiError(503, "The database is unreachable or not at the latest migration.", checks=checks)
    return {"status": "ok", "checks": checks}


@bp.get("/openapi.json")
def openapi_document():
    return openapi.document(current_app.config["BASE_URL"] + bp.url_prefix)
