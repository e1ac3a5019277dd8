"""Reference data (agencies, services, counters) imported from CSV files: all rows or none."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.codes import ALL, NO_SERVICE, OVERALL
from survey.domain import catalog
from survey.models import Agency, Counter, Service

COLUMNS = {
    "agencies": ("code", "name", "level", "parent_code"),
    "services": ("code", "name", "field", "processing_days"),
    "counters": ("code", "agency_code", "name", "questionnaire"),
}
MODELS = {"agencies": Agency, "services": Service, "counters": Counter}
# Codes end up in URLs, QR codes and spreadsheets: plain ASCII, never starting like a formula.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
CODE_MAX = 32
# The codes the figures give their own blocks: an agency coded ALL would be read as every agency (so a
# user scoped to its parent would read the whole city's figures), a service coded ALL or NONE would be
# mixed with every service or with no service, and OVERALL names the overall index beside element codes.
# Refused for agencies, services and counters in every letter case.
RESERVED_CODES = frozenset({ALL, NO_SERVICE, OVERALL})
NAME_MAX = {"agencies": 200, "services": 300, "counters": 200}
LABEL_MAX = {"level": 32, "field": 100}
# An upper bound keeps a typo from overflowing the database integer; ten years is already absurd.
MAX_PROCESSING_DAYS = 3650


@dataclass(frozen=True)
class Row:
    """One data row of a CSV file and the physical line it starts on (the header is line 1)."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.reason}"


class ReferenceImportError(ValueError):
    """A file that cannot be imported; holds every problem found, nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(map(str, errors)))


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    unchanged: int

    def summary(self) -> str:
        return f"{self.kind}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged."


def is_reserved(code: str) -> bool:
    """Whether a code is one of RESERVED_CODES, whatever its letter case and surrounding spaces."""
    return code.strip().upper() in RESERVED_CODES


def read_text(path: Path | str) -> str:
    """Read a UTF-8 file, with or without a byte-order mark."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ReferenceImportError([RowError(0, "file", f"{path}: no such file")]) from None
    except OSError as exc:
        raise ReferenceImportError([RowError(0, "file", f"{path}: cannot be read ({exc.strerror})")]) from None
    except UnicodeDecodeError as exc:
        reason = f"{path}: not UTF-8 (invalid byte at offset {exc.start}); save the file as CSV UTF-8"
        raise ReferenceImportError([RowError(0, "file", reason)]) from None


def header_problems(missing: list[str], unknown: tuple[str, list[str]], repeated: list[str]) -> str:
    """Say what is wrong with a header: missing, unknown (with its wording) and repeated columns."""
    word, names = unknown
    parts = [("missing", missing), (word, names), ("repeated", repeated)]
    return "; ".join(f"{label} {', '.join(columns)}" for label, columns in parts if columns)


