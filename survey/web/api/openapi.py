"""The API's OpenAPI 3.1 document, and request validation against its schemas (one source of truth)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from analysis.cells import STATUSES

PROBLEM_MEDIA_TYPE = "application/problem+json"
REF = "#/components/schemas/"
# "(?![\\s\\S])" is the end of the text in every regex dialect ("$" also matches before a final
# newline in Python's, which jsonschema uses).
END = r"(?![\s\S])"
WORD = "^[a-z_]{1,32}" + END
CODE = "^[A-Za-z0-9][A-Za-z0-9_.-]*" + END
MONTH = "^2[0-9]{3}-(0[1-9]|1[0-2])" + END
STATUS_CODES = {
    "200": "OK",
    "201": "Created",
    "400": "Malformed request: not JSON, wrong JSON types, or a malformed header",
    "401": "Missing, unknown or revoked API key",
    "403": "Outside the key's agency scope",
    "404": "Unknown agency",
    "409": "The dossier already has a survey link for this event",
    "413": "Request body too large",
    "415": "Request body is not JSON",
    "422": "Well-formed but invalid values",
    "429": "Rate limit of the API key exceeded",
    "500": "Server error",
    "503": "Database unreachable or not at the latest migration",
}
NULLABLE_NUMBER = {"type": ["number", "null"]}

SCHEMAS = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "With 400 and 422: each problem, located by a JSON pointer into the body, "
                "a query parameter or a header.",
                "items": {
                    "type": "object",
                    "required": ["detail"],
                    "properties": {
                        "detail": {"type": "string"},
                        "pointer": {"type": "string"},
                        "parameter": {"type": "string"},
                        "header": {"type": "string"},
                    },
                },
            },
            "checks": {"$ref": REF + "HealthChecks"},
        },
    },
    "InteractionRequest": {
        "type": "object",
        "required": ["counter_code"],
        "additionalProperties": False,
        "properties": {
            "counter_code": {
                "type": "string",
                "minLength": 1,
                "maxLength": 32,
                "pattern": CODE,
                "description": "An active counter inside the key's scope; unknown or inactive: 422.",
            },
            "service_code": {
                "type": "string",
                "minLength": 1,
                "maxLength": 32,
                "pattern": CODE,
                "description": "Unknown: 422.",
            },
            "dossier_code": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "pattern": r"^\S(.*\S)?" + END,
                "description": "The one-stop software's dossier code, exactly as it knows it (no surrounding "
                "spaces). Stored only as a keyed hash of (event, dossier code); one link per dossier and event.",
            },
            "event": {
                "type": "string",
                "pattern": WORD,
                "default": "result",
                "description": "What happened to the dossier, e.g. 'receipt' (dossier received) or 'result' "
                "(result handed back). Only used with dossier_code, so that one dossier can get a link per event.",
            },
            "channel": {"type": "string", "pattern": WORD, "default": "counter"},
        },
        "examples": [{"counter_code": "TT-01", "service_code": "HT-KS", "dossier_code": "000.00.27.H26-241123-0001"}],
    },
    "InteractionCreated": {
        "type": "object",
        "required": ["token", "url", "qr_svg_url", "expires_at"],
        "additionalProperties": False,
        "properties": {
            "token": {"type": "string", "description": "128 random bits, URL-safe base64."},
            "url": {"type": "string", "format": "uri", "description": "The citizen's one-time survey link."},
            "qr_svg_url": {"type": "string", "format": "uri", "description": "QR code of url as SVG (public)."},
            "expires_at": {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."},
        },
    },
    "SatisfactionRow": {
        "type": "object",
        "description": "One row of the monthly report (the CSV columns, the status per target, change, "
        "response_rate); null where the CSV cell is blank.",
        "required": [
            *("period", "questionnaire", "version", "agency_code", "agency_name", "service_code", "level", "code"),
            *("label", "n", "n_satisfied", "pct_satisfied", "ci_low", "ci_high", "change", "response_rate"),
        ],
        "additionalProperties": False,
        "patternProperties": {"^status_": {"enum": [*STATUSES, None]}},
        "properties": {
            "period": {"type": "string", "pattern": MONTH},
            "questionnaire": {"type": "string"},
            "version": {"type": "string", "description": "'1', or '1+2' when identical versions are pooled."},
            "agency_code": {"type": "string", "description": "'ALL' for every agency."},
            "agency_name": {"type": "string"},
            "service_code": {"type": "string"},
            "level": {"enum": ["overall", "element", "criterion", "priority"]},
            "code": {"type": "string"},
            "label": {"type": "string"},
            "n": {"type": "integer", "minimum": 0},
            "n_satisfied": {"type": ["integer", "null"], "minimum": 0},
            "pct_satisfied": NULLABLE_NUMBER,
            "ci_low": NULLABLE_NUMBER,
            "ci_high": NULLABLE_NUMBER,
            "change": {**NULLABLE_NUMBER, "description": "Points since the previous month."},
            "response_rate": {**NULLABLE_NUMBER, "description": "One-time links answered / issued, %."},
        },
    },
    "Satisfaction": {
        "type": "object",
        "required": ["period", "questionnaire", "agency", "rows"],
        "additionalProperties": False,
        "properties": {
            "period": {"type": "string", "pattern": MONTH},
            "questionnaire": {"type": ["string", "null"]},
            "agency": {"type": "string"},
            "figures_as_of": {
                "type": "string",
                "format": "date-time",
                "description": "When the month's shared figures were taken (new responses count within a minute).",
            },
            "rows": {"type": "array", "items": {"$ref": REF + "SatisfactionRow"}},
        },
    },
    "HealthChecks": {
        "type": "object",
        "properties": {
            "database": {"enum": ["ok", "unreachable"]},
            "migrations": {"enum": ["current", "outdated", "unknown"]},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {"status": {"const": "ok"}, "checks": {"$ref": REF + "HealthChecks"}},
    },
}


def _responses(codes: str, ok: str | None = None, headers: dict | None = None) -> dict:
    """The responses object of an operation: ok's schema for 2xx, a problem for the rest."""
    out = {}
    for code in codes.split():
        media, schema = ("application/json", ok) if code.startswith("2") else (PROBLEM_MEDIA_TYPE, "Problem")
        out[code] = {"description": STATUS_CODES[code], "content": {media: {"schema": {"$ref": f"{REF}{schema}"}}}}
        if headers and code.startswith("2"):
            out[code]["headers"] = headers
    return out


