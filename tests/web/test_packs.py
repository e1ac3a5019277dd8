"""Report packs built by the task queue: one job per pack, its progress, its file, who sees it, a real consumer."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from survey import db, queue
from survey.domain import accounts
from survey.models import ReportJob
from survey.reporting import insights, packs
from survey.transfer.demo import seed_demo
from tests.analysis.pdf_reading import info_entry, mapped_characters
from tests.helpers import IN_CI, PASSWORD, hidden_fields, login

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MONTH = "2026-10"
QUERY = "?questionnaire=sipas&agency=P-HK"
ACCOUNTS = {
    "admin": ("admin", None),
    "analyst-HN": ("analyst", "HN"),
    "official-P-HK": ("official", "P-HK"),
    "official-P-BD": ("official", "P-BD"),
    "officer-P-HK": ("officer", "P-HK"),
}
FOLLOWS = re.compile(r'<script src="/static/pack\.js\?v=\w+" defer></script>')  # the page's progress script
META_REFRESH = re.compile(r"http-equiv=\"refresh\"")


def seed(app) -> None:
    with app.app_context():
        s = db.session()
        seed_demo(s, months=3, per_month=120, seed=5, now=NOW)
        for name, (role, agency) in ACCOUNTS.items():
            accounts.create_user(s, f"{name}@hanoi.gov.vn", role, PASSWORD, agency)
        s.commit()


@pytest.fixture
def demo(app):
    seed(app)
    return app


def as_user(app, name):
    client = app.test_client()
    assert login(client, f"{name}@hanoi.gov.vn").status_code == 303
    return client


def prepare(client, fmt: str = "xlsx", query: str = QUERY):
    """Open the pack page, then press Prepare: the reply (a redirect to the job's status page)."""
    url = f"/dashboard/report/{MONTH}.{fmt}{query}"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data=hidden_fields(page.text))


def job_id_of(reply) -> int:
    assert reply.status_code == 303, reply.text
    return int(re.search(r"/dashboard/report/jobs/(\d+)$", reply.headers["Location"]).group(1))


def jobs(app) -> list[ReportJob]:
    with app.app_context():
        return list(db.session().scalars(select(ReportJob).order_by(ReportJob.id)))


def test_the_pack_page_offers_a_prepare_button_without_javascript(demo):
    page = as_user(demo, "official-P-HK").get(f"/dashboard/report/{MONTH}.pdf{QUERY}")
    assert page.status_code == 200
    html = page.text
    assert '<form method="post" action="/dashboard/report/2026-10.pdf?questionnaire=sipas&amp;agency=P-HK">' in html
    assert 'name="csrf_token"' in html and "Chuẩn bị" in html and "<script" not in html
    assert not FOLLOWS.search(html) and not META_REFRESH.search(html) and b"%PDF" not in page.data
    dashboard = as_user(demo, "official-P-HK").get(f"/dashboard?month={MONTH}&questionnaire=sipas&agency=P-HK")
    assert f'href="/dashboard/report/{MONTH}.pdf?questionnaire=sipas&amp;agency=P-HK"' in dashboard.text


def test_a_post_without_its_csrf_token_is_refused(demo):
    reply = as_user(demo, "admin").post(f"/dashboard/report/{MONTH}.xlsx{QUERY}", data={})
    assert reply.status_code == 400 and not jobs(demo)


