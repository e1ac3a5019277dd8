"""From a tidy frame of answers to the two frames the indices are computed from.

``counts``: answers per value, per local month, questionnaire version, agency (where the response was
recorded) and service. ``scores``: per scope (element code or OVERALL), the number of respondents
with a score and the sums of their scores and squared scores (see ``analysis.scores``). The database
keeps the same two frames up to date as responses arrive; ``normalize_counts``/``normalize_scores``
give any producer the canonical columns, dtypes and order, so both paths compare equal.

An answer counts when its item belongs to the questionnaire version (criterion, priority or
background question) and its value is on the item's scale; anything else is ignored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.periods import LOCAL_TZ, local_period
from analysis.scores import respondent_score_frame
from questionnaires import Catalog

GROUP_COLUMNS = ["period", "questionnaire", "version", "agency_code", "service_code"]
COUNT_COLUMNS = [*GROUP_COLUMNS, "item_code", "value", "count"]
SCORE_COLUMNS = [*GROUP_COLUMNS, "scope", "n", "sum_y", "sum_y2"]
_DTYPES = {
    "period": object,
    "questionnaire": object,
    "version": "int64",
    "agency_code": object,
    "service_code": object,
    "item_code": object,
    "value": "int64",
    "count": "int64",
    "scope": object,
    "n": "int64",
    "sum_y": "float64",
    "sum_y2": "float64",
}


def _normalize(frame: pd.DataFrame, columns: list[str], keys: list[str]) -> pd.DataFrame:
    out = frame.reindex(columns=columns)
    out = out.assign(service_code=out["service_code"].astype(object).where(out["service_code"].notna(), ""))
    out = out.astype({c: _DTYPES[c] for c in columns})
    # As sort_values(keys, kind="stable"), blanks last, but one lexsort of codes in each key's order:
    # pandas' own multi-key sort costs several times more on text keys.
    codes = [pd.factorize(out[k], sort=True, use_na_sentinel=False)[0] for k in keys]
    return out.take(np.lexsort(codes[::-1])).reset_index(drop=True)


def normalize_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a counts frame the canonical COUNT_COLUMNS, dtypes (int64/object) and sort order."""
    return _normalize(frame, COUNT_COLUMNS, COUNT_COLUMNS[:-1])


def normalize_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a scores frame the canonical SCORE_COLUMNS, dtypes (int64/float64/object) and sort order."""
    return _normalize(frame, SCORE_COLUMNS, SCORE_COLUMNS[:6])


def valid_answers(catalog: Catalog) -> pd.DataFrame:
    """List every (questionnaire, version, item_code, value) that counts as an answer."""
    rows = [
        (d.id, d.version, item.code, value, item.kind)
        for d in catalog
        for item in d.items
        for value in item.scale.values
    ]
    frame = pd.DataFrame(rows, columns=["questionnaire", "version", "item_code", "value", "kind"])
    return frame.astype(
        {"questionnaire": object, "version": "int64", "item_code": object, "value": "int64", "kind": object}
    )


def _answers(tidy: pd.DataFrame, catalog: Catalog, tz: str) -> pd.DataFrame:
    """Return the valid answers of a tidy frame with their local period and service ("" when none)."""
    frame = tidy[tidy["value"].notna()]
    frame = pd.DataFrame(
        {
            "response_id": frame["response_id"].astype("int64"),
            "period": local_period(frame["submitted_at"], tz),
            "questionnaire": frame["questionnaire"].astype(object),
            "version": frame["version"].astype("int64"),
            "agency_code": frame["agency_code"].astype(object),
            "service_code": frame["service_code"].astype(object).where(frame["service_code"].notna(), ""),
            "item_code": frame["item_code"].astype(object),
            "value": frame["value"].astype("int64"),
        }
    )
    valid = valid_answers(catalog).drop(columns="kind")
    return frame.merge(valid, on=["questionnaire", "version", "item_code", "value"])


def _score_sums(answers: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Sum respondent scores per group and scope, one questionnaire version at a time."""
    parts = []
    for (qid, version), rows in answers.groupby(["questionnaire", "version"], sort=True):
        scored = respondent_score_frame(catalog.get(qid, int(version)), rows)
        keys = rows[["response_id", *GROUP_COLUMNS]].drop_duplicates("response_id")
        parts.append(scored.merge(keys, on="response_id").assign(y2=lambda f: f["y"] ** 2))
    if not parts:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    scored = pd.concat(parts, ignore_index=True)
    sums = scored.groupby([*GROUP_COLUMNS, "scope"], sort=True).agg(
        n=("y", "size"), sum_y=("y", "sum"), sum_y2=("y2", "sum")
    )
    return sums.reset_index()


def count_answers(tidy: pd.DataFrame, catalog: Catalog, tz: str = LOCAL_TZ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count a tidy frame of answers into the counts and scores frames (COUNT_COLUMNS, SCORE_COLUMNS)."""
    answers = _answers(tidy, catalog, tz)
    counts = answers.groupby([*GROUP_COLUMNS, "item_code", "value"], sort=True).size().rename("count").reset_index()
    return normalize_counts(counts), normalize_scores(_score_sums(answers, catalog))