def _query(name: str, description: str, required: bool = False, pattern: str | None = None) -> dict:
    schema = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes retries safe: a request repeating a key already used with this API key returns the "
    "token created the first time, with status 201 again, the same body and 'Idempotent-Replayed: true'. "
    "The same Idempotency-Key with a different body: 422. 1 to 255 visible ASCII characters; the quoted "
    "form of the IETF draft is the same key as the bare one.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+" + END},
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "'true' when the body is that of an earlier request.",
        "schema": {"const": "true"},
    }
}

PATHS = {
    "/interactions": {
        "post": {
            "operationId": "createInteraction",
            "summary": "Issue a one-time survey link (and its QR code) for a service event at a counter.",
            "parameters": [IDEMPOTENCY],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF + "InteractionRequest"}}},
            },
            "responses": _responses("201 400 401 403 409 413 415 422 429 500", "InteractionCreated", REPLAYED),
        }
    },
    "/satisfaction": {
        "get": {
            "operationId": "getSatisfaction",
            "summary": "The month's counter-survey results (Khảo sát tại quầy, not the official SIPAS index).",
            "parameters": [
                _query(
                    "month",
                    "Calendar month YYYY-MM (2000-01 to 2999-12) in Asia/Ho_Chi_Minh; invalid: 422.",
                    True,
                    MONTH,
                ),
                _query("questionnaire", "Only this questionnaire id; unknown: 422."),
                _query(
                    "agency",
                    "This agency and the agencies below it, or ALL; default: the key's agency (ALL for a key "
                    "without one). Unknown: 404; outside the key's scope: 403.",
                ),
            ],
            "responses": _responses("200 401 403 404 422 429 500", "Satisfaction"),
        }
    },
    "/health": {
        "get": {
            "operationId": "getHealth",
            "summary": "Whether the database is reachable and at the latest migration.",
            "security": [],
            "responses": _responses("200 429 503", "Health"),
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document.",
            "security": [],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                **_responses("429"),
            },
        }
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Khảo sát tại quầy — API",
        "version": "1.0.0",
        "description": "For the one-stop software of an agency: issue one-time survey links per dossier and read "
        "the monthly counter-survey results. Authenticate with 'Authorization: Bearer <key>' (keys from "
        "'flask apikey create'); a key created with --agency acts only within that agency's subtree. Every error "
        "is an RFC 9457 problem (application/problem+json), also 404 and 405 for any URL under /api/. Codes "
        "named in a request body that do not resolve (counter, service) give 422; an agency named in the query "
        "that does not exist gives 404. Requests are limited per key, all endpoints together (API_RATE_LIMIT, "
        "default 300 per minute); requests without a valid key, per client address.",
    },
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}
_REGISTRY = Registry().with_resource("urn:survey-api", Resource.from_contents(DOCUMENT, DRAFT202012))


def document(server_url: str) -> dict:
    """The OpenAPI document, served from server_url (the API's base URL)."""
    return {**copy.deepcopy(DOCUMENT), "servers": [{"url": server_url}]}


def validator(name: str) -> Draft202012Validator:
    """A JSON Schema validator for one of the document's schemas."""
    return Draft202012Validator({"$ref": f"urn:survey-api#/components/schemas/{name}"}, registry=_REGISTRY)


@dataclass
class Invalid:
    pointer: str
    detail: str
    wrong_type: bool  # a JSON type error (400), not a value the schema refuses (422)


def _messages(error) -> list[tuple[str, str]]:
    """Pointer and message for one schema error, never echoing the value (it may be a dossier code)."""
    pointer = "".join(f"/{part}" for part in error.absolute_path)
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return [(f"{pointer}/{name}", "is required") for name in value if name not in error.instance]
    if rule == "additionalProperties":
        known = error.schema.get("properties", {})
        return [(f"{pointer}/{name}", "is not a known member") for name in sorted(set(error.instance) - set(known))]
    text = {
        "type": f"must be of JSON type {value}",
        "minLength": f"must have at least {value} characters",
        "maxLength": f"must have at most {value} characters",
        "pattern": f"must match the pattern {value}",
    }.get(rule, f"fails the schema rule {rule!r}")
    return [(pointer, text)]


def check(name: str, instance) -> list[Invalid]:
    """What is wrong with an instance of one of the document's schemas, ordered by location."""
    found = [
        Invalid(pointer, text, error.validator == "type")
        for error in validator(name).iter_errors(instance)
        for pointer, text in _messages(error)
    ]
    return sorted(found, key=lambda i: i.pointer)
