"""What every fuzz module shares: the settings, the rows to compare, the paths and the hostile text."""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from questionnaires import load_catalog
from survey.config import DEFAULTS
from survey.models import Answer, AnswerCount, Interaction, Response, ScoreSum

CATALOG = load_catalog()
MAX_CONTENT_LENGTH = DEFAULTS["MAX_CONTENT_LENGTH"]
MAX_FORM_PARTS = DEFAULTS["MAX_FORM_PARTS"]
BOTH_BACKENDS = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def fuzz(examples: int):
    """Reproducible settings: the app is built once per test (nothing is written, so examples may share it)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


COUNTED = {
    m.__tablename__: select(func.count()).select_from(m) for m in (Response, Answer, AnswerCount, ScoreSum, Interaction)
}
COUNTED["used tokens"] = select(func.count()).select_from(Interaction).where(Interaction.used_at.is_not(None))
COUNT_ROWS = select(*(q.scalar_subquery() for q in COUNTED.values()))


def rows(app) -> dict[str, int]:
    """Rows of every table a response, an import or a link writes, and the tokens used: one query."""
    with app.extensions["survey.db"]["engine"].connect() as conn:
        return dict(zip(COUNTED, conn.execute(COUNT_ROWS).one(), strict=True))


# Values that must never be taken for an answer, a code or a key, and must never come back unescaped.
SQL = [
    "' OR '1'='1",
    "1; DROP TABLE responses; --",
    "5' --",
    "1 UNION SELECT key_hash FROM api_keys",
    '"; DELETE FROM answers; --',
    "5)) OR 1=1--",
    "%' AND 1=0 UNION SELECT NULL--",
]
SCRIPT = [
    "<script>alert(1)</script>",
    '"><script>alert(document.cookie)</script>',
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }}",
    "</textarea><script>alert(1)</script>",
]
PAYLOADS = st.sampled_from(SQL + SCRIPT)
# Control characters that str.strip() keeps: a form or a CSV reader cannot take them for blanks.
CONTROL = "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F]))
# Every character the form and the import refuse in a comment (survey.forms.CONTROL_CHARACTERS).
ANY_CONTROL = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))
INVALID_UTF8 = st.sampled_from(
    [b"\xff", b"\xfe\xff", b"\xc3(", b"\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf", b"\xe2\x82"]
)
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
AROUND = ["\n", "\r\n", " ", "\t", "\x00", "\u00a0"]  # near misses: a valid value with one of these before or after


def near_misses(*valid: str) -> list[str]:
    return [v + c for v in valid for c in AROUND] + [c + v for v in valid for c in AROUND]


# The valid starting points (which answers a citizen gave, in what order...) come from one drawn seed: drawing each
# of dozens of answers through Hypothesis would cost more than the request itself. The mutations are drawn.
SEEDS = st.integers(0, 2**32 - 1).map(random.Random)
HUGE = st.integers(MAX_CONTENT_LENGTH + 1, MAX_CONTENT_LENGTH + 20_000)  # sizes over the limit
VIETNAMESE = "Rất hài lòng, cảm ơn cán bộ tiếp nhận hồ sơ. Đề nghị bố trí thêm ghế chờ."


@functools.cache
def nasty(min_size: int = 1) -> st.SearchStrategy[str]:
    """Text a malformed request might carry: payloads, control characters, anything."""
    return st.one_of(
        PAYLOADS,
        st.text(st.sampled_from(CONTROL), min_size=1, max_size=5),
        st.text(st.characters(codec="utf-8"), min_size=min_size, max_size=40),
        st.integers().map(str),
    )


API_PATH = "/api/v1/interactions"
