"""Shared helpers of the HTTP benchmarks (bench/submit.py, bench/crash.py).

- a database to serve: a temporary SQLite file, or a private schema of a PostgreSQL database;
- preparing it through the real command line (init-db, seed-demo, counter-url --all);
- gunicorn in its own process group, started with the production settings (gunicorn.conf.py),
  stopped gracefully, or killed outright (master and workers) with SIGKILL;
- a small HTTP/1.1 client on a persistent connection, with its own cookie jar;
- parsing the citizen's form: hidden fields, radio groups and select lists.
"""

from __future__ import annotations

import gzip
import http.client
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
SECRET_KEY = "bench-fixed-secret-key"  # fixed: CSRF tokens and counter links stay valid across restarts
BROWSER_ENCODING = "gzip, deflate, br"  # what a phone's browser sends

# Errors that mean "no answer from the server": refused, reset, closed, timed out.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that `finally` blocks clean up as they do on Ctrl+C."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


# --- databases ---------------------------------------------------------------------------------------


class Database:
    """A fresh database for one run: a SQLite file in folder, or a new schema in a PostgreSQL database."""

    def __init__(self, kind: str, folder: Path, postgres_url: str | None = None):
        self.kind = kind
        self.schema = None
        self.admin_url = postgres_url
        if kind == "sqlite":
            self.path = folder / "bench.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            self.schema = f"bench_{uuid.uuid4().hex[:10]}"
            engine = create_engine(postgres_url)
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
            self.url = (
                make_url(postgres_url)
                .update_query_dict({"options": f"-csearch_path={self.schema}"})
                .render_as_string(hide_password=False)
            )
        self._engine = None

    def engine(self):
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.url)
        return self._engine

    def query(self, sql: str, **params) -> list[tuple]:
        from sqlalchemy import text

        with self.engine().connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def drop(self) -> None:
        """Release connections; drop the PostgreSQL schema (the SQLite file goes with its folder)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.schema:
            from sqlalchemy import create_engine, text

            engine = create_engine(self.admin_url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            engine.dispose()
            self.schema = None


def app_env(database_url: str, port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of the app's processes: production settings, fixed secret, no rate limit."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "FLASK_RATELIMIT_ENABLED": "false",
        # Off, so nothing is counted per worker; should a run turn the limits on, each worker counts its
        # own (as before: figures stay comparable), with a warning rather than a refusal (gunicorn.conf.py).
        "RATELIMIT_PER_WORKER": "accept",
        "BASE_URL": f"http://127.0.0.1:{port}" if port else "http://127.0.0.1",
        "GUNICORN_LOG_LEVEL": os.environ.get("GUNICORN_LOG_LEVEL", "warning"),
        **extra,
    }
    if port:
        env["BIND"] = f"127.0.0.1:{port}"
    return env


# `flask --app wsgi ARGS…` in a child that prints its high-water mark of resident memory (VmHWM, bytes)
# to standard error after the command ran: `[sys.executable, "-c", FLASK_MEASURED, *args]`.
FLASK_MEASURED = """
import sys
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    if exit.code:
        raise
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:")), file=sys.stderr)
"""


# One interpreter runs the three commands (each `flask` start-up costs seconds).
PREPARE = """
import sys
from wsgi import app
runner = app.test_cli_runner()
commands = [["init-db"], ["seed-demo", "--months", sys.argv[1], "--responses-per-month", sys.argv[2]],
            ["counter-url", "--all"]]
for args in commands:
    result = runner.invoke(args=args)
    print(result.output, end="")
    if result.exit_code:
        print(f"flask {' '.join(args)} failed: {result.exception!r}", file=sys.stderr)
        sys.exit(1)
"""


def prepare(database_url: str, months: int = 1, per_month: int = 40) -> dict[str, str]:
    """Migrate and seed the database with `flask init-db` and `seed-demo`; the counters' signed paths."""
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, str(months), str(per_month)],
        cwd=ROOT,
        env=app_env(database_url),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"preparing the database failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    paths = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("http"):
            url = urlsplit(parts[1])
            paths[parts[0]] = f"{url.path}?{url.query}"
    if not paths:
        raise RuntimeError(f"no counter link printed by `flask counter-url --all`:\n{done.stdout[-2000:]}")
    return paths


