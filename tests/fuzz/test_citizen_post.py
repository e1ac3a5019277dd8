"""Fuzz of the citizen's form: the counter's QR link and a one-time link refuse every malformed POST."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from hypothesis import assume, event, given, note
from hypothesis import strategies as st

from tests.fuzz.citizen_form import (
    BAD_CHOICE,
    BOUNDARY,
    CONTROL_IN_COMMENT,
    CSRF,
    DAMAGED,
    HONEYPOT,
    NO_RATING,
    NOT_SENT,
    PAGES,
    UNEXPECTED,
    Form,
    _b,
    multipart,
    read_form,
    too_long,
    urlencoded,
)
from tests.fuzz.common import (
    ANY_CONTROL,
    AROUND,
    CONTROL,
    HUGE,
    INVALID_UTF8,
    MAX_CONTENT_LENGTH,
    MAX_FORM_PARTS,
    PAYLOADS,
    SEEDS,
    TEXT,
    VIETNAMESE,
    fuzz,
    nasty,
    near_misses,
    rows,
)

KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


@pytest.fixture
def sipas_form(client, counter_path) -> Form:
    return read_form(client, counter_path, "sipas")


@pytest.fixture
def tt01_form(client, tokens) -> Form:
    return read_form(client, f"/t/{tokens['open']}", "tt01")


@dataclass
class Post:
    """A citizen POST being built: its fields in order, its encoding, and what the reply must show."""

    form: Form
    path: str
    encoding: str  # "urlencoded" or "multipart"
    pairs: list[list]  # [name, value], str or bytes (bytes may be invalid UTF-8)
    kept: dict[str, str]  # radio answers the reply must show checked again
    applied: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    only_error: str | None = None  # a message shown only when nothing else is wrong
    path_status: int | None = None  # 404 or 410: the link itself is refused
    reads_form_first: bool = False  # a used token: the form is read before the link is refused
    intact: bool = True  # False: the body cannot be read as this form
    body: bytes = b""
    content_type: str | None = None
    status: int = 422

    def values(self, name: str) -> list:
        return [p for p in self.pairs if p[0] == name]

    def drop(self, name: str) -> None:
        self.pairs = [p for p in self.pairs if p[0] != name]
        self.kept.pop(name, None)

    def put(self, name: str, value) -> None:
        """Set a field's value, adding the field when absent."""
        self.kept.pop(name, None)
        for pair in self.values(name):
            pair[1] = value
            return
        self.pairs.append([name, value])


@functools.cache
def field_name(encoding: str) -> st.SearchStrategy[str | bytes]:
    """A field name the form does not have (the multipart variant keeps to what fits in a quoted header)."""
    if encoding == "multipart":
        safe = string.ascii_letters + string.digits + " _.-'<>();=*%"
        return st.one_of(st.text(safe, min_size=1, max_size=30), st.sampled_from(["TC0", "tc1", "comments", "x"]))
    return st.one_of(
        nasty(min_size=0),
        st.sampled_from(["TC0", "tc1", "comments", "csrf_token ", "submission-key"]),
        st.builds(lambda b, s: b + s, TEXT.map(str.encode), INVALID_UTF8),
    )


@functools.cache
def bad_choice(values: tuple[str, ...]) -> st.SearchStrategy[str | bytes]:
    """A value the field does not offer and that is not blank (blank means "not answered")."""
    offered = set(values)
    return st.one_of(
        st.integers(-3, 12).map(str),
        st.one_of(st.integers(max_value=-1), st.integers(min_value=13)).map(str),
        st.sampled_from(
            ["4.5", "1.0", "5e0", "0x5", "+5", "05", "٥", "５", "NA", "n/a", "true", "[]", *near_misses(*values)]
        ),
        nasty(),
        st.integers(2, 4000).map(lambda n: "5" * n),
        st.builds(lambda b, s: b + s, TEXT.map(str.encode), INVALID_UTF8),
    ).filter(lambda v: isinstance(v, bytes) or (v.strip() and v not in offered))


