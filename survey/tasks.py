"""The task queue's tasks (survey.queue): plain functions of plain arguments, run by the consumer.

Bound by create_app, so that a web process can enqueue them and the consumer can run them.
"""

from __future__ import annotations

from survey import queue
from survey.reporting import packs

build_report_pack = queue.task(packs.TASK)(packs.build)


def init_app(app) -> None:
    """Bind the task queue to the app (its tasks are registered above, on import)."""
    queue.init_app(app)
