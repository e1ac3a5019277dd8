"""The questionnaire catalog of the running app, kept in step with the database.

Each definition file's (id, version) is registered in ``questionnaire_versions`` with its
fingerprint. A published version is immutable: if a file changed while its version already has
responses, the app refuses to start and says which file to give a new version number.
"""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from questionnaires import DEFAULT_DIR, Catalog, Definition, load_catalog
from survey import db
from survey.models import QuestionnaireVersion, Response, utcnow


class ImmutableVersionError(RuntimeError):
    """A definition was edited after its version received responses."""


def init_app(app: Flask) -> None:
    catalog = load_catalog(app.config.get("QUESTIONNAIRE_DIR", DEFAULT_DIR))
    if catalog.get(app.config["DEFAULT_QUESTIONNAIRE"]) is None:
        raise RuntimeError(
            f"DEFAULT_QUESTIONNAIRE {app.config['DEFAULT_QUESTIONNAIRE']!r} is not in the catalog "
            f"({', '.join(catalog.ids())})"
        )
    app.extensions["survey.questionnaires"] = {"catalog": catalog, "version_ids": {}}
    try:
        sync(app)
    except (OperationalError, ProgrammingError) as exc:
        app.logger.warning("Questionnaires not registered, database not ready: %s", exc.orig)
    except ImmutableVersionError:
        app.extensions["survey.db"]["engine"].dispose()  # the app will not start: release its connections
        raise


def current() -> Catalog:
    return current_app.extensions["survey.questionnaires"]["catalog"]


def version_id(definition: Definition) -> int:
    """The database id of a definition's version, registering it if init-db has not yet."""
    ids = current_app.extensions["survey.questionnaires"]["version_ids"]
    if definition.key not in ids:
        sync(current_app._get_current_object())
    return ids[definition.key]


def sync(app: Flask) -> None:
    """Register every definition's version; refuse an edited version that has responses."""
    state = app.extensions["survey.questionnaires"]
    engine = app.extensions["survey.db"]["engine"]
    if not db.has_table(engine, "questionnaire_versions"):
        return
    with Session(engine) as session:
        rows = {(r.questionnaire, r.version): r for r in session.scalars(select(QuestionnaireVersion))}
        for d in state["catalog"]:
            row = rows.get(d.key)
            if row is None:
                stmt = db.insert_ignoring_conflicts(QuestionnaireVersion.__table__, engine.dialect.name)
                session.execute(
                    stmt.values(
                        questionnaire=d.id,
                        version=d.version,
                        fingerprint=d.fingerprint,
                        title=d.title.vi[:300],
                        registered_at=utcnow(),
                    )
                )
            elif row.fingerprint != d.fingerprint:
                count = session.scalar(select(func.count()).where(Response.questionnaire_version_id == row.id))
                if count:
                    raise ImmutableVersionError(
                        f"{d.source}: {d.id} version {d.version} was edited but already has {count} responses; "
                        f"restore the published text or give the edited definition a new version number"
                    )
                row.fingerprint, row.title = d.fingerprint, d.title.vi[:300]
        session.commit()
        state["version_ids"] = {
            (r.questionnaire, r.version): r.id for r in session.scalars(select(QuestionnaireVersion))
        }
