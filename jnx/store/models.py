"""The jnx database: SQLAlchemy 2.0 typed models of everything the exchange persists.

Portable on purpose, so a county's SQLite file and the city's PostgreSQL behave alike:

* enums are Python ``Enum``\\ s stored as their *values* in VARCHAR columns (``native_enum=False``,
  no CHECK constraint), so adding a member needs no migration;
* instants are :class:`UTCDateTime` (timezone-aware in and out, UTC in the database), days are
  ``Date``, JSON is ``JSON`` (the engine serialises ``Decimal`` and dates as strings, see
  :mod:`jnx.store.db`), payload bytes are ``LargeBinary``;
* every constraint and index has an explicit name (:data:`NAMING_CONVENTION`), so Alembic
  autogenerate is stable; the schema itself only changes through ``jnx/store/migrations``.

Tables (one line each in docs/storage.md): source_systems, watermarks, runs, raw_records,
standard_records, standard_record_revisions, record_lineage, mapping_errors, disclosures,
disclosure_revisions, deliveries (the outbox), keys, audit_entries; alerts, alert_notifications and workers
(operations, 0008); jobs (the long actions of the API and the console, 0013).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

HASH = 64  # sha256, hex


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware instant, stored in UTC; naive datetimes are refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; jnx stores aware instants only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def beijing_day(instant: dt.datetime) -> dt.date:
    """The calendar day of ``instant`` in China (deadlines are Beijing dates)."""
    return instant.astimezone(BEIJING).date()


def utcnow() -> dt.datetime:
    """Now, timezone-aware (UTC): the default of every ``*_at`` column."""
    return dt.datetime.now(dt.UTC)


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class SystemKind(enum.StrEnum):
    LICENSING = "licensing"  # 行政许可
    CASE_HANDLING = "case_handling"  # 行政处罚 / 办案
    DOUBLE_RANDOM = "double_random"  # 双随机一公开
    CREDIT = "credit"  # 信用平台
    OTHER = "other"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RunTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    REPLAY = "replay"


class MappingErrorStatus(enum.StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    IGNORED = "ignored"
    RESOLVED = "resolved"


class DisclosureKind(enum.StrEnum):
    LICENSE = "license"  # 行政许可
    PENALTY = "penalty"  # 行政处罚


class DisclosureStatus(enum.StrEnum):
    PENDING = "pending"  # derived, not yet acknowledged by the credit platform
    PUBLISHED = "published"  # 已公示
    WITHDRAWN = "withdrawn"  # 撤下 (decision changed, revoked, or repaired: 信用修复)
    EXPIRED = "expired"  # display period (公示期限) over
    BLOCKED = "blocked"  # the outbound mapping refused the record: ``problems`` says why (0002)
    REJECTED = "rejected"  # the credit platform rejected the current revision: ``problems`` has its reasons (0002)


class EnforcementPublicityStatus(enum.StrEnum):
    """执法公示 of a 行政强制 / 行政检查 record (0006)."""

    ON_TIME = "on_time"  # made public (``published_on``; without it: reached jnx) by its 20th working day
    LATE = "late"  # made public (or, without a date, reached jnx) after its deadline
    REVOKED = "revoked"  # the source revoked the decision: nothing to publicise


class DisclosureAction(enum.StrEnum):
    NEW = "new"
    CORRECTION = "correction"  # 变更
    WITHDRAWAL = "withdrawal"  # 撤销 / 停止公示


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    FAILED = "failed"
    HELD = "held"  # not pushed while its record is in a business-key conflict (0003); pending again when resolved


class KeyOwner(enum.StrEnum):
    SELF = "self"
    PEER = "peer"


class KeyUse(enum.StrEnum):
    SIG = "sig"
    ENC = "enc"


class KeySuite(enum.StrEnum):
    JOSE = "jose"  # RSA / EC with JWS + JWE
    SM = "sm"  # 国密 SM2 / SM3 / SM4


class KeyState(enum.StrEnum):
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        bytes: LargeBinary(),
    }


def _created() -> Mapped[dt.datetime]:
    return mapped_column(default=utcnow)


def _updated() -> Mapped[dt.datetime]:
    return mapped_column(default=utcnow, onupdate=utcnow)


def _system_fk() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("source_systems.id"))


class SourceSystem(Base):
    """A department's registered platform (来源系统), as declared in its registration file."""

    __tablename__ = "source_systems"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_name: Mapped[str] = mapped_column(String(200))
    department_credit_code: Mapped[str] = mapped_column(String(18))  # 统一社会信用代码
    region_code: Mapped[str] = mapped_column(String(12))  # 行政区划代码
    kind: Mapped[SystemKind] = mapped_column(_enum(SystemKind, 32))
    protocol: Mapped[str] = mapped_column(String(32))  # soap / rest / file …: the adapter's name
    registration: Mapped[dict[str, Any]]  # the registration document as validated
    mapping_name: Mapped[str] = mapped_column(String(100))
    mapping_version: Mapped[str] = mapped_column(String(32))
    schedule_cron: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class Watermark(Base):
    """How far a system's stream has been pulled; moves only after what it covers is committed."""

    __tablename__ = "watermarks"

    system_id: Mapped[str] = mapped_column(String(64), ForeignKey("source_systems.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _updated()

    system: Mapped[SourceSystem] = relationship()


class Run(Base):
    """One pull of one system; a leased row (see :mod:`jnx.store.leases`)."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("system_id", "due_at"),  # two schedulers never create the same due run twice
        Index(None, "status", "lease_expires_at"),
        Index(None, "status", "due_at"),
        Index(None, "finished_at"),  # the month's indicators (0007)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    system_id: Mapped[str] = _system_fk()
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus), default=RunStatus.QUEUED)
    trigger: Mapped[RunTrigger] = mapped_column(_enum(RunTrigger))
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[dt.datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pulled staged new revised unchanged errors seconds
    error: Mapped[str | None] = mapped_column(Text)
    watermark_from: Mapped[str | None] = mapped_column(Text)
    watermark_to: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()

    system: Mapped[SourceSystem] = relationship()


class RawRecord(Base):
    """A source record exactly as received; never changed, never deleted by a run."""

    __tablename__ = "raw_records"
    __table_args__ = (UniqueConstraint("system_id", "source_key", "content_hash"), Index(None, "run_id"),
                      Index(None, "received_at"))  # received_at: the month's indicators (0007)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    system_id: Mapped[str] = _system_fk()
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id"))
    source_key: Mapped[str] = mapped_column(String(200))
    record_type: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(HASH))
    payload: Mapped[bytes]
    encoding: Mapped[str] = mapped_column(String(32))  # utf-8, gb18030, … as received
    received_at: Mapped[dt.datetime] = _created()

    system: Mapped[SourceSystem] = relationship()
    run: Mapped[Run | None] = relationship()


class StandardRecord(Base):
    """A record of the Jining data standard, keyed by business key; its current revision."""

    __tablename__ = "standard_records"
    __table_args__ = (UniqueConstraint("record_type", "business_key"), Index(None, "decision_date"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(32))
    business_key: Mapped[str] = mapped_column(String(300))
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(HASH))
    data: Mapped[dict[str, Any]]
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    revisions: Mapped[list[StandardRecordRevision]] = relationship(
        back_populates="record", order_by="StandardRecordRevision.revision"
    )


class StandardRecordRevision(Base):
    """Every content a standard record has had, with the raw record and mapping version behind it."""

    __tablename__ = "standard_record_revisions"
    __table_args__ = (UniqueConstraint("record_id", "revision"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("standard_records.id"))
    revision: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(HASH))
    raw_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("raw_records.id"), index=True)
    mapping_name: Mapped[str] = mapped_column(String(100))
    mapping_version: Mapped[str] = mapped_column(String(32))
    mapping_hash: Mapped[str] = mapped_column(String(HASH))
    created_at: Mapped[dt.datetime] = _created()

    record: Mapped[StandardRecord] = relationship(back_populates="revisions")
    raw_record: Mapped[RawRecord | None] = relationship()


class RecordLineage(Base):
    """Which raw records (from which system) a standard record was made from."""

    __tablename__ = "record_lineage"
    __table_args__ = (UniqueConstraint("standard_record_id", "raw_record_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    standard_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("standard_records.id"))
    raw_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("raw_records.id"), index=True)
    system_id: Mapped[str] = _system_fk()
    created_at: Mapped[dt.datetime] = _created()

    standard_record: Mapped[StandardRecord] = relationship()
    raw_record: Mapped[RawRecord] = relationship()
    system: Mapped[SourceSystem] = relationship()


class MappingErrorEntry(Base):
    """A field-level failure of one raw record under one mapping table version (errors queue)."""

    __tablename__ = "mapping_errors"
    __table_args__ = (
        Index(None, "group_key", "status"),
        Index(None, "status", "system_id"),
        Index(None, "raw_record_id"),
        Index(None, "conflict_record_id"),
        Index(None, "resolved_by_run_id"),  # the errors a run closed (0010)
        Index(None, "created_at"),  # the month's indicators (0007)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raw_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("raw_records.id"))
    system_id: Mapped[str] = _system_fk()
    mapping_name: Mapped[str] = mapped_column(String(100))
    mapping_version: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(100))
    source_path: Mapped[str | None] = mapped_column(String(300))
    masked_value: Mapped[str | None] = mapped_column(Text)  # already masked: never a full ID number
    transform: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    group_key: Mapped[str] = mapped_column(String(HASH))  # hash(system, table@version, field, rule, value)
    status: Mapped[MappingErrorStatus] = mapped_column(_enum(MappingErrorStatus), default=MappingErrorStatus.OPEN)
    ignore_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()
    resolved_at: Mapped[dt.datetime | None]
    # rule business_key.conflict: the standard record whose business key this raw record claimed (0003)
    conflict_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("standard_records.id"))
    # the run that closed it: its newer source record superseded this one (0010); a replay, a correction or an ignore leaves it NULL
    resolved_by_run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id"))

    raw_record: Mapped[RawRecord] = relationship()
    system: Mapped[SourceSystem] = relationship()


class Disclosure(Base):
    """A 双公示 item derived from a license or penalty record, with its deadlines."""

    __tablename__ = "disclosures"
    __table_args__ = (
        UniqueConstraint("kind", "business_key"),
        Index(None, "status", "deadline"),
        Index(None, "standard_record_id"),
        Index(None, "deadline"),  # the month's 公示及时率 (0007)
        Index("ix_disclosures_unrevised_deadline", "deadline", postgresql_where=text("current_revision = 0"),
              sqlite_where=text("current_revision = 0")),  # overdue with no revision yet (0007)
        Index("ix_disclosures_current", "id", "current_revision", "status", "kind", "business_key"),  # what waits (0009)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[DisclosureKind] = mapped_column(_enum(DisclosureKind))
    standard_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("standard_records.id"))
    business_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[DisclosureStatus] = mapped_column(_enum(DisclosureStatus), default=DisclosureStatus.PENDING)
    decision_date: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # 7 working days after the decision
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # holiday calendar not yet known
    display_until: Mapped[dt.date | None] = mapped_column(Date)  # 公示截止期
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    deadline_basis: Mapped[str | None] = mapped_column(Text)  # the rule and calendar sources behind ``deadline`` (0002)
    problems: Mapped[list[Any] | None]  # why blocked or rejected: [{field, rule, message}] (0002)
    display_shortest_until: Mapped[dt.date | None] = mapped_column(Date)  # shortest display end: 信用修复 after it (0006)
    repaired_on: Mapped[dt.date | None] = mapped_column(Date)  # 信用修复 granted: stays withdrawn whatever the source says (0006)
    repair_reason: Mapped[str | None] = mapped_column(Text)  # (0006)
    # findings to review in what went out (an address masked in free text): [{field, rule, message, revision}] (0012)
    review: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))  # None is SQL NULL: `IS NULL` finds it
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    standard_record: Mapped[StandardRecord] = relationship()
    revisions: Mapped[list[DisclosureRevision]] = relationship(
        back_populates="disclosure", order_by="DisclosureRevision.revision"
    )


class EnforcementPublicity(Base):
    """执法公示 (行政执法公示制度, 20 working days) of one 行政强制 or 行政检查 standard record: its deadline and
    the day the record reached jnx — plain columns the indicators aggregate (docs/disclosures.md)."""

    __tablename__ = "enforcement_publicity"
    __table_args__ = (
        UniqueConstraint("standard_record_id"),
        Index(None, "status", "deadline"),
        Index(None, "authority_credit_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    standard_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("standard_records.id"))
    record_type: Mapped[str] = mapped_column(String(32))
    business_key: Mapped[str] = mapped_column(String(300))
    authority_credit_code: Mapped[str | None] = mapped_column(String(18))
    region: Mapped[str | None] = mapped_column(String(12))
    decision_date: Mapped[dt.date] = mapped_column(Date)  # 决定日期, or 检查日期 of an inspection
    deadline: Mapped[dt.date] = mapped_column(Date)  # 20 working days after it
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_basis: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[dt.date] = mapped_column(Date)  # the Beijing day jnx first stored the record
    published_on: Mapped[dt.date | None] = mapped_column(Date)  # 执法公示日期 as the source reports it (0012)
    status: Mapped[EnforcementPublicityStatus] = mapped_column(_enum(EnforcementPublicityStatus))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class DisclosureRevision(Base):
    """One version of a disclosure as pushed: new, correction or withdrawal, with its idempotency key."""

    __tablename__ = "disclosure_revisions"
    __table_args__ = (UniqueConstraint("disclosure_id", "revision"), UniqueConstraint("idempotency_key"),
                      Index(None, "due_date"),
                      # what waits: overdue, due soon (0007; with the disclosure and revision it names, 0009)
                      Index("ix_disclosure_revisions_waiting_due", "due_date", "disclosure_id", "revision",
                            postgresql_where=text("acknowledged_at IS NULL"), sqlite_where=text("acknowledged_at IS NULL")),
                      Index("ix_disclosure_revisions_first_ack", "disclosure_id", "acknowledged_on", "action"))  # 公示及时率 (0009)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    disclosure_id: Mapped[int] = mapped_column(BigId, ForeignKey("disclosures.id"))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[DisclosureAction] = mapped_column(_enum(DisclosureAction))
    payload: Mapped[dict[str, Any]]  # masked, in the outbound format
    idempotency_key: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)  # why this correction or withdrawal (0002)
    created_at: Mapped[dt.datetime] = _created()
    # the credit platform's first acceptance of this revision, written once (0007): the instant and its
    # Beijing day, which 公示及时率 compares with ``due_date`` (docs/indicators.md)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date)

    disclosure: Mapped[Disclosure] = relationship(back_populates="revisions")


class Delivery(Base):
    """The outbox: pushing one disclosure revision; a leased row (see :mod:`jnx.store.leases`)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "status", "lease_expires_at"),
        Index(None, "disclosure_revision_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    disclosure_revision_id: Mapped[int] = mapped_column(BigId, ForeignKey("disclosure_revisions.id"))
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    line: Mapped[str | None] = mapped_column(String(500))  # the endpoint line that answered
    receipt: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    envelope: Mapped[str | None] = mapped_column(Text)  # the sealed item, reused on retries until near expiry (0002)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    disclosure_revision: Mapped[DisclosureRevision] = relationship()


class KeyRecord(Base):
    """A signing or encryption key, ours or a peer's; private halves only encrypted."""

    __tablename__ = "keys"
    __table_args__ = (Index(None, "owner", "use", "state"),)

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[KeyOwner] = mapped_column(_enum(KeyOwner))
    peer: Mapped[str | None] = mapped_column(String(100))  # whose key, when owner is peer
    use: Mapped[KeyUse] = mapped_column(_enum(KeyUse))
    suite: Mapped[KeySuite] = mapped_column(_enum(KeySuite))
    algorithm: Mapped[str] = mapped_column(String(32))
    public_jwk: Mapped[dict[str, Any]]
    private_key_encrypted: Mapped[bytes | None]
    state: Mapped[KeyState] = mapped_column(_enum(KeyState), default=KeyState.ACTIVE)
    created_at: Mapped[dt.datetime] = _created()
    not_after: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """Append-only, hash-chained: ``hash = H(prev_hash, seq, at, actor, action, subject, details)``."""

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("hash"), Index(None, "subject"))

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = _created()
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    hash: Mapped[str] = mapped_column(String(HASH))


# --- accounts (0004): users, password history, recovery codes, console sessions, login attempts ------


class UserState(enum.StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"  # too many wrong passwords: until ``locked_until``, or a security administrator unlocks
    DISABLED = "disabled"  # by a security administrator; no login, no token, no session


class User(Base):
    """A person who logs in (or a named service account, ``service`` true: tokens only, no password)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str | None] = mapped_column(String(18))  # 执法主体 统一社会信用代码
    region: Mapped[str | None] = mapped_column(String(12))  # 行政区划代码 (市/县/乡镇)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[UserState] = mapped_column(_enum(UserState), default=UserState.ACTIVE)
    service: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[dt.datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; set at enrolment
    totp_confirmed_at: Mapped[dt.datetime | None]  # enrolment finished (a first code was right)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code is good once
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class PasswordHistory(Base):
    """Every password a user had (Argon2id hashes), newest last; a new one may not be among the last N."""

    __tablename__ = "password_history"
    __table_args__ = (Index(None, "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created()


class RecoveryCode(Base):
    """One-time codes that stand in for a TOTP code when the authenticator is lost (SHA-256 of the code)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(HASH))
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()


class UserSession(Base):
    """A console/API login: the cookie holds the token, the row its SHA-256; ends idle or at ``expires_at``."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(String(HASH), primary_key=True)  # sha256 of the cookie's token
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _created()
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]  # absolute end (8 h after login by default)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))  # logout, idle, expired, disabled, password


class LoginAttempt(Base):
    """One login attempt, for the per-account and per-address rate limits (old rows are pruned)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = _created()


class ApiToken(Base):
    """A bearer token for machines: owned by a user or a named service account, with scopes and an
    expiry; only its SHA-256 is stored. It never holds more than its owner (the owner's roles, narrowed)."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"), UniqueConstraint("user_id", "name"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(HASH))
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a token in a list
    scopes: Mapped[list[Any]] = mapped_column(default=list)  # action patterns: "errors.*", "read", "*"
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


# --- operations (0008): alerts, their notifications, the worker registry -----------------------------


class AlertKind(enum.StrEnum):
    """What an alert is about (docs/operations.md, "Alerts")."""

    SYSTEM_LATE = "system_late"  # no successful run for N× its schedule
    LINE_DOWN = "line_down"  # a line of a system does not answer
    OUTBOX_STALE = "outbox_stale"  # outbox items waiting longer than allowed
    DISCLOSURE_DUE = "disclosure_due"  # a 双公示 deadline within a working day, not yet acknowledged
    AUDIT_BROKEN = "audit_broken"  # the audit chain does not verify
    KEY_EXPIRING = "key_expiring"  # one of jnx's own keys is due for rotation


class AlertSeverity(enum.StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(Base):
    """One alert: opened once per (kind, subject) while its cause lasts, updated, resolved when it ends.

    ``notifications`` is the state of telling people, per event and channel:
    ``{"opened": {"webhook": {"state": "sent", "attempts": 1}}, "resolved": {...}}``; each attempt is
    a row of ``alert_notifications``."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_open_kind_subject", "kind", "subject", unique=True, postgresql_where=text("resolved_at IS NULL"),
              sqlite_where=text("resolved_at IS NULL")),  # one open alert per cause, however many evaluators
        Index(None, "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind, 32))
    subject: Mapped[str] = mapped_column(String(300))  # system:ID, line:ID/NAME, outbox, disclosure:ID, audit, key:KID
    severity: Mapped[AlertSeverity] = mapped_column(_enum(AlertSeverity))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    notifications: Mapped[dict[str, Any]] = mapped_column(default=dict)
    acknowledged_at: Mapped[dt.datetime | None]  # someone is on it (0011): still open until the cause ends
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_note: Mapped[str | None] = mapped_column(Text)


class AlertNotification(Base):
    """One attempt to tell someone of an alert's event (opened, resolved) on one channel."""

    __tablename__ = "alert_notifications"
    __table_args__ = (Index(None, "alert_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alerts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))  # opened | resolved
    channel: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(500))  # the URL (credentials redacted) or the addresses
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    answer: Mapped[str | None] = mapped_column(Text)  # HTTP status or SMTP reply, or the error
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkerProcess(Base):
    """A ``jnx serve`` process: where it runs, since when, its last heartbeat (the worker registry)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # HOST-PID, the prefix of its lease owners
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(32))
    threads: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[dt.datetime | None]
    doing: Mapped[dict[str, Any]] = mapped_column(default=dict)  # thread name → what it works on now


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(Base):
    """A long action (a run, a replay, a delivery, a reconciliation) started from the API or the console,
    with its progress; kept in the database so every worker process and the CLI see it (0013). A job
    whose process stopped is marked failed once its lease is over (:mod:`jnx.services.jobs`)."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "status", "lease_expires_at"), Index(None, "owner", "created_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))  # runs.start, errors.replay, deliveries.run, reconcile.run
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200))  # the actor's audit name (cli:…, api:…, a user)
    owner_user_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.QUEUED)
    phase: Mapped[str] = mapped_column(String(200), default="")
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)
    back: Mapped[str | None] = mapped_column(String(500))  # the console page to return to
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid of the process running it
    lease_expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
