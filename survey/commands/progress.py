"""Progress of a long command: a bar on standard error when it is a terminal, nothing otherwise.

Logs, pipes, cron mails and the tests' runner see only the command's summary line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import click


def terminal() -> TextIO | None:
    """Standard error when it is a terminal."""
    stream = sys.stderr  # looked up at each call: a test runner puts its own in place
    return stream if stream is not None and stream.isatty() else None


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A function moving the bar to a position (of length), or None when standard error is no terminal."""
    stream = terminal()
    if stream is None:
        yield None
        return
    with click.progressbar(length=length, label=label, file=stream) as bar:
        yield lambda position: bar.update(position - bar.pos)
