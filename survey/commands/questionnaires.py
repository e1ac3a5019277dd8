"""Questionnaire definitions: check the files."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from questionnaires import DEFAULT_DIR, check_directory


@click.group("questionnaires")
def questionnaires_cli() -> None:
    """Questionnaire definitions."""


@questionnaires_cli.command("check")
@with_appcontext
def check_command() -> None:
    """Validate every questionnaire file and print a summary."""
    good, bad = check_directory(current_app.config.get("QUESTIONNAIRE_DIR", DEFAULT_DIR))
    for d in good:
        click.echo(
            f"ok    {d.id} v{d.version}: {len(d.elements)} elements, {len(d.criteria)} criteria, "
            f"{len(d.priorities)} priorities, {len(d.background)} background questions, "
            f"comment {'yes' if d.comment else 'no'}  ({d.source})"
        )
    for err in bad:
        click.echo(click.style(f"error {err}", fg="red"), err=True)
    click.echo(f"{len(good)} valid, {len(bad)} invalid.")
    if bad:
        raise SystemExit(1)