@functools.cache
def bad_submission_key() -> st.SearchStrategy[str | bytes]:
    valid = st.text(KEY_ALPHABET, min_size=16, max_size=64)
    return st.one_of(
        st.text(KEY_ALPHABET, max_size=15),
        st.text(KEY_ALPHABET, min_size=65, max_size=120),
        st.builds(
            lambda k, i, c: k[:i] + c + k[i:],
            valid,
            st.integers(0, 64),
            st.one_of(PAYLOADS, st.characters(codec="utf-8").filter(lambda c: c not in KEY_ALPHABET)),
        ),
        st.builds(lambda b, s: b + s, valid.map(str.encode), INVALID_UTF8),
        st.builds(lambda k, c: k + c, valid, st.sampled_from(AROUND)),
        PAYLOADS,
    )


@functools.cache
def bad_csrf(real: str) -> st.SearchStrategy[str | bytes]:
    """A token other than the page's: never one itsdangerous could read as the real one (see the report)."""
    middle = len(real) // 2
    return st.one_of(
        st.just(""),
        st.integers(1, len(real)).map(lambda n: real[:-n]),
        st.sampled_from(KEY_ALPHABET)
        .filter(lambda c: c != real[middle])
        .map(lambda c: real[:middle] + c + real[middle + 1 :]),
        nasty(),
        st.builds(lambda b, s: b + s, TEXT.map(str.encode), INVALID_UTF8),
    )


BLANKS = st.sampled_from([None, "na", "", " ", "\t"])
HONEYPOT_VALUES = st.one_of(st.just("http://spam.example"), st.just(" "), nasty())
COMMENT_UNITS = st.sampled_from(["x", "ế", "😀", VIETNAMESE])
COMMENT_STARTS = st.sampled_from(["", "Tốt", VIETNAMESE])
CONTROL_TEXT = st.text(st.sampled_from(CONTROL), min_size=1, max_size=3)
UNKNOWN_FIELD_VALUES = st.one_of(nasty(min_size=0), st.sampled_from(["1", "5", "na"]))


@functools.cache
def some_fields(form: Form) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(sorted(form.choices)), min_size=1, max_size=3, unique=True)


@functools.cache
def unknown_field(form: Form, encoding: str) -> st.SearchStrategy[str | bytes]:
    return field_name(encoding).filter(lambda n: n not in form.fields)


@functools.cache
def comment_sizes(limit: int) -> st.SearchStrategy[int]:
    return st.integers(limit + 1, limit + 3000) | st.integers(1, 60_000).map(lambda n: limit + n)


def m_no_rating(draw, post: Post) -> None:
    for code in post.form.criteria:
        post.drop(code)
        blank = draw(BLANKS)
        if blank is not None and code in post.form.radios:
            post.pairs.append([code, blank])
    post.only_error = NO_RATING


def m_missing_csrf(draw, post: Post) -> None:
    post.drop("csrf_token")
    post.messages.append(CSRF)


def m_missing_key(draw, post: Post) -> None:
    post.drop("submission_key")
    post.messages.append(DAMAGED)


def m_bad_value(draw, post: Post) -> None:
    for name in draw(some_fields(post.form)):
        post.put(name, draw(bad_choice(tuple(post.form.choices[name]))))
    post.messages.append(BAD_CHOICE)


def m_bad_csrf(draw, post: Post) -> None:
    post.put("csrf_token", draw(bad_csrf(post.form.csrf)))
    post.messages.append(CSRF)


def m_bad_key(draw, post: Post) -> None:
    post.put("submission_key", draw(bad_submission_key()))
    post.messages.append(DAMAGED)


def m_honeypot(draw, post: Post) -> None:
    post.put("website", draw(HONEYPOT_VALUES))
    post.messages.append(HONEYPOT)


def m_long_comment(draw, post: Post) -> None:
    """A comment over the limit (under MAX_CONTENT_LENGTH, else the whole request is refused: 413)."""
    size, unit = draw(comment_sizes(post.form.comment_max)), draw(COMMENT_UNITS)
    post.put("comment", (unit * size)[:size])
    post.messages.append(too_long(post.form.comment_max))


