"""Every command of ``flask --app wsgi``, registered in one place."""

from __future__ import annotations

from flask import Flask

from survey.commands import accounts, counters, database, figures, questionnaires, reference, report, responses


def init_app(app: Flask) -> None:
    for command in (
        database.init_db_command,
        database.backup_command,
        database.restore_command,
        database.rollup_cli,
        questionnaires.questionnaires_cli,
        reference.reference_cli,
        responses.import_responses_command,
        responses.export_responses_command,
        responses.seed_demo_command,
        report.report_cli,
        figures.figures_cli,
        accounts.user_cli,
        accounts.apikey_cli,
        counters.counter_url_command,
    ):
        app.cli.add_command(command)