def test_eight_officials_asking_for_the_same_pack_get_one_job(demo, monkeypatch):
    built = []
    original = insights.report_pack
    monkeypatch.setattr(insights, "report_pack", lambda *a, **k: built.append(a[2]) or original(*a, **k))
    names = ["admin", "analyst-HN", "official-P-HK", "admin", "analyst-HN", "official-P-HK", "admin", "admin"]
    found = {job_id_of(prepare(as_user(demo, name))) for name in names}
    assert len(found) == 1 and len(jobs(demo)) == 1 and built == ["xlsx"]
    (job,) = jobs(demo)
    assert job.state == "done" and job.progress == 100 and job.format == "xlsx"
    client = as_user(demo, "official-P-HK")
    page = client.get(f"/dashboard/report/{MONTH}.xlsx{QUERY}")
    assert f'href="/dashboard/report/jobs/{job.id}/download"' in page.text, "a ready pack is offered at once"
    download = client.get(f"/dashboard/report/jobs/{job.id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = "bao-cao-khao-sat-tai-quay-P-HK-sipas-2026-10.xlsx"
    assert download.headers["Content-Disposition"] == f"attachment; filename={name}"
    book = load_workbook(io.BytesIO(download.data), read_only=True)
    assert {"overall", "criterion", "Xu hướng"} <= set(book.sheetnames)
    notes = [cell for row in book[book.sheetnames[0]].iter_rows(values_only=True) for cell in row if cell]
    book.close()
    assert any(str(c).startswith("Số liệu cập nhật lúc ") for c in notes), "the workbook says when its figures are from"


def test_concurrent_requests_make_one_job_and_enqueue_it_once(make_app, tmp_path):
    app = make_app(HUEY_IMMEDIATE=False, HUEY_PATH=str(tmp_path / "queue.sqlite3"))
    seed(app)
    sel = insights.Selection(MONTH, "sipas", "P-HK")
    with app.app_context():
        insights.shared_heads(db.session(), sel)  # the snapshot taken once, as the pack page does
    barrier, found, errors = threading.Barrier(8), [], []

    def ask() -> None:
        try:
            with app.app_context():
                session = db.session()
                barrier.wait(timeout=30)
                job = packs.start(session, sel, "pdf", None)
                session.commit()
                found.append(job.id)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(found) == 8 and len(set(found)) == 1
    assert len(jobs(app)) == 1 and jobs(app)[0].state == "queued"
    assert queue.huey.pending_count() == 1


def test_progress_and_states_from_queued_to_a_real_pdf(make_app, tmp_path, monkeypatch):
    app = make_app(HUEY_IMMEDIATE=False, HUEY_PATH=str(tmp_path / "queue.sqlite3"))
    seed(app)
    client = as_user(app, "official-P-HK")
    job_id = job_id_of(prepare(client, "pdf"))
    status = client.get(f"/dashboard/report/jobs/{job_id}")
    assert status.status_code == 200 and FOLLOWS.search(status.text) and not META_REFRESH.search(status.text)
    assert 'max="100" value="0"' in status.text and "0 %" in status.text
    state = client.get(f"/dashboard/report/jobs/{job_id}/state")
    assert state.get_json() == {"state": "queued", "progress": 0, "label": "Đã xong 0 %"}
    assert state.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in status.headers["Content-Security-Policy"]
    seen = []
    original = packs._record

    def record(session, job_id, **values):
        original(session, job_id, **values)
        seen.append((values.get("state", "running"), values.get("progress")))

    monkeypatch.setattr(packs, "_record", record)
    task = queue.huey.dequeue()
    assert task is not None and queue.huey.dequeue() is None
    queue.huey.execute(task)  # what the consumer does with it
    progress = [p for state, p in seen if state == "running"]
    assert progress == sorted(progress) and len(progress) >= 3 and 0 < progress[0] and progress[-1] < 100
    assert seen[-1] == ("done", 100)
    (job,) = jobs(app)
    assert job.state == "done" and job.error is None and job.figures_at is not None
    status = client.get(f"/dashboard/report/jobs/{job_id}")
    assert not FOLLOWS.search(status.text) and "Số liệu cập nhật lúc" in status.text
    assert client.get(f"/dashboard/report/jobs/{job_id}/state").get_json()["state"] == "done"
    download = client.get(f"/dashboard/report/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF") and download.data.rstrip().endswith(b"%%EOF")
    assert download.data.count(b"/Type /Page\n") + download.data.count(b"/Type /Page ") >= 6
    assert "attachment" in download.headers["Content-Disposition"]


def test_a_running_job_shows_its_percentage(demo):
    with demo.app_context():
        session = db.session()
        job = packs.start(session, insights.Selection(MONTH, "sipas", "P-HK"), "xlsx", None)
        session.commit()
        session.execute(update(ReportJob).where(ReportJob.id == job.id).values(state="running", progress=42))
        session.commit()
    page = as_user(demo, "analyst-HN").get(f"/dashboard/report/jobs/{job.id}")
    assert FOLLOWS.search(page.text) and 'max="100" value="42"' in page.text
    assert "Đã xong 42 %" in page.text
    assert as_user(demo, "analyst-HN").get(f"/dashboard/report/jobs/{job.id}/download").status_code == 404


def test_only_users_who_may_see_the_agency_see_the_job(demo):
    all_agencies = job_id_of(prepare(as_user(demo, "admin"), "xlsx", "?questionnaire=sipas&agency=ALL"))
    ward = job_id_of(prepare(as_user(demo, "admin"), "xlsx", QUERY))
    expected = {
        ("admin", all_agencies): 200,
        ("admin", ward): 200,
        ("analyst-HN", ward): 200,
        ("official-P-HK", ward): 200,
        ("analyst-HN", all_agencies): 404,
        ("official-P-HK", all_agencies): 404,
        ("official-P-BD", ward): 404,
        ("officer-P-HK", ward): 403,
    }
    for (name, job_id), code in expected.items():
        client = as_user(demo, name)
        for part in ("", "/state", "/download"):
            url = f"/dashboard/report/jobs/{job_id}{part}"
            reply = client.get(url)
            assert reply.status_code == code, (name, url)
            if code != 200:
                assert b"PK" not in reply.data[:2]
    assert as_user(demo, "admin").get("/dashboard/report/jobs/999999").status_code == 404
    assert demo.test_client().get(f"/dashboard/report/jobs/{ward}").status_code == 302  # to the login page
    own = prepare(as_user(demo, "official-P-BD"), "xlsx", "?questionnaire=sipas&agency=P-BD")
    assert job_id_of(own) not in (ward, all_agencies)
    assert as_user(demo, "official-P-BD").post(f"/dashboard/report/{MONTH}.xlsx{QUERY}").status_code == 404
    assert as_user(demo, "admin").get(f"/dashboard/report/{MONTH}.doc{QUERY}").status_code == 404


def test_a_failed_job_says_so_and_can_be_tried_again(demo, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(insights, "report_pack", broken)
    client = as_user(demo, "official-P-HK")
    job_id = job_id_of(prepare(client))
    (job,) = jobs(demo)
    assert job.state == "failed" and "the disk is full" in job.error and job.result is None
    status = client.get(f"/dashboard/report/jobs/{job_id}")
    assert "Không thể chuẩn bị bộ báo cáo" in status.text and "Thử lại" in status.text
    assert not FOLLOWS.search(status.text) and "the disk is full" not in status.text
    assert client.get(f"/dashboard/report/jobs/{job_id}/download").status_code == 404
    monkeypatch.undo()
    again = client.post(f"/dashboard/report/{MONTH}.xlsx{QUERY}", data=hidden_fields(status.text))
    assert job_id_of(again) == job_id, "the same job is queued again"
    (job,) = jobs(demo)
    assert job.state == "done" and job.error is None and job.result.startswith(b"PK")


def test_finished_jobs_are_pruned_after_a_day_and_abandoned_ones_queued_again(demo):
    with demo.app_context():
        session = db.session()
        ward, other_ward = insights.Selection(MONTH, "sipas", "P-HK"), insights.Selection(MONTH, "sipas", "P-BD")
        old = packs.start(session, ward, "xlsx", None).id
        session.commit()
        stuck = packs.start(session, other_ward, "xlsx", None).id
        session.commit()
        long_ago = datetime.now(UTC) - timedelta(days=2)
        session.execute(update(ReportJob).where(ReportJob.id == old).values(updated_at=long_ago))
        session.execute(  # its worker died while drawing it
            update(ReportJob).where(ReportJob.id == stuck).values(state="running", progress=30, updated_at=long_ago)
        )
        session.commit()
        packs.start(session, insights.Selection(MONTH, "sipas", "HN"), "xlsx", None)
        session.commit()
        session.expire_all()
        assert session.get(ReportJob, old) is None, "a finished job older than a day is gone"
        assert session.get(ReportJob, stuck).state == "running", "an unfinished one is kept"
        again = packs.start(session, other_ward, "xlsx", None).id
        session.commit()
        session.expire_all()
        assert again == stuck and session.get(ReportJob, stuck).state == "done", "queued again and built"
        assert session.scalar(select(func.count()).select_from(ReportJob)) == 2


def test_the_queue_is_configured_from_the_app(make_app, tmp_path):
    from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

    make_app()
    assert queue.huey.immediate and isinstance(queue.huey.storage, MemoryStorage)
    app = make_app(HUEY_IMMEDIATE=False, HUEY_NAME="packs-test")
    assert queue.queue_path(app) == Path(app.instance_path) / "queue.sqlite3"
    assert not queue.huey.immediate and queue.huey.name == "packs-test"
    make_app(HUEY_IMMEDIATE=False, HUEY_PATH=str(tmp_path / "q.sqlite3"))
    assert isinstance(queue.huey.storage, SqliteStorage) and (tmp_path / "q.sqlite3").exists()
    make_app(HUEY_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:6379/0")
    assert isinstance(queue.huey.storage, RedisStorage)  # made without connecting


# --- a real consumer ------------------------------------------------------------------------------------


def start_consumer(tmp_path, env: dict) -> subprocess.Popen:
    with (tmp_path / "consumer.log").open("w") as log:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [str(ROOT / ".venv/bin/huey_consumer"), "wsgi.queue", "-w", "1"],
            cwd=ROOT,
            env={**os.environ, "LOG_FORMAT": "text", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_consumer(consumer: subprocess.Popen) -> None:
    if consumer.poll() is None:
        os.killpg(consumer.pid, signal.SIGINT)  # huey's graceful stop
        try:
            consumer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(consumer.pid, signal.SIGKILL)
            consumer.wait(timeout=10)


def wait_until_done(app, job_id: int, consumer: subprocess.Popen, tmp_path, seconds: float = 180) -> ReportJob:
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            job = db.session().get(ReportJob, job_id)
            if job.state in ("done", "failed"):
                return job
        assert consumer.poll() is None, (tmp_path / "consumer.log").read_text()
        assert time.monotonic() < deadline, f"not done in {seconds} s: {(tmp_path / 'consumer.log').read_text()}"
        time.sleep(0.3)


def run_with_consumer(tmp_path, app, env: dict) -> None:
    """Ask for a pack, let the consumer (a separate process, niced) build it, then download it."""
    client = as_user(app, "analyst-HN")
    consumer = start_consumer(tmp_path, env)
    try:
        job_id = job_id_of(prepare(client, "xlsx"))
        assert jobs(app)[0].state in ("queued", "running")
        job = wait_until_done(app, job_id, consumer, tmp_path)
        assert os.getpriority(os.PRIO_PROCESS, consumer.pid) >= min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    finally:
        stop_consumer(consumer)
    assert job.state == "done", job.error
    download = client.get(f"/dashboard/report/jobs/{job_id}/download")
    assert download.status_code == 200 and download.data.startswith(b"PK")
    book = load_workbook(io.BytesIO(download.data), read_only=True)
    assert "overall" in book.sheetnames
    book.close()


def consumer_env(app, **extra) -> dict:
    return {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "FLASK_FIGURES_MAX_AGE": "0",
        **extra,
    }


def test_a_real_consumer_builds_the_pack_from_the_sqlite_queue(make_app, tmp_path):
    path = str(tmp_path / "queue.sqlite3")
    app = make_app(HUEY_IMMEDIATE=False, HUEY_PATH=path)
    seed(app)
    run_with_consumer(tmp_path, app, consumer_env(app, FLASK_HUEY_PATH=path))


def test_a_real_consumer_builds_the_pack_from_the_redis_queue(make_app, tmp_path):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if IN_CI:
            raise
        pytest.skip("no Redis on 127.0.0.1:6379: the RedisHuey path is not tested")
    name = f"packs-test-{os.getpid()}-{time.monotonic_ns()}"
    app = make_app(HUEY_IMMEDIATE=False, REDIS_URL=url, REDIS_PREFIX=f"{name}:", HUEY_NAME=name)
    seed(app)
    try:
        env = consumer_env(app, REDIS_URL=url, FLASK_REDIS_PREFIX=f"{name}:", FLASK_HUEY_NAME=name)
        run_with_consumer(tmp_path, app, env)
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"*{name}*"):
            client.delete(key)


VI_STATUS_WORDS = ("Đạt", "Chưa đạt", "Chưa đủ cơ sở kết luận", "Quá ít phiếu")
EN_STATUS_WORDS = {"Met", "Not met", "Not yet conclusive", "Too few answers"}


def download(client, job_id: int) -> bytes:
    reply = client.get(f"/dashboard/report/jobs/{job_id}/download")
    assert reply.status_code == 200
    return reply.data


def workbook_cells(data: bytes) -> tuple[list[str], dict[str, list[tuple]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheets = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    book.close()
    return list(sheets), sheets


def test_two_officials_asking_in_different_languages_get_two_jobs(demo):
    english, vietnamese = as_user(demo, "official-P-HK"), as_user(demo, "admin")
    en_id = job_id_of(prepare(english, query=QUERY + "&lang=en"))
    vi_id = job_id_of(prepare(vietnamese, query=QUERY + "&lang=vi"))
    assert en_id != vi_id and job_id_of(prepare(as_user(demo, "analyst-HN"), query=QUERY + "&lang=en")) == en_id
    assert {(job.id, job.locale) for job in jobs(demo)} == {(en_id, "en"), (vi_id, "vi")}
    names, sheets = workbook_cells(download(vietnamese, vi_id))
    assert names[0] == "Ghi chú" and names[-3:] == ["Xu hướng", "Số phiếu", "Tổng hợp cơ quan"]
    assert sheets["Tổng hợp cơ quan"][0][:3] == ("Cơ quan", "Số phiếu", "Chỉ số chung (%)")


def test_an_english_pack_reads_english_throughout(demo):
    client = as_user(demo, "official-P-HK")
    names, sheets = workbook_cells(download(client, job_id_of(prepare(client, query=QUERY + "&lang=en"))))
    assert names == ["Notes", "overall", "element", "criterion", "priority", "Trend", "Responses", "Agencies summary"]
    summary = sheets["Agencies summary"]
    assert summary[0][:5] == ("Agency", "Responses", "Overall index (%)", "95% CI: lower bound", "95% CI: upper bound")
    targets = [j for j, header in enumerate(summary[0]) if str(header).startswith("Target ")]
    assert targets and {row[j] for row in summary[1:] for j in targets} <= EN_STATUS_WORDS
    notes = [str(cell) for row in sheets["Notes"] for cell in row if cell]
    assert notes[0] == "Counter survey results — not the official SIPAS index"
    assert {"Report period", "Method", "Targets", "Status"} <= set(notes)
    assert any(text.startswith("Figures as of ") for text in notes)
    texts = [str(cell) for rows in sheets.values() for row in rows for cell in row if isinstance(cell, str)]
    assert not [text for text in texts if any(word in text for word in VI_STATUS_WORDS)]

    pdf = download(client, job_id_of(prepare(client, "pdf", QUERY + "&lang=en")))
    assert info_entry(pdf, "Title").startswith("Counter survey results report — ")
    assert info_entry(pdf, "Subject") == "Source: counter survey, not the official SIPAS index"
    characters = mapped_characters(pdf)
    for text in ("Counter survey results report", "Method notes", "Summary by agency", "Not yet conclusive"):
        assert set(text) <= characters, set(text) - characters
    # The data may be Vietnamese (agency names, target sources): letters of the Vietnamese status words
    # that the English workbook (holding the same data) never uses must not be in the PDF either.
    only_vietnamese = set("".join(VI_STATUS_WORDS)) - set("".join(texts))
    assert only_vietnamese and not only_vietnamese & characters, only_vietnamese & characters


def test_the_cli_writes_a_vietnamese_pack_unless_asked_for_english(demo, tmp_path):
    runner = demo.test_cli_runner()
    for lang, sheet in ((None, "Tổng hợp cơ quan"), ("en", "Agencies summary")):
        out = tmp_path / (lang or "default")
        args = ["report", "pack", "--month", MONTH, "--agency", "P-HK", "--out", str(out)]
        result = runner.invoke(args=args + (["--lang", lang] if lang else []))
        assert result.exit_code == 0, result.output
        (xlsx,) = out.glob("*.xlsx")
        assert workbook_cells(xlsx.read_bytes())[0][-1] == sheet
