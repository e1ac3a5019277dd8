"""Builders for the analysis tests: a small questionnaire, a catalog, tidy answers and agencies."""

from __future__ import annotations

import copy

import pandas as pd

from analysis.reading import TIDY_COLUMNS
from questionnaires import Catalog, parse_definition

SAT = {
    "id": "sat",
    "values": [{"value": v, "label": {"vi": f"Mức {v}", "en": f"Level {v}"}} for v in range(1, 6)],
    "satisfied": [4, 5],
}
PRIO = {
    "id": "prio",
    "values": [{"value": v, "label": {"vi": f"Ưu tiên {v}", "en": f"Priority {v}"}} for v in range(1, 4)],
    "satisfied": [2, 3],
}
MINI = {
    "id": "mini",
    "version": 1,
    "title": {"vi": "Bảng hỏi nhỏ", "en": "Small questionnaire"},
    "scales": [SAT, PRIO],
    "elements": [
        {
            "code": "A",
            "title": {"vi": "Yếu tố A", "en": "Element A"},
            "scale": "sat",
            "criteria": [
                {"code": "A1", "text": {"vi": "Tiêu chí A1", "en": "A1"}},
                {"code": "A2", "text": {"vi": "Tiêu chí A2", "en": "A2"}},
            ],
        },
        {
            "code": "B",
            "title": {"vi": "Yếu tố B", "en": "Element B"},
            "scale": "sat",
            "criteria": [{"code": "B1", "text": {"vi": "Tiêu chí B1", "en": "B1"}}],
        },
    ],
    "priorities": {
        "title": {"vi": "Ưu tiên", "en": "Priorities"},
        "scale": "prio",
        "items": [
            {"code": "UT1", "text": {"vi": "Ưu tiên một", "en": "One"}},
            {"code": "UT2", "text": {"vi": "Ưu tiên hai", "en": "Two"}},
        ],
    },
    "background": [
        {
            "code": "BG_AGE",
            "text": {"vi": "Tuổi", "en": "Age"},
            "options": [{"value": v, "label": {"vi": str(v), "en": str(v)}} for v in (1, 2)],
        }
    ],
    "index": {"criterion": "share_satisfied", "element": "mean_of_criteria", "overall": "mean_of_elements"},
}


def mini(version: int = 1, qid: str = "mini", title: str = "Bảng hỏi nhỏ", extra_criterion: bool = False):
    """The small questionnaire (elements A: A1, A2 and B: B1; priorities UT1, UT2), varied as asked."""
    raw = copy.deepcopy(MINI)
    raw.update(id=qid, version=version)
    raw["title"]["vi"] = title
    if extra_criterion:
        raw["elements"][0]["criteria"].append({"code": "A3", "text": {"vi": "Tiêu chí A3", "en": "A3"}})
    return parse_definition(raw)


def mini_catalog() -> Catalog:
    """mini v1; v2 with the same structure (other title); v3 with an extra criterion; mini-b like v1."""
    return Catalog(
        [
            mini(1),
            mini(2, title="Bảng hỏi nhỏ, sửa lời"),
            mini(3, extra_criterion=True),
            mini(1, qid="mini-b"),
        ]
    )


def tidy(responses: list[tuple]) -> pd.DataFrame:
    """Build a tidy answers frame from (response_id, submitted_at, agency, service, answers[, q, version])."""
    rows = []
    for r in responses:
        rid, at, agency, service, answers = r[:5]
        qid, version = (r[5], r[6]) if len(r) > 5 else ("mini", 1)
        for code, value in answers.items():
            rows.append((rid, pd.Timestamp(at).tz_convert("UTC"), agency, service, None, qid, version, code, value))
    frame = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    return frame.astype({"response_id": "int64", "version": "int64", "value": "int64"})


def agencies() -> pd.DataFrame:
    """HN with two wards below it, W1 and W2."""
    return pd.DataFrame(
        {"code": ["HN", "W1", "W2"], "name": ["Hà Nội", "Phường Một", "Phường Hai"], "parent_code": [None, "HN", "HN"]}
    )


def objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every text column the object dtype, as the analysis frames have."""
    return frame.astype({c: object for c in frame.columns if pd.api.types.is_string_dtype(frame[c])})


# The month used by most tests (times are Hà Nội local): four responses, worked out by hand in test_indices.
JANUARY = [
    (1, "2026-01-05T09:00+07:00", "W1", "S1", {"A1": 5, "A2": 4, "B1": 2, "UT1": 3, "UT2": 1}),
    (2, "2026-01-06T09:00+07:00", "W1", None, {"A1": 4, "A2": 2, "UT1": 2}),
    (3, "2026-01-07T09:00+07:00", "W2", "S1", {"A1": 1, "B1": 5, "UT2": 2}),
    (4, "2026-01-31T23:30+07:00", "HN", None, {"A1": 5, "A2": 5, "B1": 4}),
]


def month_of_answers(month: str, agency: str, count: int, first_id: int, unhappy_every: int = 5) -> list[tuple]:
    """count responses at an agency in a month: every unhappy_every-th response rates A1 and B1 badly."""
    rows = []
    for i in range(count):
        unhappy = i % unhappy_every == 0
        answers = {"A1": 2 if unhappy else 5, "A2": 4, "B1": 3 if unhappy else 5, "UT1": 1 + i % 3, "UT2": 2}
        rows.append((first_id + i, f"{month}-{1 + i % 28:02d}T09:00+07:00", agency, None, answers))
    return rows


# Three months for the dashboard tests: W1 has enough answers (40), W2 too few (12), HN a handful of its own.
DASHBOARD_MONTHS = ["2026-01", "2026-02", "2026-03"]


def dashboard_responses() -> list[tuple]:
    """The responses of DASHBOARD_MONTHS: W1 40 a month (happier each month), W2 12, HN 5."""
    rows = []
    for k, month in enumerate(DASHBOARD_MONTHS):
        base = 1000 * (k + 1)
        rows += month_of_answers(month, "W1", 40, base, unhappy_every=4 + k)
        rows += month_of_answers(month, "W2", 12, base + 100, unhappy_every=3)
        rows += month_of_answers(month, "HN", 5, base + 200)
    return rows