def m_control_comment(draw, post: Post) -> None:
    """A control character that is no whitespace: the comment is neither blank nor plain text."""
    old = [p[1] for p in post.values("comment") if isinstance(p[1], str)]
    text = old[0] if old else draw(COMMENT_STARTS)
    at = draw(st.integers(0, len(text)))
    post.put("comment", text[:at] + draw(CONTROL_TEXT) + text[at:])
    post.messages.append(CONTROL_IN_COMMENT)


def m_unknown_field(draw, post: Post) -> None:
    for _ in range(draw(st.integers(1, 3))):
        name = draw(unknown_field(post.form, post.encoding))
        at = draw(st.integers(0, len(post.pairs)))
        post.pairs.insert(at, [name, draw(UNKNOWN_FIELD_VALUES)])
    post.messages.append(UNEXPECTED)


def m_repeated_field(draw, post: Post) -> None:
    name = draw(st.sampled_from(list(dict.fromkeys(p[0] for p in post.pairs))))
    first = post.values(name)[0][1]
    again = draw(st.sampled_from([first, *post.form.choices.get(name, [])]))
    post.pairs.insert(draw(st.integers(0, len(post.pairs))), [name, again])
    if post.values(name)[0][1] != first:
        post.kept.pop(name, None)  # the first value is the one read
    post.messages.append(UNEXPECTED)


# Applied in this order, so that no mutation undoes another (a removal before a repetition...).
FIELD_MUTATIONS = {
    "no_rating": m_no_rating,
    "missing_csrf": m_missing_csrf,
    "missing_key": m_missing_key,
    "bad_value": m_bad_value,
    "bad_csrf": m_bad_csrf,
    "bad_key": m_bad_key,
    "honeypot": m_honeypot,
    "long_comment": m_long_comment,
    "control_comment": m_control_comment,
    "unknown_field": m_unknown_field,
    "repeated_field": m_repeated_field,
}


def b_many_fields(draw, post: Post) -> None:
    """More fields than MAX_FORM_PARTS: multipart is refused whole (413), urlencoded field by field (422)."""
    for i in range(draw(st.integers(MAX_FORM_PARTS + 1, MAX_FORM_PARTS + 300)) - len(post.pairs)):
        post.pairs.append([f"extra{i}", str(i % 7)])
    post.messages.append(UNEXPECTED)


def b_huge_body(draw, post: Post) -> None:
    """One field alone over MAX_CONTENT_LENGTH: a comment, an answer or an unknown field."""
    size = draw(HUGE)
    where = draw(st.sampled_from(["comment", "TC1" if "TC1" in post.form.choices else post.form.criteria[0], "zz"]))
    post.put(where, "9" * size)


def b_corrupt(draw, post: Post) -> None:
    """A body no longer readable as this form: the form arrives empty (no CSRF token) or truncated."""
    post.intact = False
    post.messages = [CSRF]
    post.only_error = None
    how = draw(
        st.sampled_from(["content_type", "raw_bytes" if post.encoding == "urlencoded" else "truncate", "boundary"])
    )
    body, _ = encode(post)
    post.applied.append(how)
    if how == "content_type":
        post.content_type = draw(
            st.sampled_from(
                [
                    None,
                    "text/plain",
                    "application/json",
                    "application/x-url-encoded",
                    "multipart/form-data",
                    "text/html; charset=utf-8",
                    "*/*",
                ]
            )
        )
        post.body = body
    elif how == "raw_bytes":  # unescaped invalid UTF-8: the whole urlencoded body is dropped
        at = draw(st.integers(0, len(body)))
        post.body, post.content_type = body[:at] + draw(INVALID_UTF8) + body[at:], "application/x-www-form-urlencoded"
    elif how == "boundary":
        post.body = body
        post.content_type = draw(
            st.sampled_from(
                [
                    "multipart/form-data; boundary=another-boundary",
                    "multipart/form-data; boundary=",
                    "multipart/form-data",
                    "application/x-www-form-urlencoded; boundary=" + BOUNDARY,
                ]
            )
        )
        if post.encoding == "urlencoded" and post.content_type.startswith("application/"):
            post.content_type = "multipart/form-data; boundary=" + BOUNDARY  # urlencoded text read as multipart
    else:  # cut the body inside the CSRF token's value, or anywhere when it has none
        marker = b'name="csrf_token"\r\n\r\n'
        start = body.find(marker)
        value = post.values("csrf_token")[0][1] if start >= 0 else b""
        low = start + len(marker) if start >= 0 else 0
        high = low + len(_b(value)) - 1 if start >= 0 else len(body) - 1
        post.body = body[: draw(st.integers(low, max(low, high)))]
        post.content_type = "multipart/form-data; boundary=" + BOUNDARY