# --- gunicorn -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port_free(port: int, timeout: float = 10.0) -> None:
    """Wait until the port can be bound again (as gunicorn binds it: SO_REUSEADDR)."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.02)


class Server:
    """gunicorn serving `app_spec` on 127.0.0.1:port, in its own process group (pgid = master's pid)."""

    def __init__(self, app_spec: str, port: int, env: dict, log: Path, config: Path = GUNICORN_CONF):
        self.app_spec, self.port, self.env, self.log, self.config = app_spec, port, env, log, config
        self.proc: subprocess.Popen | None = None
        self.ready_path = "/"

    def start(self, ready_path: str = "/", timeout: float = 60.0) -> float:
        """Start gunicorn and wait until ready_path answers 200; the seconds it took."""
        started = time.monotonic()
        self.ready_path = ready_path
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                # No control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) is shared by every
                # gunicorn of the user, and a killed master leaves it behind.
                [str(BIN / "gunicorn"), "-c", str(self.config), "--no-control-socket", self.app_spec],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: killed as a whole, spared by Ctrl+C
            )
        deadline = started + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", ready_path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.monotonic() - started
            except CONNECTION_ERRORS:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def pids(self) -> list[int]:
        """The live processes of the server's group (master and workers)."""
        if self.proc is None:
            return []
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) == self.proc.pid:
                        found.append(int(entry))
                except OSError:
                    pass
        return found

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers, including workers already recycled and reaped."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if pid == self.proc.pid:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped workers
        return total / tick

    def kill(self) -> None:
        """SIGKILL the whole group: master and workers die at once, as in a power cut of the host."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._wait_group_gone()
        self.proc = None

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM to the master); SIGKILL to the group if it takes too long."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def _wait_group_gone(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.02)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- HTTP client --------------------------------------------------------------------------------------


class ConnectionClosed(OSError):
    """The server closed the connection (or sent something that is not HTTP/1.1) before a full response."""


class Client:
    """One browser-like client: a persistent HTTP/1.1 connection and a cookie jar.

    A deliberately small client on a raw socket (http.client costs several times more CPU per request,
    which on a small machine would be taken from the server being measured).
    """

    def __init__(self, port: int, timeout: float = 30.0, accept_encoding: str = BROWSER_ENCODING):
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.cookies: dict[str, str] = {}
        self.fixed = f"Host: 127.0.0.1:{port}\r\nUser-Agent: bench\r\nAccept-Encoding: {accept_encoding}\r\n"
        self.reconnects = 0  # requests resent on a new connection after a stale keep-alive one

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer = b""

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
        """Send a request; the status, headers (lower-case names) and decoded body.

        A request that fails on a reused connection before any byte of the response arrived (the
        server closed it: keep-alive timeout, worker recycled) is resent once on a new connection, as
        browsers do; other failures raise an OSError.
        """
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}"
        if self.cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
        if body is not None:
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        message = (head + "\r\n").encode("latin-1") + (body or b"")
        for attempt in (0, 1):
            reused = self.sock is not None
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(message)
                return self._response(method)
            except OSError as exc:
                self.close()
                if reused and attempt == 0 and isinstance(exc, ConnectionClosed | ConnectionResetError):
                    if getattr(exc, "before_response", True):
                        self.reconnects += 1
                        continue
                raise
        raise AssertionError("unreachable")

    def _recv(self, started: bool) -> None:
        data = self.sock.recv(262144)
        if not data:
            exc = ConnectionClosed("connection closed by the server")
            exc.before_response = not started
            raise exc
        self.buffer += data

    def _response(self, method: str) -> tuple[int, dict, bytes]:
        end = self.buffer.find(b"\r\n\r\n")
        while end < 0:
            self._recv(bool(self.buffer))
            end = self.buffer.find(b"\r\n\r\n")
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        self.buffer = self.buffer[end + 4 :]
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise ConnectionClosed(f"not an HTTP response: {lines[0][:80]!r}") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = value
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            data = self._chunked()
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._recv(True)
            data, self.buffer = self.buffer[:length], self.buffer[length:]
        else:  # the body runs to the end of the connection
            try:
                while True:
                    self._recv(True)
            except ConnectionClosed:
                pass
            data, self.buffer = self.buffer, b""
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, decode(data, headers.get("content-encoding", ""))

    def _chunked(self) -> bytes:
        parts = []
        while True:
            end = self.buffer.find(b"\r\n")
            while end < 0:
                self._recv(True)
                end = self.buffer.find(b"\r\n")
            size = int(self.buffer[:end].split(b";", 1)[0], 16)
            while len(self.buffer) < end + 2 + size + 2:
                self._recv(True)
            parts.append(self.buffer[end + 2 : end + 2 + size])
            self.buffer = self.buffer[end + 2 + size + 2 :]
            if size == 0:  # no trailers expected
                return b"".join(parts)


def decode(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if not encoding or encoding == "identity":
        return data
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    raise ValueError(f"unexpected Content-Encoding {encoding!r}")


# --- the citizen's form -------------------------------------------------------------------------------

HIDDEN = re.compile(rb'<input[^>]*type="hidden"[^>]*>')
RADIO = re.compile(rb'<input[^>]*type="radio"[^>]*>')
TEXT = re.compile(rb'<input[^>]*type="text"[^>]*>|<textarea[^>]*>')
SELECT = re.compile(rb'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(rb'<option[^>]*value="([^"]*)"')
NAME = re.compile(rb'name="([^"]+)"')
VALUE = re.compile(rb'value="([^"]*)"')


def hidden_fields(html: bytes) -> dict[str, str]:
    """The hidden inputs of a page (csrf_token, submission_key)."""
    fields = {}
    for tag in HIDDEN.findall(html):
        name, value = NAME.search(tag), VALUE.search(tag)
        if name:
            fields[name.group(1).decode()] = value.group(1).decode() if value else ""
    return fields


@dataclass
class FormShape:
    """What a questionnaire page asks: radio groups and select lists (name → values), free-text fields."""

    radios: dict[str, list[str]]
    selects: dict[str, list[str]]
    texts: list[str]

    @classmethod
    def parse(cls, html: bytes) -> FormShape:
        radios: dict[str, list[str]] = {}
        for tag in RADIO.findall(html):
            name, value = NAME.search(tag), VALUE.search(tag)
            if name and value:
                radios.setdefault(name.group(1).decode(), []).append(value.group(1).decode())
        selects = {m.group(1).decode(): [v.decode() for v in OPTION.findall(m.group(2))] for m in SELECT.finditer(html)}
        texts = [n.group(1).decode() for n in map(NAME.search, TEXT.findall(html)) if n]
        if not radios:
            raise ValueError("no radio group in the page")
        return cls(radios, selects, texts)

    def random_answers(self, rng) -> list[tuple[str, str]]:
        """A complete, valid set of answers as a browser sends them.

        Every radio group answered (now and then "no opinion", never for the first statement, so at
        least one is rated), every select sent (often left on "not answered"), free-text fields empty
        (comment, and the honeypot a person never sees).
        """
        fields = []
        for index, (name, values) in enumerate(self.radios.items()):
            rated = [v for v in values if v != "na"]
            if index > 0 and "na" in values and rng.random() < 0.1:
                fields.append((name, "na"))
            else:
                fields.append((name, rng.choice(rated)))
        for name, values in self.selects.items():
            fields.append((name, rng.choice(values) if values and rng.random() < 0.6 else ""))
        fields += [(name, "") for name in self.texts]
        return fields

    def stored_answers(self, fields: list[tuple[str, str]]) -> int:
        """How many answer rows the app stores for these fields ("no opinion" and blanks are not stored)."""
        asked = self.radios.keys() | self.selects.keys()
        return sum(1 for name, value in fields if name in asked and value not in ("", "na"))


# --- figures -------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of sorted values; NaN when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def run_main(main) -> None:
    """Exit with main()'s status; Ctrl+C exits 130 (the `finally` blocks have stopped servers, removed files)."""
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        raise SystemExit(130) from None
