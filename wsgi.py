from survey import create_app
from survey.queue import huey as queue

app = create_app()
# `huey_consumer wsgi.queue -w 1` runs the task queue of this app (see README, "The task queue").
__all__ = ["app", "queue"]
