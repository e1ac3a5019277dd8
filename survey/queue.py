"""The task queue (huey): report packs and other long work, run off the request by a consumer process.

One Huey instance for the app, bound by create_app and configured from it on first use: its storage is
RedisHuey's where REDIS_URL is set, else SqliteHuey's in the file HUEY_PATH (instance/queue.sqlite3);
in immediate mode (HUEY_IMMEDIATE, default when TESTING) a task runs at once, in the caller. Tasks
(survey.tasks) run inside the Flask app's context. The consumer is started as

    huey_consumer wsgi.queue -w 1

and lowers its own CPU priority by HUEY_NICE first, so that citizens' requests keep theirs.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)


class AppHuey(Huey):
    """A Huey bound to a Flask app, whose storage is made from the app's configuration when first used."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self._storage = None
        super().__init__("survey", results=False)  # a task's outcome lives in the database, not in huey

    def create_storage(self):
        return None  # made on first use: importing the app touches neither Redis nor the queue file

    @property
    def storage(self):
        if self._storage is None:
            self._storage = self._configured_storage()
        return self._storage

    @storage.setter
    def storage(self, value) -> None:
        self._storage = value

    def init_app(self, app: Flask) -> None:
        config = app.config
        immediate = config["HUEY_IMMEDIATE"]
        self.app = app
        self.name = config["HUEY_NAME"]
        self._immediate = bool(config["TESTING"] if immediate is None else immediate)
        self._storage = None
        app.extensions["survey.queue"] = self

    def _configured_storage(self):
        if self.app is None:
            raise RuntimeError("the task queue is not bound to an app (survey.queue.huey.init_app)")
        config = self.app.config
        if self._immediate:
            return MemoryStorage(self.name)
        if config["REDIS_URL"]:
            return RedisStorage(self.name, url=config["REDIS_URL"])
        return SqliteStorage(self.name, filename=str(queue_path(self.app)))

    def create_consumer(self, **options):
        """The consumer, niced first: its worker threads or processes inherit the lower priority."""
        nice = int(self.app.config["HUEY_NICE"]) if self.app is not None else 0
        if nice > 0:
            log.info("task queue consumer niced to %s", os.nice(nice))
        _one_log_line()
        return super().create_consumer(**options)


def _one_log_line() -> None:
    """Let huey's lines go through the app's log handler (survey.logs) alone, not also huey_consumer's own."""
    if logging.getLogger().handlers:
        huey_log = logging.getLogger("huey")
        for handler in list(huey_log.handlers):
            if type(handler) is logging.StreamHandler:  # a --logfile handler stays
                huey_log.removeHandler(handler)


def queue_path(app: Flask) -> Path:
    return Path(app.config["HUEY_PATH"] or Path(app.instance_path) / "queue.sqlite3")


huey = AppHuey()
_tasks: dict = {}


def task(name: str, **options):
    """Register a function as the task called name, run inside the app's context (the caller's app when
    there is one, as in immediate mode; the consumer's otherwise)."""

    def decorate(fn):
        @functools.wraps(fn)
        def in_app(*args):
            app = current_app._get_current_object() if has_app_context() else huey.app
            with app.app_context():
                return fn(*args)

        wrapper = huey.task(name=name, **options)(in_app)
        _tasks[name] = wrapper
        return wrapper

    return decorate


def enqueue(name: str, *args) -> None:
    """Put the task called name on the queue (run at once in immediate mode)."""
    _tasks[name](*args)


def init_app(app: Flask) -> None:
    huey.init_app(app)
