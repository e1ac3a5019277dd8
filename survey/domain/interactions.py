"""One-time survey links (interactions): issued for the API and for the counter screen alike."""

from __future__ import annotations

import enum
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import db
from survey.domain import signing
from survey.models import Interaction, utcnow


class Issued(enum.Enum):
    CREATED = "created"
    REPLAYED = "replayed"  # the same Idempotency-Key and request as before: the earlier token
    DOSSIER_TAKEN = "dossier_taken"
    KEY_REUSED = "key_reused"  # the same Idempotency-Key with another request


def issue_interaction(
    session: Session, values: dict, lifetime: timedelta
) -> tuple[Issued, Interaction | None, str | None]:
    """Insert a new one-time token (the database keeps its hash only); unique constraints decide between
    racing or repeated requests. Returns the outcome, the interaction and the token to hand out.

    A request with an Idempotency-Key gets a token derived from the key's hash, so that its retry is
    answered with the same token."""
    now = utcnow().replace(microsecond=0)
    replayable = values["idempotency_hash"] is not None
    token = signing.replayable_token(values["idempotency_hash"]) if replayable else signing.new_token()
    stmt = db.insert_ignoring_conflicts(Interaction.__table__, session.get_bind().dialect.name).values(
        token_hash=signing.token_hash(token), created_at=now, expires_at=now + lifetime, **values
    )
    new_id = session.execute(stmt.returning(Interaction.id)).scalar_one_or_none()
    if new_id is not None:
        return Issued.CREATED, session.get(Interaction, new_id), token
    if replayable:
        earlier = session.scalar(select(Interaction).where(Interaction.idempotency_hash == values["idempotency_hash"]))
        if earlier is not None:
            same = all(getattr(earlier, k) == v for k, v in values.items())
            return (Issued.REPLAYED, earlier, token) if same else (Issued.KEY_REUSED, earlier, None)
    taken = select(Interaction.id).where(Interaction.dossier_hash == values["dossier_hash"])
    if values["dossier_hash"] is not None and session.scalar(taken) is not None:
        return Issued.DOSSIER_TAKEN, None, None
    raise RuntimeError("a new token collided with an existing one")  # 128 random bits: never in practice
