"""The domain's tables, as typed SQLAlchemy 2 models.

Everything belongs to exactly one organisation. Deleting an organisation, a
survey or a respondent removes what hangs off it (ORM cascades plus ``ON DELETE
CASCADE`` in the schema, so neither path can orphan rows); an instrument that a
survey uses can never be deleted (``RESTRICT``).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from cxalign.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: use cxalign.models.utcnow()")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def new_token() -> str:
    """A URL-safe secret of 256 bits for personal links, invitations and API tokens."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored only as SHA-256: they are long random values, so no salt is needed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def derive_link_token(secret_key: str, nonce: str) -> str:
    """A personal-link token: HMAC-SHA256 of a random 128-bit nonce under the app's secret.

    The database keeps only the nonce and the token's hash, so a copy of the database alone
    opens no questionnaire; with the secret, the same link can be sent again in a reminder.
    Rotating SECRET_KEY therefore invalidates every personal link (see docs).
    """
    digest = hmac.new(secret_key.encode(), f"respondent-link:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


class Role(enum.StrEnum):
    OWNER = "owner"  # CX leader: runs surveys, manages members
    ANALYST = "analyst"  # reads results, downloads reports and exports
    CONSULTANT = "consultant"  # an analyst across several organisations


class Group(enum.StrEnum):
    EXECUTIVE = "executive"
    CX_PROFESSIONAL = "cx_professional"


class SurveyStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class RespondentStatus(enum.StrEnum):
    INVITED = "invited"
    STARTED = "started"
    COMPLETED = "completed"


def _enum_check(column: str, values: type[enum.StrEnum]) -> str:
    # Quoted: "group" is a reserved word in SQL.
    allowed = ", ".join(repr(v.value) for v in values)
    return f'"{column}" IN ({allowed})'


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )
    surveys: Mapped[list[Survey]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )
    instruments: Mapped[list[Instrument]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    current_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(db.Model):
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id"),
        CheckConstraint(_enum_check("role", Role), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class StaffInvitation(db.Model):
    """A single-use, expiring link that lets someone join an organisation with a role."""

    __table_args__ = (CheckConstraint(_enum_check("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()


class Instrument(db.Model):
    """One version of a matched questionnaire. ``organisation_id`` is NULL for built-ins.

    Versions that a survey has opened with are frozen: editing makes a new version
    (same ``key``, ``version`` + 1), so a survey always keeps the exact items it ran.
    """

    __table_args__ = (UniqueConstraint("organisation_id", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="instruments")
    dimensions: Mapped[list[Dimension]] = relationship(
        back_populates="instrument",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Dimension.position",
    )
    open_questions: Mapped[list[OpenQuestion]] = relationship(
        back_populates="instrument",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="OpenQuestion.position",
    )

    @property
    def is_builtin(self) -> bool:
        return self.organisation_id is None

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"


class Dimension(db.Model):
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        CheckConstraint("importance >= 0 AND importance <= 1", name="importance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    finding: Mapped[str] = mapped_column(Text, default="")
    importance: Mapped[float] = mapped_column(Float, default=0.5)

    instrument: Mapped[Instrument] = relationship(back_populates="dimensions")
    items: Mapped[list[Item]] = relationship(
        back_populates="dimension",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Item.position",
    )


class Item(db.Model):
    """One construct in two wordings: the executive's and the CX professional's."""

    __table_args__ = (UniqueConstraint("instrument_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised so that item codes can be unique per instrument in the schema itself.
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), index=True
    )
    dimension_id: Mapped[int] = mapped_column(
        ForeignKey("dimension.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(40))
    executive_text: Mapped[str] = mapped_column(Text)
    cx_text: Mapped[str] = mapped_column(Text)
    scale_key: Mapped[str] = mapped_column(String(40))
    scale_kind: Mapped[str] = mapped_column(String(20))
    scale_labels: Mapped[list[str]] = mapped_column(JSON)
    reverse: Mapped[bool] = mapped_column(Boolean, default=False)
    dont_know: Mapped[bool] = mapped_column(Boolean, default=False)
    help_text: Mapped[str | None] = mapped_column(Text)

    dimension: Mapped[Dimension] = relationship(back_populates="items")
    instrument: Mapped[Instrument] = relationship(viewonly=False, overlaps="items")

    @property
    def points(self) -> int:
        return len(self.scale_labels)

    def wording(self, group: str) -> str:
        return self.executive_text if group == Group.EXECUTIVE else self.cx_text


class OpenQuestion(db.Model):
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        CheckConstraint(_enum_check("group", Group), name="group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(40))
    group: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)

    instrument: Mapped[Instrument] = relationship(back_populates="open_questions")


class Survey(db.Model):
    """One wave: an instrument version run for one organisation."""

    __table_args__ = (
        CheckConstraint(_enum_check("status", SurveyStatus), name="status"),
        CheckConstraint("anonymity_executive >= 1", name="anonymity_executive"),
        CheckConstraint("anonymity_cx >= 1", name="anonymity_cx"),
        CheckConstraint("gap_threshold > 0", name="gap_threshold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=SurveyStatus.DRAFT)
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymity_executive: Mapped[int] = mapped_column(Integer, default=3)
    anonymity_cx: Mapped[int] = mapped_column(Integer, default=3)
    comment_minimum: Mapped[int] = mapped_column(Integer, default=3)
    # In points on a 5-point scale (0.5 = 12.5 POMP); see docs/methodology.md.
    gap_threshold: Mapped[float] = mapped_column(Float, default=0.5)
    reminder_cooldown_hours: Mapped[int] = mapped_column(Integer, default=48)
    # When True (the default) staff never see who has or has not answered.
    anonymous_to_staff: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_review: Mapped[bool] = mapped_column(Boolean, default=True)
    # Waves of one study share a series key; the first wave's id by convention.
    series_key: Mapped[str | None] = mapped_column(String(40), index=True)
    previous_survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey.id", ondelete="SET NULL")
    )
    retention_days: Mapped[int | None] = mapped_column(Integer)
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="surveys")
    instrument: Mapped[Instrument] = relationship()
    respondents: Mapped[list[Respondent]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", passive_deletes=True
    )
    open_links: Mapped[list[OpenLink]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", passive_deletes=True
    )

    def anonymity_threshold(self, group: str) -> int:
        return self.anonymity_executive if group == Group.EXECUTIVE else self.anonymity_cx


class OpenLink(db.Model):
    """A shareable link per group: each first visit creates a fresh respondent."""

    __table_args__ = (CheckConstraint(_enum_check("group", Group), name="group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    group: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship(back_populates="open_links")


class Respondent(db.Model):
    __table_args__ = (
        UniqueConstraint("survey_id", "email"),
        UniqueConstraint("survey_id", "external_ref"),
        CheckConstraint(_enum_check("group", Group), name="group"),
        CheckConstraint(_enum_check("status", RespondentStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    group: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    # An identifier from an imported file (the CSV's ``respondent`` column).
    external_ref: Mapped[str | None] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_nonce: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default=RespondentStatus.INVITED)
    source: Mapped[str] = mapped_column(String(20), default="invited")
    last_page: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)

    survey: Mapped[Survey] = relationship(back_populates="respondents")
    responses: Mapped[list[Response]] = relationship(
        back_populates="respondent", cascade="all, delete-orphan", passive_deletes=True
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="respondent", cascade="all, delete-orphan", passive_deletes=True
    )

    def issue_token(self, secret_key: str) -> str:
        """Give the respondent a new personal link (any earlier link stops working)."""
        self.link_nonce = secrets.token_hex(16)
        token = derive_link_token(secret_key, self.link_nonce)
        self.token_hash = hash_token(token)
        return token

    def link_token(self, secret_key: str) -> str:
        """The respondent's current personal-link token, for invitations and reminders."""
        return derive_link_token(secret_key, self.link_nonce)


class Response(db.Model):
    """One answer of one respondent to one item: a scale value or "don't know"."""

    __table_args__ = (
        UniqueConstraint("respondent_id", "item_id"),
        CheckConstraint(
            "(value IS NOT NULL AND dont_know = false) OR (value IS NULL AND dont_know = true)",
            name="value_or_dont_know",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondent.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="RESTRICT"), index=True)
    value: Mapped[int | None] = mapped_column(Integer)
    dont_know: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    respondent: Mapped[Respondent] = relationship(back_populates="responses")
    item: Mapped[Item] = relationship()


class Comment(db.Model):
    """A free-text answer to an open question. Always rendered escaped."""

    __table_args__ = (UniqueConstraint("respondent_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondent.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("open_question.id", ondelete="RESTRICT"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    respondent: Mapped[Respondent] = relationship(back_populates="comments")
    question: Mapped[OpenQuestion] = relationship()


class EmailMessage(db.Model):
    """Every message we send, or keep in the outbox when no SMTP server is configured."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondent.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # invitation, reminder, staff_invitation
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="outbox")  # outbox, sent, failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A per-organisation token for the results API; only its hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """A sensitive action: report downloads, exports, role and status changes, erasures."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


class RenderedReport(db.Model):
    """A cached PDF, valid while the survey's data version is unchanged.

    Kept in the database rather than on disk so that every worker and host shares it.
    """

    __table_args__ = (UniqueConstraint("survey_id", "paper"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    paper: Mapped[str] = mapped_column(String(10))  # a4, letter
    data_version: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
