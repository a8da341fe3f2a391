"""SQLAlchemy 2 declarative models of the workstation database.

The schema itself is created and changed only by the Alembic migrations in
``workstation/migrations``; these models must match them (a test compares the two).

Conventions:
- Every timestamp is stored as naive UTC (``UTCDateTime``) and read back as an aware UTC
  datetime, identically on SQLite and PostgreSQL.
- Columns holding personal data are ``LargeBinary`` values sealed by ``crypto.FieldCipher``;
  holders are found through ``holder_hash`` (keyed HMAC of the ID number / credit code).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit column.
BigInt = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as naive UTC; naive values are refused (they are ambiguous)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are not stored; use an aware (UTC) datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # defensive: raw SQLite text
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OperatorRow(Base):
    """A window clerk or administrator who signs in to the workstation."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsentRow(Base):
    """A consent decision (granted or declined) about fetching an applicant's licences."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consent_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    holder_hash: Mapped[str] = mapped_column(String(64), index=True)
    holder_kind: Mapped[str] = mapped_column(String(16))
    identified_by: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    purpose: Mapped[str] = mapped_column(String(200))
    matter_code: Mapped[str] = mapped_column(String(64))
    licence_types: Mapped[list[str]] = mapped_column(JSON)
    scenario: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))  # "granted" / "declined"
    channel: Mapped[str] = mapped_column(String(16))
    workstation_id: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LicenceCacheRow(Base):
    """A licence fetched under a consent, kept for offline use until ``expires_at``."""

    __tablename__ = "licence_cache"
    __table_args__ = (
        Index("ix_licence_cache_lookup", "holder_hash", "type_key", "expires_at"),
        Index("ix_licence_cache_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    licence_id: Mapped[str] = mapped_column(String(128), unique=True)
    holder_hash: Mapped[str] = mapped_column(String(64))
    type_key: Mapped[str] = mapped_column(String(64))
    licence_data: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted LicenceJSON
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # encrypted PNG
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    consent_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("consents.id", ondelete="SET NULL"), nullable=True
    )


class AuditEventRow(Base):
    """One hash-chained audit event. Never updated or deleted by the application."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_time", "time"),
        Index("ix_audit_events_kind", "kind"),
        Index("ix_audit_events_holder_hash", "holder_hash"),
    )

    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(64))
    workstation_id: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scenario: Mapped[str | None] = mapped_column(String(64), nullable=True)
    holder_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHeadRow(Base):
    """The single row (id 1) holding the chain's last seq and hash; appends lock it."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInt)
    last_hash: Mapped[str] = mapped_column(String(64))


class SeenCodeRow(Base):
    """A one-time code already accepted (offline replay detection); keyed by SHA-256 of jti."""

    __tablename__ = "seen_codes"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class OutboxRow(Base):
    """A submission waiting to be sent to a platform (sent when the link returns)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class WorkstationMetaRow(Base):
    """Facts about the database itself, as key/value pairs (e.g. the field-key fingerprint).

    Never holds key material or personal data.
    """

    __tablename__ = "workstation_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IssuedDocumentRow(Base):
    """A document the workstation issued (printed or saved): its verification code and the
    SHA-256 of the exact PDF bytes, where, when and what kind. No personal data in plaintext:
    the holder is a keyed hash (``FieldCipher.holder_hash``)."""

    __tablename__ = "issued_documents"
    __table_args__ = (Index("ix_issued_documents_holder_hash", "holder_hash"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))  # template key
    title: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    issuing_unit: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(200))
    workstation_id: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scenario: Mapped[str | None] = mapped_column(String(64), nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    holder_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PrintJobRow(Base):
    """One print (or save-to-file) of an issued document. ``idempotency_key`` is unique: a
    retried print finds the job it already submitted instead of printing the document again;
    a deliberate reprint gets the next key (``CODE#2``)."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(40), unique=True)
    document_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("issued_documents.code", ondelete="CASCADE"), index=True
    )
    destination: Mapped[str] = mapped_column(String(16))  # "printer" / "file"
    printer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    cups_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # JobState value
    problem: Mapped[str | None] = mapped_column(String(32), nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


META_KEY_FINGERPRINT = "field_key_fingerprint"

GENESIS_HASH = "0" * 64


class ScenarioRecordRow(Base):
    """One record a scenario plugin keeps (``workstation.services.records``). ``data`` is
    sealed JSON; the holder is a keyed hash; ``version`` grows by one on every change (the
    compare-and-set of ``update`` and ``claim_first``)."""

    __tablename__ = "scenario_records"
    __table_args__ = (
        UniqueConstraint("scenario", "kind", "key", name="uq_scenario_records_scenario_kind_key"),
        Index("ix_scenario_records_holder", "scenario", "kind", "holder_hash"),
        Index("ix_scenario_records_state", "scenario", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    scenario: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(32))
    holder_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted JSON
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