def parse_csv(text: str, kind: str) -> tuple[list[Row], list[RowError]]:
    """Split CSV text into rows keyed by the kind's columns, and the rows of the wrong shape.

    A wrong header raises: no row can be read without it.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        raise ReferenceImportError([RowError(1, "header", "the file is empty")])
    names = [h.strip() for h in header]
    expected = COLUMNS[kind]
    missing = [c for c in expected if c not in names]
    extra = [n for n in names if n not in expected]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or extra or repeated:
        reason = (
            header_problems(missing, ("unexpected", extra), repeated) + f" (expected exactly: {','.join(expected)})"
        )
        raise ReferenceImportError([RowError(1, "header", reason)])
    rows, errors = [], []
    last_line = reader.line_num
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num  # a quoted field may span several lines
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(names):
                errors.append(RowError(line, "row", f"{len(fields)} fields, expected {len(names)}"))
                continue
            rows.append(Row(line, {n: f.strip() for n, f in zip(names, fields, strict=True)}))
    except csv.Error as exc:  # e.g. a field beyond the csv module's size limit: the rest cannot be read
        errors.append(RowError(last_line + 1, "row", f"not readable as CSV ({exc})"))
    return rows, errors


def import_csv(session: Session, kind: str, text: str) -> ImportResult:
    """Parse and import the text of a CSV file; every problem of every row raises at once."""
    rows, errors = parse_csv(text, kind)
    return import_reference(session, kind, rows, errors)


def import_reference(session: Session, kind: str, rows: list[Row], errors: Sequence[RowError] = ()) -> ImportResult:
    """Validate every row, then create new codes and update existing ones; the caller commits."""
    errors = list(errors) + _common_errors(kind, rows)
    existing = {obj.code: obj for obj in session.scalars(select(MODELS[kind]))}
    errors += KIND_CHECKS[kind](session, rows, existing)
    if errors:
        raise ReferenceImportError(sorted(errors, key=lambda e: e.line))
    return KIND_WRITERS[kind](session, rows, existing)


def _common_errors(kind: str, rows: list[Row]) -> list[RowError]:
    errors, first_line = [], {}
    for row in rows:
        code, name = row.values["code"], row.values["name"]
        if not code:
            errors.append(RowError(row.line, "code", "is empty"))
        elif len(code) > CODE_MAX:
            errors.append(RowError(row.line, "code", f"longer than {CODE_MAX} characters"))
        elif is_reserved(code):
            reserved = ", ".join(sorted(RESERVED_CODES))
            errors.append(RowError(row.line, "code", f"{code!r} is reserved ({reserved} name the figures' own rows)"))
        elif not CODE.match(code):
            errors.append(RowError(row.line, "code", f"{code!r}: only letters A-Z, digits, '-', '_' and '.'"))
        elif code in first_line:
            errors.append(RowError(row.line, "code", f"{code!r} already appears on line {first_line[code]}"))
        else:
            first_line[code] = row.line
        if not name:
            errors.append(RowError(row.line, "name", "is empty"))
        elif "\n" in name or "\r" in name:
            errors.append(RowError(row.line, "name", "contains a line break"))
        elif len(name) > NAME_MAX[kind]:
            errors.append(RowError(row.line, "name", f"longer than {NAME_MAX[kind]} characters"))
        for column, limit in LABEL_MAX.items():
            if len(row.values.get(column, "")) > limit:
                errors.append(RowError(row.line, column, f"longer than {limit} characters"))
    return errors


def _agency_errors(session: Session, rows: list[Row], existing: dict[str, Agency]) -> list[RowError]:
    by_id = {a.id: a.code for a in existing.values()}
    parents = {code: by_id.get(a.parent_id) for code, a in existing.items()}
    parents.update({r.values["code"]: r.values["parent_code"] or None for r in rows})
    errors = []
    for row in rows:
        code, parent = row.values["code"], row.values["parent_code"]
        if not parent:
            continue
        if parent not in parents:
            errors.append(RowError(row.line, "parent_code", f"no agency {parent!r} in this file or the database"))
        elif parent == code:
            errors.append(RowError(row.line, "parent_code", "an agency cannot be its own parent"))
        elif _has_ancestor(parents, parent, code):
            errors.append(RowError(row.line, "parent_code", f"{parent!r} is under {code!r}: a cycle"))
    return errors


def _has_ancestor(parents: dict[str, str | None], start: str, target: str) -> bool:
    """Whether target is start or one of its ancestors (stops on cycles not through target)."""
    seen, node = set(), start
    while node is not None and node not in seen:
        if node == target:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def _service_errors(session: Session, rows: list[Row], existing: dict[str, Service]) -> list[RowError]:
    errors = []
    for row in rows:
        days = row.values["processing_days"]
        if days and not (days.isascii() and days.isdigit()):
            errors.append(RowError(row.line, "processing_days", f"{days!r} is not a whole number of days >= 0"))
        elif days and int(days) > MAX_PROCESSING_DAYS:
            errors.append(RowError(row.line, "processing_days", f"more than {MAX_PROCESSING_DAYS} days"))
    return errors


def _counter_errors(session: Session, rows: list[Row], existing: dict[str, Counter]) -> list[RowError]:
    agencies = set(session.scalars(select(Agency.code)))
    known_questionnaires = catalog.current()
    errors = []
    for row in rows:
        agency, questionnaire = row.values["agency_code"], row.values["questionnaire"]
        if not agency:
            errors.append(RowError(row.line, "agency_code", "is empty"))
        elif agency not in agencies:
            errors.append(RowError(row.line, "agency_code", f"no agency {agency!r} in the database"))
        if questionnaire and known_questionnaires.get(questionnaire) is None:
            known = ", ".join(known_questionnaires.ids())
            errors.append(RowError(row.line, "questionnaire", f"unknown questionnaire {questionnaire!r} ({known})"))
    return errors


def _upsert(session: Session, model, existing: dict, code: str, values: dict) -> str:
    """Create or update one object; return "created", "updated" or "unchanged"."""
    obj = existing.get(code)
    if obj is None:
        session.add(model(code=code, **values))
        return "created"
    changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
    for key, value in changed.items():
        setattr(obj, key, value)
    return "updated" if changed else "unchanged"


def _result(kind: str, outcomes: list[str]) -> ImportResult:
    return ImportResult(kind, outcomes.count("created"), outcomes.count("updated"), outcomes.count("unchanged"))


def _write_agencies(session: Session, rows: list[Row], existing: dict[str, Agency]) -> ImportResult:
    outcomes = [
        _upsert(session, Agency, existing, r.values["code"], {"name": r.values["name"], "level": r.values["level"]})
        for r in rows
    ]
    session.flush()
    # Parents are set once every row exists, so a parent may come later in the file.
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    for i, row in enumerate(rows):
        agency, parent = agencies[row.values["code"]], row.values["parent_code"]
        parent_id = agencies[parent].id if parent else None
        if agency.parent_id != parent_id:
            agency.parent_id = parent_id
            if outcomes[i] == "unchanged":
                outcomes[i] = "updated"
    session.flush()
    return _result("agencies", outcomes)


def _write_services(session: Session, rows: list[Row], existing: dict[str, Service]) -> ImportResult:
    outcomes = []
    for r in rows:
        days = int(r.values["processing_days"]) if r.values["processing_days"] else None
        values = {"name": r.values["name"], "field": r.values["field"], "processing_days": days}
        outcomes.append(_upsert(session, Service, existing, r.values["code"], values))
    session.flush()
    return _result("services", outcomes)


def _write_counters(session: Session, rows: list[Row], existing: dict[str, Counter]) -> ImportResult:
    ids = dict(session.execute(select(Agency.code, Agency.id)).all())
    outcomes = []
    for r in rows:
        code, questionnaire = r.values["code"], r.values["questionnaire"] or None
        values = {"agency_id": ids[r.values["agency_code"]], "name": r.values["name"], "questionnaire": questionnaire}
        # A version pinned for the old questionnaire means nothing for a new one: follow its latest.
        if code in existing and existing[code].questionnaire != questionnaire:
            values["questionnaire_version"] = None
        outcomes.append(_upsert(session, Counter, existing, code, values))
    session.flush()
    return _result("counters", outcomes)


KIND_CHECKS = {"agencies": _agency_errors, "services": _service_errors, "counters": _counter_errors}
KIND_WRITERS = {"agencies": _write_agencies, "services": _write_services, "counters": _write_counters}
