"""The API for other systems: one-time survey links per dossier, the month's results, health.

Every error under /api/ is an RFC 9457 problem (application/problem+json); the rest of the site keeps
the HTML error pages of survey.errors. The request and response shapes are those of survey.openapi.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, timedelta

import pandas as pd
from flask import Blueprint, Flask, current_app, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from analysis.periods import parse_month
from survey import api_keys, db, errors, openapi, qr, registry, report, signing
from survey.interactions import Issued, issue_interaction
from survey.models import Agency, Counter, Interaction, Service
from survey.ratelimit import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.health", "api.openapi_document"}
ALL = "ALL"
DEFAULT_RATE_LIMIT = "300 per minute"
MONTHS = ("2000-01", "2999-12")
MISSING_KEY = {"WWW-Authenticate": 'Bearer realm="api"'}
INVALID_KEY = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


class ApiError(HTTPException):
    """An error answered as a problem: status, detail, extension members and extra headers."""

    def __init__(self, code: int, detail: str, *, headers: dict | None = None, **members):
        super().__init__(description=detail)
        self.code = code
        self.extra_headers = headers or {}
        self.members = members


def problem(code: int, detail: str, headers=(), **members):
    """An RFC 9457 problem response ('about:blank' type: the status says what went wrong)."""
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(code, "Error"), "status": code, "detail": detail}
    response = current_app.json.response({**body, **members})
    response.status_code = code
    response.mimetype = openapi.PROBLEM_MEDIA_TYPE
    response.headers.extend(headers)
    return response


def _http_problem(exc: HTTPException):
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    headers += list(getattr(exc, "extra_headers", {}).items())
    detail = exc.description or ""
    if exc.code == 429:
        reset = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 60
        headers.append(("Retry-After", str(max(1, int(reset - time.time())))))
        detail = f"Too many requests with this API key (limit: {detail})."
    return problem(exc.code or 500, detail, headers, **getattr(exc, "members", {}))


def _server_error(exc: Exception):
    current_app.logger.exception("API request failed: %s %s", request.method, request.path)
    return problem(500, "The server could not handle the request. Please try again later.")


def _routing_error(exc: HTTPException):
    """404 and 405 happen before any blueprint is chosen: answer /api/ with a problem, the rest with a page."""
    return _http_problem(exc) if request.path.startswith("/api/") else errors.error_page(exc)


def _bearer() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials and " " not in credentials else None


def _rate_key() -> str:
    """Limit per API key (a hash, so the storage never holds keys); per address for public endpoints."""
    presented = _bearer()
    return "api-key:" + api_keys.hash_key(presented)[:32] if presented else "addr:" + get_remote_address()


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)
bp.register_error_handler(HTTPException, _http_problem)
bp.register_error_handler(Exception, _server_error)


def init_app(app: Flask) -> None:
    """Register the API, the QR images of its links, the error dispatch and the apikey commands."""
    app.config.setdefault("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    app.register_blueprint(bp)
    app.register_blueprint(qr.bp)
    for code in (404, 405):
        app.register_error_handler(code, _routing_error)
    app.cli.add_command(api_keys.apikey_cli)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC:
        return
    presented = _bearer()
    if presented is None:
        raise ApiError(401, "Send an API key as 'Authorization: Bearer <key>'.", headers=MISSING_KEY)
    key = api_keys.find_key(db.session(), presented)
    if key is None or key.revoked_at is not None:
        detail = "This API key is unknown." if key is None else "This API key has been revoked."
        raise ApiError(401, detail, headers=INVALID_KEY)
    if api_keys.touch(key):
        db.session().commit()  # its own unit of work: the key was used, whatever the request's outcome
    g.api_key = key


def located(code: int, detail: str, reason: str, **where: str) -> ApiError:
    """A 400 or 422 saying where the problem is (pointer= in the body, parameter= or header=) and why."""
    return ApiError(code, detail, errors=[{**where, "detail": reason}])


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
    if counter is not None and not api_keys.in_scope(session, g.api_key.agency_id, counter.agency_id):
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
        # Hashed with the event, so that a dossier gets one link per event; never stored in clear.
        "dossier_hash": signing.keyed_hash("dossier", f"{event}:{dossier}") if dossier is not None else None,
        "idempotency_hash": idempotency_hash,
    }


def link(interaction: Interaction) -> dict:
    """The body of a created interaction: token, links and expiry (ISO 8601 UTC)."""
    token = interaction.token
    return {
        "token": token,
        "url": signing.external_url("citizen.token_form", token=token),
        "qr_svg_url": signing.external_url("qr.token_qr", token=token),
        "expires_at": interaction.expires_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


@bp.post("/interactions")
def create_interaction():
    session = db.session()
    issue = interaction_request(session)
    lifetime = timedelta(days=current_app.config["TOKEN_LIFETIME_DAYS"])
    outcome, interaction = issue_interaction(session, issue, lifetime)
    if outcome is Issued.DOSSIER_TAKEN:
        session.rollback()
        raise ApiError(409, "This dossier already has a survey link for this event.")
    if outcome is Issued.KEY_REUSED:
        session.rollback()
        raise ApiError(422, "This Idempotency-Key was already used with a different request.")
    session.commit()
    return link(interaction), 201, {"Idempotent-Replayed": "true"} if outcome is Issued.REPLAYED else {}


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
    if questionnaire is not None and questionnaire not in registry.catalog().ids():
        found.append({"parameter": "questionnaire", "detail": f"known: {', '.join(registry.catalog().ids())}"})
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
    if not api_keys.in_scope(session, key.agency_id, agency_id):
        raise ApiError(403, "This agency is outside the agencies of this API key.")
    return month, questionnaire, agency


def json_rows(table: pd.DataFrame) -> list[dict]:
    """The rows of a report table as JSON objects, blank cells (NaN, NA) as null."""
    return table.astype(object).where(table.notna(), None).to_dict("records")


@bp.get("/satisfaction")
def satisfaction():
    session = db.session()
    month, questionnaire, agency = satisfaction_query(session)
    table = report.monthly_report(session, month, questionnaire=questionnaire, agency=None if agency == ALL else agency)
    return {"period": month, "questionnaire": questionnaire, "agency": agency, "rows": json_rows(table)}


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