BODY_MUTATIONS = {"many_fields": b_many_fields, "huge_body": b_huge_body, "corrupt_body": b_corrupt}
BODY_CHOICE = st.sampled_from((None,) * 5 + tuple(BODY_MUTATIONS))
SOME_FIELD_MUTATIONS = st.lists(st.sampled_from(list(FIELD_MUTATIONS)), max_size=3, unique=True)
FIELD_MUTATION_LISTS = st.lists(st.sampled_from(list(FIELD_MUTATIONS)), min_size=1, max_size=3, unique=True)


def encode(post: Post) -> tuple[bytes, str]:
    if post.encoding == "urlencoded":
        return urlencoded(post.pairs), "application/x-www-form-urlencoded"
    return multipart(post.pairs), f"multipart/form-data; boundary={BOUNDARY}"


VALID_KEY = st.text(KEY_ALPHABET, min_size=16, max_size=64)
VALID_COMMENT = st.one_of(
    PAYLOADS, st.just(VIETNAMESE), st.text(st.characters(codec="utf-8", exclude_characters=ANY_CONTROL), max_size=200)
)


@st.composite
def valid_submission(draw, form: Form) -> Post:
    """What a citizen's browser sends: the page's hidden fields, some answers, perhaps a comment."""
    encoding = draw(st.sampled_from(["urlencoded", "multipart"]))
    rng = draw(SEEDS)
    answers = {k: v for k, values in form.choices.items() if (v := rng.choice([None, *values])) is not None}
    if not any(answers.get(c, "na") not in ("na", "") for c in form.criteria):
        code = rng.choice(form.criteria)
        answers[code] = rng.choice([v for v in form.choices[code] if v not in ("na", "")])
    comment = draw(st.none() | VALID_COMMENT)
    pairs = [
        ["csrf_token", form.csrf],
        ["submission_key", draw(VALID_KEY)],
        ["website", ""],
        *([k, v] for k, v in answers.items()),
    ]
    if comment is not None:
        pairs.append(["comment", comment])
    rng.shuffle(pairs)
    kept = {k: v for k, v in answers.items() if k in form.radios}
    return Post(form, form.path, encoding, pairs, kept)


@st.composite
def malformed_posts(draw, form: Form, links: dict[str, tuple[str, int]]) -> Post:
    """A valid submission with at least one invalidating mutation: of the link, of the body or of the fields."""
    post = draw(valid_submission(form))
    link = draw(st.sampled_from((None,) * 4 + tuple(links)))
    body = draw(BODY_CHOICE)
    chosen = draw(SOME_FIELD_MUTATIONS if link or body else FIELD_MUTATION_LISTS)
    if link:
        make, post.path_status = links[link]
        post.path = draw(make) if isinstance(make, st.SearchStrategy) else make
        post.reads_form_first = link == "used_token"
        post.applied.append(link)
    for name in sorted(chosen, key=list(FIELD_MUTATIONS).index):
        FIELD_MUTATIONS[name](draw, post)
        post.applied.append(name)
    if body:
        post.applied.append(body)
        BODY_MUTATIONS[body](draw, post)
    if post.intact:
        post.body, post.content_type = encode(post)
        if post.encoding == "multipart":  # a value holding the delimiter would split its part
            assume(post.body.count(b"--" + BOUNDARY.encode()) == len(post.pairs) + 1)
    post.status = expected_status(post)
    return post


