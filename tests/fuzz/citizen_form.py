"""The citizen's form as the fuzz sees it: its messages, the fields a rendered page holds, and the two
encodings a browser posts it in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from tests.fuzz.common import CATALOG
from tests.helpers import hidden_fields

NOT_SENT = "Câu trả lời chưa được gửi"
BAD_CHOICE = "Vui lòng chọn một trong các mức đã cho"
NO_RATING = "Vui lòng đánh giá ít nhất một nội dung"
UNEXPECTED = "Biểu mẫu được gửi kèm nội dung không hợp lệ"
CSRF = "Trang này đã mở quá lâu"
DAMAGED = "Biểu mẫu bị lỗi"
HONEYPOT = "Trường này phải để trống"
CONTROL_IN_COMMENT = "Vui lòng xoá các ký tự đặc biệt"
PAGES = {
    404: "Vui lòng quét lại mã QR",
    410: "Đường dẫn khảo sát này không còn sử dụng được",
    413: "Nội dung gửi quá lớn",
}
BOUNDARY = "fuzz-boundary-5f0c2e8d41a7"
RADIO = re.compile(r'<input type="radio" name="([^"]+)" value="([^"]*)"')
SELECT = re.compile(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option[^>]*value="([^"]*)"')


def too_long(n: int) -> str:
    return f"Vui lòng viết ý kiến không quá {n} ký tự"


@dataclass(frozen=True, eq=False)  # hashed by identity: its strategies are cached
class Form:
    """What a rendered citizen form holds: where it posts, its CSRF token, its fields and their choices."""

    path: str
    csrf: str
    choices: dict[str, list[str]]  # every radio group and select, with the values it offers
    radios: frozenset[str]
    criteria: tuple[str, ...]  # at least one of these must be rated
    comment_max: int
    fields: frozenset[str]


def read_form(client, path: str, questionnaire: str) -> Form:
    page = client.get(path)
    assert page.status_code == 200
    html = page.text
    choices: dict[str, list[str]] = {}
    for name, value in RADIO.findall(html):
        choices.setdefault(name, []).append(value)
    radios = frozenset(choices)
    for name, options in SELECT.findall(html):
        choices[name] = OPTION.findall(options)
    definition = CATALOG.get(questionnaire)
    assert set(choices) == {item.code for item in definition.items}, "the parser sees every item of the form"
    hidden = hidden_fields(html)
    assert set(hidden) == {"csrf_token", "submission_key"} and 'name="website"' in html and 'name="comment"' in html
    return Form(
        path,
        hidden["csrf_token"],
        choices,
        radios,
        tuple(c.code for c in definition.criteria),
        definition.comment_max_length,
        # "confirmed": not on the page, sent by the confirmation of a nearly empty form; a known field.
        frozenset({*hidden, "website", "comment", "confirmed", *choices}),
    )


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def urlencoded(pairs) -> bytes:
    return b"&".join(quote(_b(n), safe="").encode() + b"=" + quote(_b(v), safe="").encode() for n, v in pairs)


def multipart(pairs) -> bytes:
    """Every part a plain field (a file part is refused too: see the B10 regression test)."""
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (BOUNDARY.encode(), _b(n), _b(v))
        for n, v in pairs
    ]
    return b"".join(parts) + b"--%s--\r\n" % BOUNDARY.encode()


FORM = "application/x-www-form-urlencoded"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
