"""The shared month snapshot: the same figures as computing the selection directly, fresh and shared."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from pandas.testing import assert_frame_equal

from analysis import charts
from survey import db
from survey.models import Agency
from survey.reporting import frames, freshness, insights, snapshot, store
from survey.transfer.demo import seed_demo

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_slices_equal_the_direct_computation_for_every_block(demo):
    with demo.app_context():
        session = db.session()
        month = frames.months_with_responses(session)[0]
        codes = [None, *frames.agencies_frame(session)["code"]]
        for code in codes:
            sel = insights.Selection(month, "sipas", code)
            direct = insights.direct_figures(session, sel)
            shared = insights.shared_figures(session, sel, whole=True)
            for piece in ("table", "trend", "volume"):
                assert_frame_equal(direct[piece].reset_index(drop=True), shared[piece].reset_index(drop=True))
            assert shared["agency_name"] == direct["agency_name"]
            sliced = insights.shared_figures(session, sel)  # the page's slice: the charts draw the same
            for name in charts.CHART_NAMES:
                assert_frame_equal(
                    charts.chart_table(name, insights.chart_data(name, direct, sel)),
                    charts.chart_table(name, insights.chart_data(name, sliced, sel)),
                )


def test_a_month_is_rebuilt_only_when_its_data_or_the_epoch_changes(demo):
    with demo.app_context():
        session = db.session()
        month = frames.months_with_responses(session)[0]
        assert snapshot.refresh(session, [month]) == 1
        first = snapshot.heads([month])[month]
        assert snapshot.refresh(session, [month]) == 0  # nothing changed
        session.get(Agency, 1).name = "Renamed"
        session.commit()  # an agency changed: the epoch moves, the month is taken again
        assert snapshot.refresh(session, [month]) == 1
        second = snapshot.heads([month])[month]
        assert second.gen != first.gen and second.taken_at >= first.taken_at
        table = snapshot.month_table(snapshot.Month(second), None, None)
        assert "Renamed" in set(table["agency_name"])


def test_one_builder_at_a_time(demo):
    with demo.app_context():
        session = db.session()
        month = frames.months_with_responses(session)[0]
        token = store.current().acquire(snapshot.LOCK, 60)
        assert snapshot.refresh(session, [month]) == 0  # another process holds the lock: nothing done
        store.current().release(snapshot.LOCK, token)
        assert snapshot.refresh(session, [month]) == 1


def test_staleness_is_bounded_by_the_configured_age(make_app):
    app = make_app(FIGURES_MAX_AGE=60, FIGURES_CHECK_SECONDS=10)
    with app.app_context():
        seed_demo(db.session(), months=1, per_month=50, seed=1, now=NOW)
        db.session().commit()
        session = db.session()
        month = frames.months_with_responses(session)[0]
        snapshot.refresh(session, [month])
        head = snapshot.heads([month])[month]
        changed_mark = head.mark.replace(head.mark.split(":")[0], "999999", 1)
        assert not snapshot._due(head, changed_mark, head.taken_at)  # just taken: kept a while
        limit = 60 - 10 - snapshot.BUILD_ALLOWANCE - app.config["CHARTS_AHEAD_SECONDS"]
        assert snapshot._due(head, changed_mark, head.taken_at + timedelta(seconds=limit))
        freshness.changed()  # an epoch change is due at once
        assert snapshot._due(head, changed_mark.rsplit(":", 1)[0] + ":" + freshness.epoch(), head.taken_at)


def test_redis_store_shares_values_and_locks(make_app):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-{datetime.now(UTC).timestamp()}:"
    app = make_app(REDIS_URL="redis://127.0.0.1:6379/0", REDIS_PREFIX=prefix)
    with app.app_context():
        shared = store.current()
        shared.put_many({"a": b"1", "b": b"2"}, ttl=30)
        assert shared.get_many(["a", "b", "c"]) == {"a": b"1", "b": b"2"}
        token = shared.acquire("x", 30)
        assert token and shared.acquire("x", 30) is None
        shared.release("x", token)
        assert shared.acquire("x", 30)
        shared.delete_prefix("")
        assert shared.get("a") is None
