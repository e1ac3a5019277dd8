"""Network and limits: shared rate limits, per-key API budgets, staff pages kept out of caches,
query strings kept out of built links, and X-Forwarded-* trusted from the configured proxies only.

Each test tries an attack of the "Security and privacy" review again (findings 4, 7, 8 and 11).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from flask import Flask

from survey import config, db
from survey.domain import accounts
from survey.extensions import limiter, per_worker_limits
from survey.web import serving
from tests.helpers import PASSWORD, REDIS_URL, login, make_key, this_month

ROOT = Path(__file__).resolve().parent.parent.parent
# What is tried here does not depend on the database: SQLite only, to spare the second run.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FORGED = ("?_method=PUT", "?_external=1&_scheme=javascript", "?_anchor=x")


def health_from(app, peer: str, headers: dict | None = None) -> int:
    """The status of GET /api/v1/health sent from the peer address (REMOTE_ADDR) with these headers."""
    client = app.test_client()
    return client.get("/api/v1/health", headers=headers or {}, environ_base={"REMOTE_ADDR": peer}).status_code


# --- 4. Rate limits per worker ---------------------------------------------------------------------


@SQLITE
def test_several_workers_counting_in_memory_are_refused(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    refusal = per_worker_limits(app, 8)
    assert refusal and all(name in refusal for name in ("REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_PER_WORKER"))
    assert per_worker_limits(app, 1) is None, "one process (flask run, one worker) counts everything itself"
    assert per_worker_limits(make_app(RATELIMIT_ENABLED=False), 8) is None, "no limits: nothing counted apart"


@SQLITE
def test_with_redis_url_the_limits_count_in_redis(make_app):
    shared = make_app(RATELIMIT_ENABLED=True, REDIS_URL=REDIS_URL)
    assert shared.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    assert per_worker_limits(shared, 8) is None
    chosen = make_app(RATELIMIT_ENABLED=True, REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI="memory://")
    assert chosen.config["RATELIMIT_STORAGE_URI"] == "memory://", "an explicit storage is kept"
    assert per_worker_limits(chosen, 8) is not None


def gunicorn(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Run the production command with the given environment until it stops (or 60 s)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "RATELIMIT_", "REDIS_"))}
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
        "SECRET_KEY": "refusal-test",
        "BIND": "127.0.0.1:0",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env={**clean, **settings},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gunicorn_refuses_to_start_several_workers_without_shared_limits(tmp_path):
    done = gunicorn(tmp_path, WEB_CONCURRENCY="2")
    assert done.returncode == 1, done.stderr
    assert "RATELIMIT_STORAGE_URI=memory://" in done.stderr and "REDIS_URL" in done.stderr
    assert "RATELIMIT_PER_WORKER=accept" in done.stderr
    assert "Booting worker" not in done.stderr, "refused before any worker started"


@SQLITE
def test_limits_are_shared_by_two_apps_through_redis(make_app, redis_url, monkeypatch):
    """Ten wrong passwords in all, through two app instances: the eleventh, on either, is refused."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(limiter, "_key_prefix", limiter._key_prefix)  # the first app's prefix sticks
    settings = {"RATELIMIT_ENABLED": True, "REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": prefix}
    first = make_app(**settings)
    with first.app_context():
        accounts.create_user(db.session(), "admin@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()

    def wrong(app) -> int:
        return login(app.test_client(), "admin@hanoi.gov.vn", "wrong password!").status_code

    try:
        statuses = [wrong(first) for _ in range(5)]
        second = make_app(**settings)  # a new app and a new storage, as in another worker
        statuses += [wrong(second) for _ in range(5)]
        statuses += [wrong(first), wrong(second)]
        store = redis.Redis.from_url(redis_url)
        assert list(store.scan_iter(f"*{prefix}*")), "the counters are in Redis"
    finally:
        store = redis.Redis.from_url(redis_url)
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)
        store.close()
    assert statuses == [401] * 10 + [429, 429]


