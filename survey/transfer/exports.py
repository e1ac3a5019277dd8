"""Exporting a month of anonymised responses in the wide layout: CSV, XLSX or Parquet, streamed.

Responses are read in chunks of CHUNK (ordered by id) and each chunk's answers are fetched and
pivoted before the next chunk is read, so memory does not grow with the month's size.
"""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.parquet as pq
from flask import current_app
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.cells import safe_cell
from analysis.periods import month_bounds
from survey.domain import catalog
from survey.domain.responses import COMMENT_ITEM
from survey.models import Agency, Answer, Counter, QuestionnaireVersion, Response, Service
from survey.transfer import layout

CHUNK = 1000
TITLE = "Khảo sát tại quầy"  # never "Chỉ số SIPAS chính thức": a counter survey is a self-selected sample


@dataclass(frozen=True)
class Selection:
    """Which responses an export holds: a local month, optionally one questionnaire and one agency's subtree."""

    month: str
    start: datetime
    end: datetime
    questionnaire: str | None = None
    agency_id: int | None = None

    def filters(self) -> list:
        found = [Response.submitted_at >= self.start, Response.submitted_at < self.end]
        if self.questionnaire:
            versions = select(QuestionnaireVersion.id).where(QuestionnaireVersion.questionnaire == self.questionnaire)
            found.append(Response.questionnaire_version_id.in_(versions))
        if self.agency_id is not None:
            tree = select(Agency.id).where(Agency.id == self.agency_id).cte("subtree", recursive=True)
            # UNION (not UNION ALL) ends the recursion even if the hierarchy had a cycle.
            tree = tree.union(select(Agency.id).where(Agency.parent_id == tree.c.id))
            found.append(Response.agency_id.in_(select(tree.c.id)))
        return found


def select_responses(session: Session, month: str, questionnaire: str | None, agency: str | None) -> Selection:
    """Check the options of an export; a bad one raises click.ClickException (nothing written yet)."""
    start, end = month_bounds(month, current_app.config["TIMEZONE"])
    if questionnaire and catalog.current().get(questionnaire) is None:
        known = ", ".join(catalog.current().ids())
        raise click.ClickException(f"unknown questionnaire {questionnaire!r} (known: {known})")
    agency_id = None
    if agency:
        agency_id = session.scalar(select(Agency.id).where(Agency.code == agency))
        if agency_id is None:
            raise click.ClickException(f"no agency {agency!r} in the database")
    return Selection(month, start, end, questionnaire, agency_id)


class Layout:
    """What a row of the file says about a response: codes instead of ids, local time, items in columns."""

    def __init__(self, session: Session, selection: Selection):
        present = session.scalars(select(Response.questionnaire_version_id).distinct().where(*selection.filters()))
        versions = {v.id: v for v in session.scalars(select(QuestionnaireVersion))}
        self.definitions = {}
        for version_id in present:
            v = versions[version_id]
            definition = catalog.current().get(v.questionnaire, v.version)
            if definition is None:
                raise click.ClickException(f"{v.questionnaire} version {v.version} has no definition file")
            self.definitions[version_id] = definition
        self.items = layout.item_columns(self.definitions.values())
        self.columns = layout.columns(self.items)
        self.codes = {
            model: dict(session.execute(select(model.id, model.code)).all()) for model in (Agency, Service, Counter)
        }
        self.zone = layout.local_zone()

    def row(self, response, answers: dict[str, int], comment: str | None) -> list:
        """A response's cells; None where nothing was recorded (blank in CSV and XLSX, null in Parquet)."""
        definition = self.definitions[response.questionnaire_version_id]
        return [
            response.submitted_at.astimezone(self.zone).isoformat(),
            self.codes[Agency][response.agency_id],
            self.codes[Service].get(response.service_id),
            self.codes[Counter].get(response.counter_id),
            definition.id,
            str(definition.version),
            response.channel,
            *(answers.get(code) for code in self.items),
            comment,
            response.submission_key,
        ]


def export_rows(session: Session, selection: Selection, shape: Layout) -> Iterator[list[list]]:
    """The selected responses as file rows, a chunk at a time, in response order."""
    filters = selection.filters()
    responses = session.execute(
        select(Response.id, Response.questionnaire_version_id, Response.agency_id, Response.service_id,
               Response.counter_id, Response.channel, Response.submitted_at, Response.submission_key)
        .where(*filters)
        .order_by(Response.id)
        .execution_options(yield_per=CHUNK)
    )  # fmt: skip
    for chunk in responses.partitions():
        # One range of ids with the same filters: no IN list of a thousand parameters.
        answers = session.execute(
            select(Answer.response_id, Answer.item_code, Answer.value, Answer.text)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.id.between(chunk[0].id, chunk[-1].id), *filters)
        )
        values: dict[int, dict[str, int]] = {}
        comments: dict[int, str] = {}
        for response_id, code, value, text in answers:
            if code == COMMENT_ITEM:
                comments[response_id] = text
            elif value is not None:
                values.setdefault(response_id, {})[code] = value
        yield [shape.row(r, values.get(r.id, {}), comments.get(r.id)) for r in chunk]


class _CsvSink:
    def __init__(self, path: Path, columns: list[str], _metadata: dict):
        self.file = path.open("w", encoding="utf-8-sig", newline="")  # the BOM makes Excel read UTF-8
        self.writer = csv.writer(self.file)
        self.writer.writerow(columns)

    def write(self, rows: list[list]) -> None:
        self.writer.writerows([safe_cell(v) for v in row] for row in rows)

    def close(self) -> None:
        self.file.close()


class _XlsxSink:
    def __init__(self, path: Path, columns: list[str], _metadata: dict):
        self.path, self.book = path, Workbook(write_only=True)
        self.sheet = self.book.create_sheet(TITLE)
        self.sheet.append(columns)

    def write(self, rows: list[list]) -> None:
        for row in rows:
            self.sheet.append([safe_cell(v) for v in row])

    def close(self) -> None:
        self.book.save(self.path)


class _ParquetSink:
    def __init__(self, path: Path, columns: list[str], metadata: dict):
        items = set(columns[len(layout.LEADING) : -2])
        fields = [pa.field(c, pa.int32() if c in items else pa.string()) for c in columns]
        self.schema = pa.schema(fields, metadata=metadata)
        self.writer = pq.ParquetWriter(path, self.schema)

    def write(self, rows: list[list]) -> None:
        # Text stays text in Parquet: no spreadsheet evaluates it, so no safe_cell.
        arrays = [pa.array(values, type=f.type) for values, f in zip(zip(*rows, strict=True), self.schema, strict=True)]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


SINKS = {"csv": _CsvSink, "xlsx": _XlsxSink, "parquet": _ParquetSink}


def export_responses(
    session: Session, selection: Selection, fmt: str, path: Path, progress: Callable[[int], None] | None = None
) -> int:
    """Write the selected responses to path in a format; return how many."""
    shape = Layout(session, selection)
    sink = SINKS[fmt](path, shape.columns, {"title": TITLE, "month": selection.month})
    count = 0
    try:
        for rows in export_rows(session, selection, shape):
            sink.write(rows)
            count += len(rows)
            if progress:
                progress(len(rows))
    finally:
        sink.close()
    return count


@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A temporary file beside out, renamed to out on success and removed on failure."""
    if not out.parent.is_dir():
        raise click.ClickException(f"{out.parent}: no such folder")
    name = out.parent / f".{out.name}.{secrets.token_hex(4)}.part"
    os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # unlike mkstemp's 0600, follows umask
    try:
        yield name
        os.replace(name, out)
    finally:
        name.unlink(missing_ok=True)
