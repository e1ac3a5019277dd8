"""The least a Flask form app can do: the baseline that bench/submit.py compares the survey with.

GET / returns a tiny HTML form (a hidden key and one field); POST / inserts that key and value into a
SQLite table (WAL, synchronous=NORMAL, as the survey app; the standard library's sqlite3, one
connection per thread) in its own transaction, ignoring a key already stored, and answers 303.

Serve it with the survey's gunicorn settings, e.g.
    BASELINE_DATABASE=/tmp/baseline.sqlite3 gunicorn -c gunicorn.conf.py bench.baseline_app:app
BASELINE_DATABASE defaults to baseline.sqlite3 in the system's temporary folder.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
import threading

from flask import Flask, redirect, request

DATABASE = os.environ.get("BASELINE_DATABASE") or os.path.join(tempfile.gettempdir(), "baseline.sqlite3")
PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Baseline</title>'
    '<form method="post" action="/"><input type="hidden" name="key" value="{key}">'
    '<label>Value <input type="text" name="value"></label><button type="submit">Send</button></form></html>'
)

app = Flask(__name__)
_local = threading.local()


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(DATABASE, timeout=30, isolation_level=None)  # transactions spelled out below
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def connection() -> sqlite3.Connection:
    """This thread's connection (opened in the worker, never inherited across a fork)."""
    conn = getattr(_local, "conn", None)
    if conn is None or _local.pid != os.getpid():
        conn = _local.conn = connect()
        _local.pid = os.getpid()
    return conn


def create_table() -> None:
    conn = connect()
    conn.execute("CREATE TABLE IF NOT EXISTS submissions (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.close()


create_table()


@app.get("/")
def form():
    return PAGE.format(key=secrets.token_urlsafe(16))


@app.post("/")
def submit():
    key, value = request.form.get("key", ""), request.form.get("value", "")
    if not key:
        return "missing key", 422
    conn = connection()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO submissions (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return redirect("/", 303)
