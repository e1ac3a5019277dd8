"""Serving in production: security headers, compression, fingerprinted static files, proxies, logs, Redis."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import re
from pathlib import Path

import brotli
import pytest
import redis

from survey.web import serving
from tests.helpers import hidden_fields, make_interaction, send

TEMPLATES = Path(__file__).resolve().parents[2] / "survey" / "templates"


def csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_citizen_page_policy_allows_its_inline_style_by_hash_and_no_script(client, counter_path):
    page = client.get(counter_path)
    policy = csp(page)
    style = re.search(r"<style>(.*?)</style>", page.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy["style-src"]
    assert policy["default-src"] == ["'none'"], "no script, font, frame or connection source at all"
    assert "script-src" not in policy and not any("unsafe" in v for values in policy.values() for v in values)
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in page.headers, "plain HTTP: no HSTS"


@pytest.mark.parametrize("path", ["/", "/auth/login", "/api/v1/health", "/no/such/page", "/dashboard"])
def test_every_kind_of_response_has_the_headers(client, path):
    response = client.get(path)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_scripts_and_no_style_attributes():
    """The policy allows neither (but the counter screen's and the pack status page's own static scripts): one
    would break silently."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, re.S)
        if template.parent.name == "counter" or template.name == "pack_status.html":  # own static files only
            assert all(body == "" for body in scripts) and text.count("<script") == len(scripts), template
        else:
            assert "<script" not in text, template
        assert not re.search(r"\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), template


def test_staff_style_sheet_is_fingerprinted_and_cached_for_a_year(client):
    page = client.get("/auth/login")
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text).group(1)
    assert re.fullmatch(r"/static/staff\.css\?v=[0-9a-f]{12}", href)
    with client.get(href) as sheet:
        assert sheet.status_code == 200 and sheet.mimetype == "text/css"
        assert sheet.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get("/static/staff.css?v=000000000000") as stale:
        assert "immutable" not in stale.headers.get("Cache-Control", ""), "an old fingerprint is not cached long"
        assert client.get(href, headers={"If-None-Match": stale.headers["ETag"]}).status_code == 304
    assert client.get("/static/../__init__.py").status_code == 404
    assert client.get("/static/nothing.css").status_code == 404


@pytest.mark.parametrize(("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_pages_are_compressed(client, counter_path, encoding, decode):
    plain = client.get(counter_path).data
    packed = client.get(counter_path, headers={"Accept-Encoding": f"{encoding}, identity"})
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    html = decode(packed.data)
    assert len(packed.data) < len(html) / 2
    # the same page but for its fresh CSRF token and submission key
    assert re.sub(rb'value="[^"]+"', b"", html) == re.sub(rb'value="[^"]+"', b"", plain)


def test_error_pages_are_not_compressed(client, counter_path):
    """A page reflecting what was sent never shares a compressed stream with a secret (BREACH)."""
    refused = client.post(
        counter_path,
        data={**hidden_fields(client.get(counter_path).text), "TC1": "9", "comment": "reflected"},
        headers={"Accept-Encoding": "br, gzip"},
    )
    assert refused.status_code == 422 and "Content-Encoding" not in refused.headers


def test_https_behind_a_proxy(make_app, counter):
    app = make_app(BASE_URL="https://survey.test", PROXY_COUNT=1)
    client = app.test_client()
    secure = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "survey.test"}
    page = client.get("/auth/login?lang=en", headers=secure)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookies = page.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies), cookies
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers, "plain HTTP hop: no HSTS"


def test_rate_limits_key_on_the_forwarded_client_address(make_app, counter):
    from survey.domain import signing

    app = make_app(RATELIMIT_ENABLED=True, CITIZEN_POST_RATE_LIMIT="1 per minute", PROXY_COUNT=1)
    with app.app_context():
        path = signing.counter_url("HK-01").removeprefix(app.config["BASE_URL"])

    def post_from(address: str) -> int:
        client = app.test_client()
        headers = {"X-Forwarded-For": address}
        fields = hidden_fields(client.get(path, headers=headers).text)
        return client.post(path, data={**fields, "TC1": "4"}, headers=headers).status_code

    assert [post_from("203.0.113.7"), post_from("203.0.113.7"), post_from("198.51.100.2")] == [303, 429, 303]


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(make_app, counter):
    app = make_app(RATELIMIT_ENABLED=True, CITIZEN_POST_RATE_LIMIT="1 per minute")
    from survey.domain import signing

    with app.app_context():
        path = signing.counter_url("HK-01").removeprefix(app.config["BASE_URL"])
    statuses = [
        send(app.test_client(), path, {"TC1": "4"}, **{}).status_code
        if address is None
        else app.test_client().post(path, headers={"X-Forwarded-For": address}).status_code
        for address in (None, "198.51.100.9")
    ]
    assert statuses == [303, 429], "a client cannot escape the limit by sending its own X-Forwarded-For"


def test_one_json_line_per_request_without_tokens_or_addresses(app, client, counter, caplog):
    token = make_interaction(app)
    with caplog.at_level(logging.INFO, logger="survey.request"):
        response = client.get(f"/t/{token}?s=secret-looking", headers={"X-Request-ID": "lb-1234"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-1234"
    (record,) = [r for r in caplog.records if r.name == "survey.request"]
    assert (record.method, record.route, record.status, record.request_id) == ("GET", "/t/<token>", 200, "lb-1234")
    assert record.duration_ms >= 0 and record.bytes > 0
    formatted = json.loads(serving_formatter().format(record))
    assert formatted["message"] == "request" and formatted["level"] == "INFO"
    text = json.dumps(formatted)
    assert token not in text and "secret-looking" not in text and "127.0.0.1" not in text


def test_a_malformed_request_id_is_replaced(client):
    response = client.get("/api/v1/health", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def serving_formatter():
    from survey import logs

    root = logging.getLogger()
    before = list(root.handlers)
    logs.configure("INFO", "json")
    try:
        (handler,) = [h for h in root.handlers if h.get_name() == "survey.logs"]
        return handler.formatter
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)


def test_rate_limits_are_shared_between_servers_through_redis(make_app, counter, redis_url):
    """Two app servers counting in one Redis: the limit holds across them."""
    from survey.domain import signing

    settings = {
        "RATELIMIT_ENABLED": True,
        "CITIZEN_POST_RATE_LIMIT": "2 per minute",
        "RATELIMIT_STORAGE_URI": redis_url,
    }
    store = redis.Redis.from_url(redis_url)
    for key in store.scan_iter("*LIMITER/127.0.0.1/citizen.submit_counter_form/*"):  # left by an earlier run
        store.delete(key)
    store.close()
    first, second = make_app(**settings), make_app(**settings)
    with first.app_context():
        path = signing.counter_url("HK-01").removeprefix(first.config["BASE_URL"])
    statuses = [send(app.test_client(), path, {"TC1": "4"}).status_code for app in (first, second, first, second)]
    assert statuses == [303, 303, 429, 429]


def test_content_security_policy_names_each_inline_sheet():
    for name in serving.INLINE_STYLES:
        assert (serving.STATIC / name).is_file()
    assert serving.content_security_policy().count("'sha256-") == len(serving.INLINE_STYLES)
