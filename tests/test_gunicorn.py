"""The production command of the README: gunicorn with gunicorn.conf.py serves the app."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import brotli

from survey import db

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_gunicorn_serves_the_app_with_compression_health_and_json_logs(tmp_path):
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    db.upgrade(url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "gunicorn-test",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "RATELIMIT_PER_WORKER": "accept",  # no Redis here: each worker counts its own limits, knowingly
        "BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = (tmp_path / "stderr.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = get(port, "/api/v1/health")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "stderr.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert health.status == 200 and json.loads(health.body)["status"] == "ok"
        home = get(port, "/auth/login", {"Accept-Encoding": "br"})
        assert home.status == 200 and home.getheader("Content-Encoding") == "br"
        assert b"<form" in brotli.decompress(home.body)
        assert "frame-ancestors 'none'" in home.getheader("Content-Security-Policy")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    log.seek(0)
    lines = [json.loads(line) for line in log if line.startswith("{")]
    log.close()
    requests = [line for line in lines if line.get("message") == "request"]
    assert {(r["route"], r["status"]) for r in requests} >= {("/api/v1/health", 200), ("/auth/login", 200)}
    assert all("127.0.0.1" not in json.dumps(r) for r in requests), "no client address in the logs"
    assert any(line.get("logger", "").startswith("gunicorn") for line in lines), "gunicorn logs in JSON too"
    assert any("RATELIMIT_PER_WORKER=accept" in line.get("message", "") for line in lines), "not silently"
