"""Respondent-level scores: the share of a respondent's answered criteria that are satisfied.

They give the element and overall indices their standard errors (see README, "Method"). The same
rule serves the database, which sums these scores as responses arrive, and the pure pandas path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from analysis.codes import OVERALL
from questionnaires import Definition

if TYPE_CHECKING:
    import pandas as pd


def respondent_scores(definition: Definition, answers: Mapping[str, int]) -> dict[str, float]:
    """Score one response: per element answered, and OVERALL as the mean of those element scores."""
    scores = {}
    for element in definition.elements:
        satisfied, answered, hits = element.criteria[0].scale.satisfied, 0, 0
        for c in element.criteria:
            if (value := answers.get(c.code)) in c.scale.values:
                answered += 1
                hits += value in satisfied
        if answered:
            scores[element.code] = hits / answered
    if scores:
        scores[OVERALL] = sum(scores.values()) / len(scores)
    return scores


def respondent_score_frame(definition: Definition, answers: pd.DataFrame) -> pd.DataFrame:
    """Score many responses of one questionnaire version: columns response_id, scope, y.

    ``answers`` holds one row per answered item (columns response_id, item_code, value); items that
    are not criteria of the definition, or values off their scale, are ignored.
    """
    import pandas as pd  # respondent_scores, which the database path uses on every response, needs none

    criteria = pd.DataFrame(
        [(c.code, c.element, v, v in c.scale.satisfied) for c in definition.criteria for v in c.scale.values],
        columns=["item_code", "scope", "value", "satisfied"],
    )
    rows = answers[["response_id", "item_code", "value"]].merge(criteria, on=["item_code", "value"])
    by_element = rows.groupby(["response_id", "scope"], sort=True)["satisfied"].mean().rename("y").reset_index()
    overall = by_element.groupby("response_id", sort=True)["y"].mean().reset_index().assign(scope=OVERALL)
    frame = pd.concat([by_element, overall[["response_id", "scope", "y"]]], ignore_index=True)
    return frame.sort_values(["response_id", "scope"], ignore_index=True)
