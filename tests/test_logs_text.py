"""LOG_FORMAT=text (what ./run.sh uses): a request's line carries its fields, as the JSON line does."""

from __future__ import annotations

import io
import logging
import re

import pytest

from survey import logs

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # formatting, not storage
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


@pytest.fixture
def text_app(make_app):
    """An app configured as outside the tests (TESTING off) with LOG_FORMAT=text, and what its handler writes."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quieted = {name: logging.getLogger(name).level for name in ("werkzeug", "flask-limiter", "alembic")}
    for handler in handlers:  # configure() adds its handler once per process: let this app add its own
        if handler.get_name() == "survey.logs":
            root.removeHandler(handler)
    try:
        app = make_app(TESTING=False, LOG_FORMAT="text", LOG_LEVEL="INFO")
        (handler,) = [h for h in root.handlers if h.get_name() == "survey.logs"]
        written = io.StringIO()
        handler.setStream(written)  # read here what would go to standard error
        yield app, written
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, old in quieted.items():
            logging.getLogger(name).setLevel(old)


def request_lines(written: io.StringIO) -> list[str]:
    return [line for line in written.getvalue().splitlines() if " INFO request " in line]


@SQLITE_ONLY
def test_a_request_line_names_method_route_status_duration_bytes_and_id(text_app, counter_path):
    app, written = text_app
    response = app.test_client().get(counter_path, headers={"X-Request-ID": "lb-42"})
    assert response.status_code == 200
    (line,) = request_lines(written)
    assert re.fullmatch(rf"{TIME} INFO request GET /q/<counter_code> 200 \d+(\.\d+)? ms \d+ B id=lb-42", line), line
    assert "HK-01" not in line and "s=" not in line, "the route, never the path or the counter link's signature"


@SQLITE_ONLY
def test_a_request_without_a_route_still_has_a_whole_line(text_app):
    app, written = text_app
    assert app.test_client().get("/no/such/page").status_code == 404
    (line,) = request_lines(written)
    assert re.fullmatch(rf"{TIME} INFO request GET - 404 \d+(\.\d+)? ms (\d+ B|-) id=[0-9a-f]{{32}}", line), line


def test_other_lines_keep_their_logger_and_message():
    record = logging.LogRecord("survey.cli", logging.WARNING, __file__, 1, "seeded %d rows", (3,), None)
    assert re.fullmatch(rf"{TIME} WARNING survey.cli seeded 3 rows", logs.TextFormatter().format(record))
