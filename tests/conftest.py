"""Fixtures: an app on a fresh database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import MetaData, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from survey import create_app, db
from tests.helpers import IN_CI, REDIS_URL, fresh_database_url, make_key


@pytest.fixture
def redis_url():
    """The tests' Redis (TEST_REDIS_URL): required in CI, else the test is skipped when none runs."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    finally:
        client.close()
    return REDIS_URL


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file at the latest migration, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    return path


class PostgresDatabase:
    """A private schema at the latest migration, emptied back to its seeded rows for each test."""

    def __init__(self, url: str):
        self.schema = f"test_{uuid.uuid4().hex[:10]}"
        base = make_url(url)
        self.admin = create_engine(base)
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.url = base.update_query_dict({"options": f"-csearch_path={self.schema}"}).render_as_string(
            hide_password=False
        )
        db.upgrade(self.url)
        self.engine = create_engine(self.url)
        self.metadata = MetaData()
        self.metadata.reflect(self.engine)
        with self.engine.connect() as conn:
            self.seed = {
                t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in self.metadata.sorted_tables
            }

    def reset(self) -> None:
        names = ", ".join(f'"{t.name}"' for t in self.metadata.sorted_tables)
        with self.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in self.metadata.sorted_tables:
                if self.seed[table.name]:
                    conn.execute(insert(table), self.seed[table.name])
                if "id" in table.c:  # seeded rows carry their ids: move the sequence past them
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f'(SELECT coalesce(max(id), 0) + 1 FROM "{table.name}"), false)'
                        )
                    )

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_database():
    probe = create_engine(POSTGRES_URL)
    try:
        with probe.connect():
            pass
    except OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {exc.orig}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} (set TEST_POSTGRES_URL): {exc.orig}")
    finally:
        probe.dispose()
    database = PostgresDatabase(POSTGRES_URL)
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template):
    """The URL of a fresh database at the latest migration, on each backend."""
    return fresh_database_url(request, tmp_path, sqlite_template)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test's database, with optional configuration overrides."""
    apps = []

    def factory(**overrides):
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "BASE_URL": "http://survey.test",
            "RATELIMIT_ENABLED": False,
            "FIGURES_MAX_AGE": 0,  # every request sees the newest figures
            "CONFIRM_BELOW_SHARE": 0,  # tests post a few answers; the confirmation step has its own tests
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["survey.db"]["engine"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session for arranging and inspecting data directly."""
    with app.app_context():
        yield db.session()


@pytest.fixture
def counter(app):
    """An agency under a parent, a service and an active counter; returns the counter's code."""
    from survey.models import Agency, Counter, Service

    with app.app_context():
        s = db.session()
        city = Agency(code="HN", name="UBND Thành phố Hà Nội", level="thanh_pho")
        ward = Agency(code="P-HK", name="UBND Phường Hoàn Kiếm", level="phuong", parent=city)
        s.add_all([city, ward, Service(code="KS", name="Đăng ký khai sinh", field="Hộ tịch", processing_days=1)])
        s.add(Counter(code="HK-01", agency=ward, name="Quầy số 1 – Tư pháp, hộ tịch"))
        s.commit()
    return "HK-01"


@pytest.fixture
def counter_path(app, counter):
    from survey.domain import signing

    with app.test_request_context():
        return signing.counter_url(counter).removeprefix(app.config["BASE_URL"])


@pytest.fixture
def places(app, counter):
    """HN above two wards: P-HK with counter HK-01 and service KS (counter), P-BD with counter BD-01."""
    from survey.models import Agency, Counter

    with app.app_context():
        s = db.session()
        city = s.scalar(select(Agency).where(Agency.code == "HN"))
        ward = Agency(code="P-BD", name="UBND Phường Ba Đình", level="phuong", parent=city)
        s.add_all([ward, Counter(code="BD-01", agency=ward, name="Quầy số 1")])
        s.commit()
    return app


@pytest.fixture
def staff(places):
    """The places, with a city admin, an admin of the ward P-HK, an officer and an official of P-HK."""
    from survey.domain import accounts
    from tests.helpers import PASSWORD

    app = places
    with app.app_context():
        s = db.session()
        accounts.create_user(s, "admin@hanoi.gov.vn", "admin", PASSWORD)
        accounts.create_user(s, "ward-admin@hanoi.gov.vn", "admin", PASSWORD, "P-HK")
        accounts.create_user(s, "officer@hanoi.gov.vn", "officer", PASSWORD, "P-HK")
        accounts.create_user(s, "official@hanoi.gov.vn", "official", PASSWORD, "P-HK")
        s.commit()
    return app


@pytest.fixture
def key(app, counter) -> str:
    """An API key of no agency (every agency in scope), beside the counter HK-01."""
    return make_key(app)
