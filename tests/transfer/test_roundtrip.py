"""A response's own key travels with it: an export imported again adds nothing."""

from __future__ import annotations

import csv
from datetime import UTC

from sqlalchemy import func, select

from survey import db
from survey.domain import responses
from survey.models import Response
from tests.helpers import counts, rollup_totals


def test_an_export_imported_again_adds_nothing(app, runner, tmp_path):
    assert runner.invoke(args=["seed-demo", "--months", "2", "--responses-per-month", "40"]).exit_code == 0
    before, totals = counts(app), rollup_totals(app)
    with app.app_context():
        month = db.session().scalar(select(func.min(Response.submitted_at))).astimezone(UTC).strftime("%Y-%m")
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["export-responses", "--month", month, "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    keys_read = {r["submission_key"].removeprefix("'") for r in rows}  # a key starting with '-' is neutralised
    assert rows and all(responses.SUBMISSION_KEY.match(k) for k in keys_read)
    with app.app_context():
        keys = set(db.session().scalars(select(Response.submission_key)))
    assert keys_read <= keys  # each response's own key, not a new one
    result = runner.invoke(args=["import-responses", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Imported 0 responses ({len(rows):,} already imported)" in result.output
    assert counts(app) == before and rollup_totals(app) == totals


def test_a_file_that_repeats_a_key_imports_it_once_and_a_bad_key_is_a_row_error(app, runner, tmp_path, counter):
    header = "submitted_at,agency_code,questionnaire,version,TC1,submission_key\n"
    same = "2026-01-15T09:00,P-HK,sipas,1,5,paper-form-000000000001\n"
    path = tmp_path / "twice.csv"
    path.write_text(header + same + same, encoding="utf-8")
    result = runner.invoke(args=["import-responses", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 responses (1 already imported)" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "2026-01-15T09:00,P-HK,sipas,1,5,not a key!\n", encoding="utf-8")
    result = runner.invoke(args=["import-responses", str(bad)])
    assert result.exit_code != 0
    assert "line 2: submission_key: 'not a key!' is not a submission key" in result.output
    assert counts(app)["responses"] == 1