@SQLITE
def test_without_shared_storage_a_new_worker_counts_from_zero(make_app, monkeypatch):
    """The control of the test above: memory:// storage forgets what the other instance counted."""
    monkeypatch.setattr(limiter, "_key_prefix", limiter._key_prefix)
    first = make_app(RATELIMIT_ENABLED=True)
    with first.app_context():
        accounts.create_user(db.session(), "admin@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()
    for _ in range(10):
        login(first.test_client(), "admin@hanoi.gov.vn", "wrong password!")
    second = make_app(RATELIMIT_ENABLED=True)
    assert login(second.test_client(), "admin@hanoi.gov.vn", "wrong password!").status_code == 401


@SQLITE
def test_random_bearer_strings_do_not_escape_the_address_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    key = make_key(app)
    headers = [{"Authorization": f"Bearer ksq_{secrets.token_hex(16)}"} for _ in range(4)]
    statuses = [health_from(app, "198.51.100.4", h) for h in headers]
    assert statuses == [200, 200, 200, 429], "each invented key counted against the address"
    unauthorized = app.test_client().get(
        "/api/v1/satisfaction",
        headers={"Authorization": "Bearer made-up"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert unauthorized.status_code == 429
    assert health_from(app, "198.51.100.4", {"Authorization": f"Bearer {key}"}) == 200, "a real key has its own"


@SQLITE
def test_two_keys_from_one_address_have_separate_budgets(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    first, second = make_key(app, "a"), make_key(app, "b")
    as_first = [health_from(app, "203.0.113.9", {"Authorization": f"Bearer {first}"}) for _ in range(3)]
    as_second = [health_from(app, "203.0.113.9", {"Authorization": f"Bearer {second}"}) for _ in range(2)]
    assert as_first == [200, 200, 429] and as_second == [200, 200]


@SQLITE
def test_a_revoked_key_counts_against_its_address(make_app):
    from survey.domain import api_keys
    from survey.models import ApiKey, utcnow

    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute")
    key = make_key(app)
    with app.app_context():
        db.session().get(ApiKey, api_keys.find_key(db.session(), key).id).revoked_at = utcnow()
        db.session().commit()
    assert health_from(app, "192.0.2.5", {"Authorization": f"Bearer {key}"}) == 200
    assert health_from(app, "192.0.2.5") == 429


# --- 7. Staff pages kept by browsers ---------------------------------------------------------------


@pytest.fixture
def demo(app):
    from survey.transfer.demo import seed_demo

    with app.app_context():
        seed_demo(db.session(), months=1, per_month=30, seed=3)
        accounts.create_user(db.session(), "admin@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()
    return app


def admin_client(app):
    client = app.test_client()
    assert login(client, "admin@hanoi.gov.vn").status_code == 303
    return client


def a_counter_path(app) -> tuple[str, str]:
    """A demo counter's code and the path of its citizen page (with its signature)."""
    from sqlalchemy import select

    from survey.domain import signing
    from survey.models import Counter

    with app.app_context():
        code = db.session().scalar(select(Counter.code).order_by(Counter.code))
    with app.test_request_context():
        return code, signing.counter_url(code).removeprefix(app.config["BASE_URL"])


@SQLITE
def test_staff_responses_are_not_stored(demo):
    client = admin_client(demo)
    code, _ = a_counter_path(demo)
    key = make_key(demo)
    paths = [
        "/",
        "/dashboard",
        "/admin/counters",
        "/admin/audit.csv",  # a download: send_file's own no-cache becomes no-store
        f"/counter/{code}",
        "/auth/password",
        "/api/v1/openapi.json",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    api = client.get(f"/api/v1/satisfaction?month={this_month()}", headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"
    login_page = demo.test_client().get("/auth/login")
    assert login_page.headers["Cache-Control"] == "no-store"
    refused = demo.test_client().get("/dashboard")  # to the login page: the redirect is not kept either
    assert refused.status_code == 302 and refused.headers["Cache-Control"] == "no-store"


@SQLITE
def test_charts_keep_their_revalidated_caching(demo):
    client = admin_client(demo)
    chart = client.get("/dashboard/charts/trend.svg")
    assert chart.status_code == 200 and chart.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/dashboard/charts/trend.svg", headers={"If-None-Match": chart.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "private, no-cache"


@SQLITE
def test_citizen_pages_and_static_files_keep_their_own_caching(demo):
    client = demo.test_client()
    _, path = a_counter_path(demo)
    page = client.get(path)
    assert page.status_code == 200 and "no-store" not in page.headers.get("Cache-Control", "")
    with demo.test_request_context():
        asset = serving.asset_url("staff.css")
    assert client.get(asset).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/staff.css").headers["Cache-Control"] == "no-cache"


# --- 8. Query strings reaching url_for -------------------------------------------------------------


LINK = re.compile(r'(?:href|src|action|content)="([^"]*)"')


def assert_unpoisoned(response, path: str) -> None:
    """Answered without a server error, and no link of the page carries what the query string forged."""
    assert response.status_code == 200, (path, response.status_code)
    for link in LINK.findall(response.get_data(as_text=True)):
        for sign in ("javascript", "evil.example", "#x", "_method", "_anchor", "_scheme", "_external"):
            assert sign not in link, (path, link)


def at_forged_host(client):
    """The client, its session cookie sent to the forged Host evil.example too."""
    cookie = client.get_cookie("session")
    if cookie is not None:
        client.set_cookie("session", cookie.value, domain="evil.example")
    return client


@SQLITE
def test_url_for_arguments_in_the_query_string_do_nothing(demo):
    client = at_forged_host(admin_client(demo))
    anonymous = demo.test_client()
    key = make_key(demo)
    _, citizen = a_counter_path(demo)
    staff = ["/dashboard", "/admin/counters", "/admin/agencies", "/admin/audit", "/auth/password"]
    for forged in FORGED:
        for page in staff:
            assert_unpoisoned(client.get(page + forged, headers={"Host": "evil.example"}), page + forged)
        for page in ("/auth/login" + forged, "/thanks" + forged, citizen + "&" + forged.removeprefix("?")):
            assert_unpoisoned(anonymous.get(page, headers={"Host": "evil.example"}), page)
        api = anonymous.get(
            f"/api/v1/satisfaction?month={this_month()}&" + forged.removeprefix("?"),
            headers={"Authorization": f"Bearer {key}", "Host": "evil.example"},
        )
        assert api.status_code == 200 and "javascript" not in api.get_data(as_text=True), forged


@SQLITE
def test_the_language_link_keeps_the_page_and_its_known_parameters(demo):
    code, citizen = a_counter_path(demo)
    page = demo.test_client().get(citizen + "&counter_code=ELSEWHERE&_anchor=x&lang=vi")
    assert page.status_code == 200
    assert f'href="/q/{code}?' in page.text and "ELSEWHERE" not in page.text, "the route's own code stays"
    assert "s=" in page.text.split(f'href="/q/{code}?', 1)[1].split('"', 1)[0], "the signature is kept"


# --- 11. Proxies -----------------------------------------------------------------------------------


@SQLITE
def test_from_a_trusted_proxy_the_limit_keys_on_the_forwarded_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute", PROXY_COUNT=1)
    statuses = [
        health_from(app, "127.0.0.1", {"X-Forwarded-For": address})
        for address in ("203.0.113.7", "203.0.113.7", "198.51.100.2")
    ]
    assert statuses == [200, 429, 200]


@SQLITE
def test_from_an_untrusted_peer_a_forged_forwarded_for_changes_nothing(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute", PROXY_COUNT=1)
    statuses = [
        health_from(app, "192.0.2.44", {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"})
        for address in ("203.0.113.7", "198.51.100.2", "198.51.100.3")
    ]
    assert statuses == [200, 429, 429]
    page = app.test_client().get(
        "/auth/login", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "192.0.2.44"}
    )
    assert "Strict-Transport-Security" not in page.headers, "its scheme is not taken either"


@SQLITE
def test_trusted_proxies_are_addresses_and_networks(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute", PROXY_COUNT=1, TRUSTED_PROXIES="10.0.0.0/24, 2001:db8::1"
    )
    via_network = [health_from(app, "10.0.0.7", {"X-Forwarded-For": a}) for a in ("203.0.113.1", "203.0.113.2")]
    via_v6 = [health_from(app, "2001:db8::1", {"X-Forwarded-For": a}) for a in ("203.0.113.3", "203.0.113.4")]
    local = [health_from(app, "127.0.0.1", {"X-Forwarded-For": a}) for a in ("203.0.113.5", "203.0.113.6")]
    assert via_network == [200, 200] and via_v6 == [200, 200]
    assert local == [200, 429], "127.0.0.1 is no longer one of the proxies"


def test_trusted_proxies_parsing():
    fix = serving.TrustedProxyFix(None, serving.trusted_networks("127.0.0.1,::1"), 1)
    assert fix.trusts("127.0.0.1") and fix.trusts("::1") and fix.trusts("::ffff:127.0.0.1")
    assert not fix.trusts("127.0.0.2") and not fix.trusts("") and not fix.trusts("unix:/run/x.sock")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        serving.trusted_networks("10.0.0.0/8,nginx.internal")


def test_the_new_settings_are_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.10")
    monkeypatch.setenv("RATELIMIT_PER_WORKER", "accept")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    app = Flask("probe", instance_path=str(tmp_path / "instance"))
    config.load_config(app, None)
    assert app.config["TRUSTED_PROXIES"] == "10.0.0.10" and app.config["RATELIMIT_PER_WORKER"] == "accept"
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