def expected_status(post: Post) -> int:
    if post.path_status and not post.reads_form_first:
        return post.path_status  # the link is refused before the body is read
    too_many_parts = post.intact and post.encoding == "multipart" and len(post.pairs) > MAX_FORM_PARTS
    if len(post.body) > MAX_CONTENT_LENGTH or too_many_parts:  # whatever the content type
        return 413
    return post.path_status or 422


def check_citizen_reply(app, client, post: Post) -> None:
    note(
        f"mutations: {post.applied}; path {post.path!r}; content type {post.content_type!r}; "
        f"{len(post.body)} bytes: {post.body[:300]!r}"
    )
    event(f"status {post.status}")
    for name in post.applied:
        event(name)
    before = rows(app)
    reply = client.open(post.path, method="POST", data=post.body, content_type=post.content_type)
    assert reply.status_code == post.status, reply.text[:2000]
    assert rows(app) == before, "nothing is written for a malformed submission"
    html = reply.text
    assert reply.mimetype == "text/html" and '<html lang="vi">' in html
    assert "<script" not in html.lower(), "nothing sent comes back as markup"
    if reply.status_code != 422:
        assert PAGES[reply.status_code] in html
        return
    expected = post.messages or [post.only_error]
    assert NOT_SENT in html
    for message in expected:
        assert message in html, message
    if post.intact:
        for name, value in post.kept.items():
            assert re.search(rf'name="{name}" value="{re.escape(value)}" checked', html), f"{name}={value} kept"


@functools.cache
def counter_links(form: Form) -> dict:
    path, signature = form.path.split("?s=")
    code = path.removeprefix("/q/")
    return {
        "no_signature": (path, 404),
        "wrong_signature": (
            st.one_of(
                st.text(st.characters(), max_size=30),
                st.sampled_from(list(near_misses(signature))),
            )
            .filter(lambda s: s != signature)
            .map(lambda s: f"{path}?s={quote(s, safe='')}"),
            404,
        ),
        "other_counter": (
            st.one_of(nasty(), st.sampled_from(["HK-02", "hk-01", "HK-01/", "..", "%", *near_misses(code)]))
            .filter(lambda c: c != code)
            .map(lambda c: f"/q/{quote(c, safe='')}?s={signature}"),
            404,
        ),
    }


@functools.cache
def token_links(open_token: str, expired: str, used: str) -> dict:
    tokens = {"open": open_token, "expired": expired, "used": used}
    return {
        "unknown_token": (
            st.one_of(
                nasty(), st.sampled_from([tokens["open"][:-1], tokens["open"] + "x", *near_misses(tokens["open"])])
            )
            .filter(lambda t: t not in tokens.values())
            .map(lambda t: f"/t/{quote(t, safe='')}"),
            404,
        ),
        "expired_token": (f"/t/{tokens['expired']}", 410),
        "used_token": (f"/t/{tokens['used']}", 410),
    }


@fuzz(450)
@given(data=st.data())
def test_fuzz_counter_form(app, client, sipas_form, data):
    """The counter's QR link (/q/<code>?s=…, the SIPAS form) refuses every malformed submission."""
    check_citizen_reply(app, client, data.draw(malformed_posts(sipas_form, counter_links(sipas_form))))


@fuzz(300)
@given(data=st.data())
def test_fuzz_one_time_link(app, client, tokens, tt01_form, data):
    """A one-time link (/t/<token>, the tt01 form) refuses every malformed submission, and stays open."""
    check_citizen_reply(
        app,
        client,
        data.draw(malformed_posts(tt01_form, token_links(tokens["open"], tokens["expired"], tokens["used"]))),
    )
