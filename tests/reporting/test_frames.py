"""The database path of the monthly aggregation: rollups, frames, and the report command."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import select

from analysis.counting import count_answers
from analysis.indices import monthly_table
from survey import db
from survey.domain import catalog, rollup
from survey.models import AnswerCount, ScoreSum
from survey.reporting import frames
from tests.helpers import send

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def rollup_rows(session):
    counts = sorted(tuple(r) for r in session.execute(select(AnswerCount.__table__)).all())
    scores = sorted(
        (
            r.period,
            r.agency_id,
            r.service_id,
            r.questionnaire_version_id,
            r.scope,
            r.n,
            round(r.sum_y, 9),
            round(r.sum_y2, 9),
        )
        for r in session.execute(select(ScoreSum.__table__)).all()
    )
    return counts, scores


def test_web_answers_keep_the_rollups_in_step(app, client, counter_path):
    send(client, counter_path, {"TC1": "5", "TC2": "2", "TT1": "4", "UT1": "3", "comment": "tốt"})
    send(client, counter_path, {"TC1": "4", "PA1": "na", "CC1": "1"})
    with app.app_context():
        s = db.session()
        live = rollup_rows(s)
        rollup.rebuild(s)
        assert rollup_rows(s) == live
        counts = {(r.item_code, r.value): r.count for r in s.scalars(select(AnswerCount))}
        scores = {r.scope: (r.n, r.sum_y) for r in s.scalars(select(ScoreSum))}
    assert counts == {("TC1", 5): 1, ("TC1", 4): 1, ("TC2", 2): 1, ("TT1", 4): 1, ("UT1", 3): 1, ("CC1", 1): 1}
    # first response: TC 1/2 satisfied, TT 1/1 -> overall 0.75; second: TC 1, CC 0 -> overall 0.5
    assert scores == {"TC": (2, 1.5), "TT": (1, 1.0), "CC": (1, 0.0), "OVERALL": (2, 1.25)}


def test_database_and_pandas_paths_give_identical_tables(demo):
    with demo.app_context():
        s = db.session()
        months = frames.months_with_responses(s)
        assert months[:3] == ["2026-11", "2026-10", "2026-09"]
        month = "2026-10"
        tz = demo.config["TIMEZONE"]
        db_counts = frames.month_counts(s, [month])
        db_scores = frames.month_scores(s, [month])
        pd_counts, pd_scores = count_answers(frames.answers_frame(s, month, tz), catalog.current(), tz)
        assert_frame_equal(db_counts, pd_counts)
        assert_frame_equal(db_scores, pd_scores, check_exact=False, rtol=1e-12)
        context = (catalog.current(), frames.agencies_frame(s), frames.targets_frame(s), month)
        from_db = monthly_table(db_counts, db_scores, *context, by_service=True)
        from_pandas = monthly_table(pd_counts, pd_scores, *context, by_service=True)
    assert len(from_db) > 100
    assert_frame_equal(from_db, from_pandas)


def test_rollups_follow_the_local_month(app, client, counter_path):
    from survey.domain import responses

    with app.app_context():
        s = db.session()
        definition = catalog.current().get("sipas")
        for key, moment in (
            ("k-jan-end-local-2330", datetime(2026, 1, 31, 16, 30, tzinfo=UTC)),
            ("k-feb-start-local-0030", datetime(2026, 1, 31, 17, 30, tzinfo=UTC)),
        ):
            responses.record_response(
                s,
                responses.Submission(
                    definition=definition,
                    agency_id=2,
                    channel="paper",
                    submission_key=key,
                    answers={"TC1": 5},
                    submitted_at=moment,
                ),
            )
        s.commit()
        assert [str(p) for p in s.scalars(select(AnswerCount.period).order_by(AnswerCount.period))] == [
            "2026-01-01",
            "2026-02-01",
        ]
        assert frames.month_counts(s, ["2026-01"])["count"].tolist() == [1]


def test_report_monthly_writes_csv_and_xlsx(demo, tmp_path):
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--out", str(tmp_path), "--by-service"])
    assert result.exit_code == 0, result.output
    assert "Khảo sát tại quầy" in result.output and "Wrote" in result.output
    raw = (tmp_path / "satisfaction.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == [
        "period",
        "questionnaire",
        "version",
        "agency_code",
        "agency_name",
        "service_code",
        "level",
        "code",
        "label",
        "n",
        "n_satisfied",
        "pct_satisfied",
        "ci_low",
        "ci_high",
        "status_86",
        "status_90",
    ]
    first = rows[0]
    assert (first["period"], first["agency_code"], first["service_code"], first["level"], first["code"]) == (
        "2026-10",
        "ALL",
        "ALL",
        "overall",
        "OVERALL",
    )
    assert {r["agency_code"] for r in rows} >= {"ALL", "HN", "P-HK", "X-SS"}
    assert any(r["service_code"] not in ("ALL", "") for r in rows)
    table = pd.read_csv(tmp_path / "satisfaction.csv", encoding="utf-8-sig", dtype={"version": str})
    whole = table[(table.agency_code == "ALL") & (table.service_code == "ALL") & (table.questionnaire == "sipas")]
    assert whole[whole.level == "criterion"]["n"].sum() > 0
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "satisfaction.xlsx", read_only=True)
    assert {"overall", "element", "criterion", "priority"} <= set(book.sheetnames)
    book.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "--month"),
        (["--month", "2026-10", "--agency", "NOPE"], "no agency with code 'NOPE'"),
        (["--month", "2026-10", "--questionnaire", "nope"], "unknown questionnaire"),
    ],
)
def test_report_monthly_refuses_bad_options(app, tmp_path, args, message):
    result = app.test_cli_runner().invoke(args=["report", "monthly", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "out").exists()


def test_report_of_an_empty_month(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["report", "monthly", "--month", "2020-01", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Wrote 0 rows" in result.output


def test_init_db_fills_missing_rollups(demo):
    with demo.app_context():
        s = db.session()
        before = rollup_rows(s)
        s.execute(AnswerCount.__table__.delete())
        s.execute(ScoreSum.__table__.delete())
        s.commit()
    result = demo.test_cli_runner().invoke(args=["init-db"])
    assert "Monthly rollups filled from" in result.output
    with demo.app_context():
        assert rollup_rows(db.session()) == before
