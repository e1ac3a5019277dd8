"""API keys: the apikey commands, hashed storage, revocation and agency scope."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select, text

from survey import db
from survey.domain.agencies import contains, visible_codes
from survey.models import Agency, ApiKey, User
from tests.helpers import add_ward, create, make_key

KEY = re.compile(r"^(ksq_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$", re.MULTILINE)


def created_key(runner, *args: str) -> str:
    result = runner.invoke(args=["apikey", "create", *args])
    assert result.exit_code == 0, result.output
    keys = KEY.findall(result.output)
    assert len(keys) == 1 and "shown only once" in result.output
    return KEY.search(result.output).group(0)


def test_create_prints_the_key_once_and_stores_only_its_hash(app, runner, counter):
    secret = created_key(runner, "--name", "Một cửa Hoàn Kiếm", "--agency", "P-HK")
    with app.app_context():
        key = db.session().scalar(select(ApiKey))
        assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret.startswith(key.prefix + "_") and key.agency.code == "P-HK" and key.revoked_at is None
        row = db.session().execute(text("SELECT * FROM api_keys")).one()
    assert all(secret not in str(value) and secret[13:] not in str(value) for value in row)
    listing = runner.invoke(args=["apikey", "list"])
    assert listing.exit_code == 0 and secret not in listing.output and secret[13:] not in listing.output
    assert key.prefix in listing.output and "P-HK" in listing.output and "never used" in listing.output
    assert "1 keys, 1 active." in listing.output


def test_keys_are_long_random_and_distinct(app, counter):
    secrets_ = {make_key(app, f"k{i}") for i in range(5)}
    assert len(secrets_) == 5
    assert all(len(s.split("_", 2)[2]) == 43 for s in secrets_)  # 32 random bytes in URL-safe base64


@pytest.mark.parametrize(
    "args, message",
    [(["--name", "dup"], "exists already"), (["--name", "x", "--agency", "NOPE"], "no agency"),
     (["--name", "  "], "a name of 1 to 64"), (["--name", "x" * 65], "a name of 1 to 64")],
)  # fmt: skip
def test_create_refuses_bad_input(app, runner, counter, args, message):
    make_key(app, "dup")
    result = runner.invoke(args=["apikey", "create", *args])
    assert result.exit_code != 0 and message in result.output


def test_revoke_by_name_or_prefix(app, client, runner, counter):
    first, second = created_key(runner, "--name", "a"), created_key(runner, "--name", "b")
    assert runner.invoke(args=["apikey", "revoke"]).exit_code != 0
    result = runner.invoke(args=["apikey", "revoke", "--name", "a"])
    assert result.exit_code == 0 and "1 active keys remain" in result.output
    assert "already revoked" in runner.invoke(args=["apikey", "revoke", "--name", "a"]).output
    assert runner.invoke(args=["apikey", "revoke", "--prefix", second[:12]]).exit_code == 0
    assert runner.invoke(args=["apikey", "revoke", "--name", "nobody"]).exit_code != 0
    assert [create(client, k).status_code for k in (first, second)] == [401, 401]
    assert "2 keys, 0 active." in runner.invoke(args=["apikey", "list"]).output


def test_scope_agrees_with_staff_scope(app, counter):
    add_ward(app)
    add_ward(app, "T-1", "T1-01", parent="P-HK")  # a unit below the ward
    with app.app_context():
        s = db.session()
        agencies = s.scalars(select(Agency)).all()
        for root in agencies:
            visible = visible_codes(s, User(agency_id=root.id).agency_id)
            inside = {a.code for a in agencies if contains(s, root.id, a.id)}
            assert inside == visible, root.code
        assert all(contains(s, None, a.id) for a in agencies)
