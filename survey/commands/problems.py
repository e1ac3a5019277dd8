"""How a command reports a file it refused: every problem on its own line, then one summary line."""

from __future__ import annotations

import click


def refuse_file(session, errors: list, file, total: int | None = None, shown_of: int | None = None) -> None:
    """Roll back, print each error in red, raise the summary (or the file's one reason) as a ClickException."""
    session.rollback()
    if len(errors) == 1 and not errors[0].line:
        raise click.ClickException(errors[0].reason)
    for error in errors:
        click.echo(click.style(str(error), fg="red"), err=True)
    total = len(errors) if total is None else total
    shown = f" (the first {shown_of} shown)" if shown_of and total > len(errors) else ""
    raise click.ClickException(f"{total:,} error(s) in {file}{shown}; nothing was imported.")
