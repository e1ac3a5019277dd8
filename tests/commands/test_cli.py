"""Command-line tools, run through Flask's CLI runner."""

from __future__ import annotations

import hashlib
import stat

from sqlalchemy import create_engine, inspect

from questionnaires import DEFAULT_DIR
from survey import config, db


def test_init_db_is_idempotent(runner, app):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "latest migration" in result.output
    engine = app.extensions["survey.db"]["engine"]
    assert db.migrations_current(engine)


def test_init_db_on_an_empty_database(tmp_path):
    from survey import create_app

    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    try:
        assert {"agencies", "responses", "answers", "targets"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        app.extensions["survey.db"]["engine"].dispose()


def test_questionnaires_check_prints_a_summary(runner):
    result = runner.invoke(args=["questionnaires", "check"])
    assert result.exit_code == 0, result.output
    assert "ok    sipas v1: 5 elements, 19 criteria, 9 priorities, 5 background questions" in result.output
    assert "3 valid, 0 invalid." in result.output


def test_questionnaires_check_reports_every_broken_file(make_app, tmp_path):
    app = make_app()
    broken = tmp_path / "q"
    broken.mkdir()
    (broken / "sipas.yaml").write_text((DEFAULT_DIR / "sipas.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "a.yaml").write_text("id: a\n", encoding="utf-8")
    (broken / "b.yaml").write_text("id: [\n", encoding="utf-8")
    app.config["QUESTIONNAIRE_DIR"] = broken
    result = app.test_cli_runner().invoke(args=["questionnaires", "check"])
    assert result.exit_code == 1
    assert "a.yaml: (file): 'version' is a required property" in result.output
    assert "b.yaml: (file): not valid YAML" in result.output
    assert "1 valid, 2 invalid." in result.output


def test_counter_url_is_signed_and_opens_the_form(runner, client, counter):
    result = runner.invoke(args=["counter-url", counter])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("http://survey.test/q/HK-01?s=")
    assert client.get(url.removeprefix("http://survey.test")).status_code == 200
    listing = runner.invoke(args=["counter-url", "--all"])
    assert url in listing.output and "1 active counters." in listing.output


def test_counter_url_of_unknown_counter(runner, counter):
    result = runner.invoke(args=["counter-url", "NOPE"])
    assert result.exit_code == 1 and "no counter with code 'NOPE'" in result.output
    assert runner.invoke(args=["counter-url"]).exit_code == 2


def test_secret_key_is_generated_once_and_private(tmp_path):
    path = tmp_path / "secret_key"
    first = config._instance_secret(path)
    assert len(first) == 64 and config._instance_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _upgrade_with_data(url: str) -> None:
    """A database at revision 0003 holding linked rows, then upgraded to the latest revision."""
    from alembic import command
    from sqlalchemy import text

    command.upgrade(db.alembic_config(url), "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies (id, code, name, level, active) VALUES (1, 'HN', 'Hà Nội', 'x', true)"))
        conn.execute(
            text(
                "INSERT INTO questionnaire_versions (id, questionnaire, version, fingerprint, title, "
                "registered_at) VALUES (1, 'sipas', 1, 'f', 't', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO interactions (id, token, agency_id, channel, created_at, expires_at, used_at) VALUES "
                "(1, 'tok', 1, 'counter', '2026-01-01 00:00:00', '2026-01-08 00:00:00', '2026-01-02 00:17:42.123456')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO responses (id, questionnaire_version_id, agency_id, interaction_id, channel, "
                "submitted_at, submission_key) VALUES (1, 1, 1, 1, 'token', '2026-01-02 00:17:42.123456', 'k')"
            )
        )
        conn.execute(text("INSERT INTO answers (response_id, item_code, value) VALUES (1, 'TC1', 5)"))
    try:
        db.upgrade(url)
        with engine.connect() as conn:
            # 0010: no link from the response to its interaction, the token kept as a hash, times to the hour
            columns = {c["name"] for c in inspect(engine).get_columns("responses")}
            assert "interaction_id" not in columns and "submission_key" in columns
            hashed, used = conn.execute(text("SELECT token_hash, used_at FROM interactions")).one()
            assert hashed == hashlib.sha256(b"tok").hexdigest()
            submitted = conn.execute(text("SELECT submitted_at FROM responses")).scalar_one()
            assert str(submitted).startswith("2026-01-02 00:00:00") and str(used).startswith("2026-01-02 00:00:00")
            assert conn.execute(text("SELECT value FROM answers WHERE response_id = 1")).scalar_one() == 5
        assert db.migrations_current(engine)
    finally:
        engine.dispose()


def test_upgrading_a_sqlite_database_that_holds_data(tmp_path):
    _upgrade_with_data(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_upgrading_a_postgresql_database_that_holds_data(postgres_database):
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    schema = f"upgrade_{uuid.uuid4().hex[:8]}"
    with postgres_database.admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        base = make_url(postgres_database.admin.url.render_as_string(hide_password=False))
        _upgrade_with_data(
            base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        )
    finally:
        with postgres_database.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
