"""The data model. Schema changes go through Alembic revisions in migrations/."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC in every database and returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    questionnaire: Mapped[str | None] = mapped_column(String(32))
    questionnaire_version: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    field: Mapped[str] = mapped_column(String(100), default="")
    processing_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Counter(Base):
    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # None: the agency's questionnaire, then the application default; version None: the latest.
    questionnaire: Mapped[str | None] = mapped_column(String(32))
    questionnaire_version: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship()


class QuestionnaireVersion(Base):
    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300), default="")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Interaction(Base):
    """One service event at a counter, carrying the one-time token of its survey link (as a hash only).

    No response points back to it: answering marks it used, in the response's transaction, and that is all.
    """

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token (signing.token_hash)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    channel: Mapped[str] = mapped_column(String(32), default="counter")
    # Keyed hash of the one-stop software's dossier code: never the code itself.
    dossier_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the hour, as a response's time
    # Keyed hash of (API key, Idempotency-Key header): a retried request finds its token here.
    idempotency_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    agency: Mapped[Agency] = relationship()
    counter: Mapped[Counter | None] = relationship()
    service: Mapped[Service | None] = relationship()


class Response(Base):
    """One submitted questionnaire. Holds no IP address, user agent or other personal data, and nothing that
    leads to the interaction, token or dossier it answered: its time is kept to the local hour."""

    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_submitted_at_agency", "submitted_at", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    channel: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    agency: Mapped[Agency] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(Base):
    __tablename__ = "answers"

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")


class Target(Base):
    """A goal the results are compared with: data, never a constant in code."""

    __tablename__ = "targets"
    __table_args__ = (CheckConstraint("value > 0 AND value <= 100", name="value_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    value: Mapped[float] = mapped_column(Float)
    metric: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AnswerCount(Base):
    """How many answers of each value an item received: per local month, agency, service and version.

    Kept up to date in the transaction that writes each response (survey.rollup), so that a month's
    report reads counts instead of every answer. ``service_id`` 0 means no service recorded.
    """

    __tablename__ = "answer_counts"
    # Keyed in the order a report groups the counts (summed over services), and stored in that order
    # on SQLite (no rowid): the month's sums stream out of the key, with no sort and no second index.
    __table_args__ = {"sqlite_with_rowid": False}

    period: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the local month
    questionnaire_version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class ScoreSum(Base):
    """Sums of respondent-level scores (analysis.scores) per element and overall, for the intervals."""

    __tablename__ = "score_sums"

    period: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    questionnaire_version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    sum_y: Mapped[float] = mapped_column(Float)
    sum_y2: Mapped[float] = mapped_column(Float)


ROLES = ("admin", "analyst", "official", "officer")


class User(Base):
    """A staff account. Citizens never have one."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'analyst', 'official', 'officer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # None: the whole platform; else this agency and the agencies below it.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised whenever every session of the account must end (logout, password, role, scope, disabling).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    agency: Mapped[Agency | None] = relationship()

    # Flask-Login's user protocol
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        # The session cookie names the account and the version it was opened under.
        return f"{self.id}:{self.session_version}"


class ApiKey(Base):
    """A key another system (the one-stop software) uses to call the API. Only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # not secret: names the key in lists and logs
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the whole key
    # None: every agency; else this agency and the agencies below it.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()


class AuditEntry(Base):
    """One change made through the administration: never updated or deleted by the application."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))  # the user's e-mail, or "cli"
    action: Mapped[str] = mapped_column(String(32))  # create, update, deactivate, revoke...
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(254))
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON


class SharedValue(Base):
    """What every worker and server reads the same copy of: the month's figures, rendered charts, locks.

    survey.reporting.store keeps them here by default and in Redis when REDIS_URL is set.
    """

    __tablename__ = "shared_values"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


JOB_STATES = ("queued", "running", "done", "failed")


class ReportJob(Base):
    """A report pack built off the request by the task queue (survey.reporting.packs), kept a while after.

    ``key`` names what is built (selection, format, language, the figures' snapshot): every official asking
    for the same pack finds the same row, so it is built once.
    """

    __tablename__ = "report_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str] = mapped_column(String(8), default="vi", server_default="vi")  # the pack's language
    selection: Mapped[str] = mapped_column(Text)  # JSON: month, questionnaire, agency (null: every agency)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[bytes | None] = mapped_column(LargeBinary)  # set together with state "done", never half
    figures_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the pack's figures were taken
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
