"""Reading a citizen's submission: the quick path for plainly valid forms never disagrees with the form."""

from __future__ import annotations

import pytest
from flask_wtf.csrf import generate_csrf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from questionnaires import load_catalog
from survey.web.citizen import forms
from tests.helpers import fresh_database_url

CATALOG = load_catalog()
KEY = "k" * 22


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path, sqlite_template):
    """No database is written: SQLite only."""
    return fresh_database_url(request, tmp_path, sqlite_template)


def by_the_form(definition, data: MultiDict) -> forms.Posted | None:
    """What the WTForms form alone decides (None: invalid)."""
    form = forms.bind(definition, "vi", data)
    if not form.validate():
        return None
    comment = (form.comment.data or "").strip() if "comment" in form else None
    return forms.Posted(form.submission_key.data, form.answers(), comment)


def item_values(item) -> st.SearchStrategy[list[str]]:
    """Zero, one or two values for an item: offered ones, near misses and nonsense."""
    offered = ["", *(str(v) for v in item.scale.values)]
    if item.kind != "background":
        offered.append(forms.NO_OPINION)
    odd = st.sampled_from([" 4", "4 ", "9", "0", "-1", "4.0", "na ", "NA", "\x00", "٤", "४"])
    one = st.one_of(st.sampled_from(offered), odd, st.text(max_size=3))
    return st.lists(one, max_size=2)


@st.composite
def submissions(draw, definition) -> MultiDict:
    pairs: list[tuple[str, str]] = []
    for item in definition.items:
        pairs += [(item.code, v) for v in draw(item_values(item))]
    key = draw(st.sampled_from([KEY, "", "short", KEY + "\n", "k" * 65, "bad key!" * 3]))
    pairs += [("submission_key", key)] * draw(st.sampled_from([1, 1, 1, 0, 2]))
    if draw(st.booleans()):
        comment = st.one_of(st.sampled_from(["", "  ", "Tốt", "\x0b", "a\x00b", "x" * 1001]), st.text(max_size=30))
        pairs.append(("comment", draw(comment)))
    pairs += [(forms.HONEYPOT, v) for v in draw(st.lists(st.sampled_from(["", "http://spam"]), max_size=2))]
    pairs += [(name, "1") for name in draw(st.lists(st.sampled_from(["extra", "csrf_token", "TC9"]), max_size=1))]
    return MultiDict(draw(st.permutations(pairs)))


@pytest.mark.parametrize("qid", ["sipas", "quay-nhanh", "tt01"])
def test_quick_path_agrees_with_the_form(make_app, qid):
    app = make_app(WTF_CSRF_ENABLED=False)
    definition = CATALOG.get(qid)
    quick_taken = []

    @settings(
        max_examples=250, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(data=submissions(definition))
    def check(data):
        with app.test_request_context("/", method="POST"):
            quick = forms._plainly_valid(definition, "vi", data, ())
            if quick is not None:
                quick_taken.append(quick)
                assert quick == by_the_form(definition, data), data
            read = forms.read(definition, "vi", data)
            expected = by_the_form(definition, data)
            assert (read if isinstance(read, forms.Posted) else None) == expected, data

    check()
    assert quick_taken, "no generated submission took the quick path"


def test_a_complete_answer_takes_the_quick_path_and_a_bad_csrf_token_does_not(make_app):
    app = make_app()
    definition = CATALOG.get("sipas")
    answers = [(c.code, "4") for c in definition.criteria] + [("UT1", "na")]
    with app.test_request_context("/", method="POST"):
        token = generate_csrf()
        good = MultiDict([("csrf_token", token), ("submission_key", KEY), *answers, ("comment", " Tốt ")])
        posted = forms._plainly_valid(definition, "vi", good, ())
        assert posted == forms.Posted(KEY, {c.code: 4 for c in definition.criteria}, "Tốt")
        for bad in ("", token[:-2] + "xx"):
            data = MultiDict([("csrf_token", bad), ("submission_key", KEY), *answers])
            assert forms._plainly_valid(definition, "vi", data, ()) is None
            read = forms.read(definition, "vi", data)
            assert isinstance(read, forms.CitizenForm) and read.csrf_token.errors
        files = MultiDict([("photo", object())])
        assert forms._plainly_valid(definition, "vi", good, files) is None
