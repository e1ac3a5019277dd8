"""Gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every setting can be changed through the environment without editing this file:

- ``BIND`` (default ``127.0.0.1:8000``): where to listen; the reverse proxy connects here.
- ``WEB_CONCURRENCY`` (default: four per CPU core, at least four): worker processes.
- ``GUNICORN_THREADS`` (default 1): threads per worker. A kept-alive connection stays with the worker
  that accepted it, so many single-threaded workers share the connections out more evenly than a few
  threaded ones (measured by bench/submit.py: p99 latency about half); slow phones are buffered by
  the reverse proxy, so a request never waits on one.
- ``FORWARDED_ALLOW_IPS`` (default ``127.0.0.1``): the proxies whose X-Forwarded-* headers gunicorn trusts
  (the app trusts those of ``TRUSTED_PROXIES``, survey.web.serving).
- ``GUNICORN_TIMEOUT`` (default 30 s): a worker silent for longer is killed and replaced.
- ``WORKER_NICE`` (default 0): how much each worker lowers its CPU priority. The staff's instance
  (dashboard, API, admin: the reverse proxy sends those paths there) runs with 10, so that officials'
  pages and charts only take the CPU that citizens' requests, in an instance of their own, leave.

Several workers must share the rate limits: the server refuses to start while they would count in
each worker's memory (set ``REDIS_URL`` or ``RATELIMIT_STORAGE_URI``), unless
``RATELIMIT_PER_WORKER=accept`` says that this is wanted (development and benchmarks only).

The application itself logs one JSON line per request (``survey.logs``); gunicorn's own access log is
off so that no client address is written anywhere.
"""

import gc
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", max(4, 4 * (os.cpu_count() or 1))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then: memory stays flat over months
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {  # gunicorn's own lines (start, workers, errors) in the app's JSON format
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "survey.logs.json_formatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": []},  # the app adds its own handler (survey.logs)
    "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False}},
}
preload_app = True  # load the app once, then fork: faster start, shared memory


control_socket_disable = True  # managed by systemd or another supervisor, not gunicornc


def on_starting(server):
    """Refuse to start when each worker would keep its own rate-limit counters (survey.extensions)."""
    from survey.extensions import per_worker_limits

    app = server.app.wsgi()  # loaded already (preload_app)
    apart = per_worker_limits(app, server.cfg.workers)
    if apart and app.config.get("RATELIMIT_PER_WORKER") != "accept":
        raise RuntimeError(apart)  # gunicorn prints "Error: ..." and exits with status 1
    if apart:
        server.log.warning("Each worker counts the rate limits on its own, as RATELIMIT_PER_WORKER=accept allows")


def when_ready(server):
    """Load what staff pages need (pandas, matplotlib, the figures and charts code) once, in the master.

    Commands and the app start without them (they are imported when a view first needs them); a
    server imports them here, before forking, so that no worker pays seconds of CPU for them at its
    first dashboard request (eight at once after a start or a recycling) while citizens wait, and the
    workers share the pages.
    """
    from survey.web.dashboard import preload

    preload()


def pre_fork(server, worker):
    """Move everything the loaded app holds out of the garbage collector's sight before forking.

    The app, pandas and matplotlib are hundreds of thousands of long-lived objects: without this every
    full collection in a worker walks them all (tens of milliseconds in the middle of a request) and
    touches their pages, which then stop being shared with the master.
    """
    gc.freeze()


def post_fork(server, worker):
    """Give each worker its own database connections (a forked pool would share sockets) and its priority."""
    niceness = int(os.environ.get("WORKER_NICE", 0))
    if niceness:
        os.nice(niceness)
    app = server.app.wsgi()  # the app loaded before forking
    engine = getattr(app, "extensions", {}).get("survey.db", {}).get("engine")
    if engine is not None:
        engine.dispose(close=False)
