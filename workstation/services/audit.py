"""The append-only, hash-chained audit log.

Every identification, consent, licence access, print and submission is one row. Each row's
``row_hash`` is HMAC-SHA256 over a canonical JSON serialisation of its fields and the previous
row's hash, keyed with ``cipher.derive_key("audit-chain")``: changing, deleting or reordering
rows breaks the chain from that point, and since the key never goes into the database, someone
who can only write the database cannot recompute a consistent chain. ``verify()`` finds the
first broken link. A one-row table ``audit_chain_head`` holds the last seq and hash: appends
lock it (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so several
workstations sharing one database (and one key file) append to one consistent chain, and
deleting rows at the tail is detected too.

Audit rows hold no plaintext personal data: the holder is a keyed hash; ``details`` keys named
like personal fields (name, phone, address, ...) and values that look like an ID number (18 or
15 digits), a unified social credit code, a mobile or a landline number are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workstation.services.crypto import FieldCipher
from workstation.services.identity import (
    CREDIT_CHARSET,
    PROVINCE_CODES,
    credit_check_char,
)
from workstation.services.licence_ids import is_valid_licence_id
from workstation.services.model import LICENCE_TYPES
from workstation.services.store import Store
from workstation.services.tables import GENESIS_HASH, AuditChainHeadRow, AuditEventRow

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditKind(StrEnum):
    """Well-known event kinds; ``kind`` is a plain string column, so plugins may add more."""

    IDENTIFICATION = "identification"
    CONSENT_GRANTED = "consent_granted"
    CONSENT_DECLINED = "consent_declined"
    CONSENT_REVOKED = "consent_revoked"
    LICENCE_ACCESS = "licence_access"
    LICENCE_REFUSED = "licence_refused"
    PRINT = "print"
    SUBMISSION = "submission"
    REFUSAL = "refusal"
    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"
    OPERATOR_SIGN_IN = "operator_sign_in"
    OPERATOR_SIGN_IN_FAILED = "operator_sign_in_failed"
    OPERATOR_SIGN_OUT = "operator_sign_out"
    OPERATOR_CREATED = "operator_created"
    OPERATOR_CHANGED = "operator_changed"
    SCOPE_REFUSED = "scope_refused"
    PLUGIN_ERROR = "plugin_error"
    CONFIG = "config"
    CACHE_PURGED = "cache_purged"


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    time: dt.datetime
    kind: str
    workstation_id: str
    operator: str | None
    scenario: str | None
    holder_hash: str | None
    details: dict[str, Any]
    prev_hash: str
    row_hash: str


@dataclass(frozen=True)
class AuditVerification:
    """Result of ``AuditLog.verify()``; ``reason`` is a Chinese sentence for the operator."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    last_seq: int = 0


# -- personal-data guard ---------------------------------------------------------------------

_TOKEN18_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
# First-generation (15-digit) ID numbers: 6-digit area, YYMMDD birth date (19YY), 3 digits.
_TOKEN15_RE = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
# Mainland mobile numbers, also written 138-1234-5678 or +86 138 1234 5678. The number must
# stand alone (no letter or digit on either side), so random identifiers such as UUIDs and
# hex digests are not mistaken for one; nor may it sit inside a hyphenated identifier such as
# the case number ``HALL-170-20361026-043315-878`` (not after "<letter or digit>-", not
# followed by "-<digit>").
_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}"
    r"(?![0-9A-Za-z])(?!-\d)"
)
# Landline numbers: a real area code (010, 02x, 0[3-9]xx), optionally in brackets, then a
# 7- or 8-digit local number starting with 2-8, e.g. 0715-5212345, 07155212345,
# (027)87654321. Not inside a hyphenated identifier (``HALL-010-20261127-...``): the number may
# not follow "<letter or digit>-" nor be followed by "-<digit>".
_LANDLINE_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?:\+?86[- ]?)?"
    r"(?:[(（](?:010|02\d|0[3-9]\d{2})[)）]|(?:010|02\d|0[3-9]\d{2}))"
    r"[- ]?[2-8]\d{6,7}(?![0-9A-Za-z])(?!-\d)"
)
# Random identifiers (UUIDs, also uppercase or in braces) are never personal: blanked out
# before the phone patterns run, so a UUID's 12-digit last group is not read as a landline.
_UUID_RE = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
    r"[0-9A-Fa-f]{12}(?![0-9A-Za-z])"
)
# GB/T 36904 licence identifiers may be audited; their parts (18-digit type codes, the issuing
# authority's credit code, zero-padded serials) must not be mistaken for personal identifiers.
_LICENCE_ID_RE = re.compile(r"^1\.2\.156\.3005\.2(?:\.[0-9A-Za-z]+){3,6}$")
_EMBEDDED_LICENCE_ID_RE = re.compile(
    r"(?<![0-9A-Za-z.])1\.2\.156\.3005\.2(?:\.[0-9A-Za-z]+){5}(?![0-9A-Za-z.])"
)
_TYPE_CODES = frozenset(t.type_code for t in LICENCE_TYPES.values())
# Keys are compared after normalisation (camelCase -> snake_case, lower case, "-"/"."/spaces
# -> "_"), so holderName, Holder-Name and holder_name are all caught.
_PERSONAL_KEYS = frozenset({
    # identifiers
    "holder_id", "id_number", "id_no", "idcard", "id_card", "id_card_number", "id_card_no",
    "credit_code", "citizen_id", "ssn", "social_security_number",
    "身份证", "身份证号", "身份证号码", "公民身份号码", "证件号码", "统一社会信用代码",
    # names
    "name", "full_name", "real_name", "person_name", "holder_name", "applicant",
    "applicant_name", "agent_name", "contact_name",
    "姓名", "名字", "申请人", "申请人姓名", "代办人", "代办人姓名", "联系人", "持证人",
    # phones
    "phone", "mobile", "telephone", "tel", "landline", "phone_number", "mobile_number",
    "contact_phone", "cellphone",
    "电话", "手机", "手机号", "手机号码", "联系电话", "固定电话", "座机",
    # addresses and other personal facts
    "address", "home_address", "residence", "birth_date", "birthday", "date_of_birth",
    "email",
    "住址", "地址", "家庭住址", "户籍地址", "居住地址", "出生日期", "电子邮箱",
})
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEPARATORS_RE = re.compile(r"[-.\s]+")


def _normalise_key(key: str) -> str:
    return _KEY_SEPARATORS_RE.sub("_", _CAMEL_RE.sub("_", key.strip())).lower()


def _looks_like_id_number(token: str) -> bool:
    """18 chars, 17 digits + digit/X, a real province code and a plausible birth date.

    The check character is deliberately not required: a mistyped ID number is still personal.
    """
    t = token.upper()
    if not (t[:17].isdigit() and (t[17].isdigit() or t[17] == "X")):
        return False
    if int(t[:2]) not in PROVINCE_CODES:
        return False
    try:
        birth = dt.date(int(t[6:10]), int(t[10:12]), int(t[12:14]))
    except ValueError:
        return False
    return 1890 <= birth.year <= 2100


def _looks_like_credit_code(token: str) -> bool:
    t = token.upper()
    if any(c not in CREDIT_CHARSET for c in t) or not t[2:8].isdigit():
        return False
    return t[17] == credit_check_char(t[:17])


def _looks_like_first_generation_id(token: str) -> bool:
    """15 digits: a real province code and a valid 19YY-MM-DD birth date."""
    if int(token[:2]) not in PROVINCE_CODES:
        return False
    try:
        dt.date(1900 + int(token[6:8]), int(token[8:10]), int(token[10:12]))
    except ValueError:
        return False
    return True


def _blank_valid_licence_ids(text: str) -> str:
    return _EMBEDDED_LICENCE_ID_RE.sub(
        lambda m: " " if is_valid_licence_id(m.group(0)) else m.group(0), text
    )


def personal_data_problem(text: str) -> str | None:
    """Why ``text`` looks like personal data (Chinese), or None."""
    if _LICENCE_ID_RE.match(text):
        return None
    text = _blank_valid_licence_ids(_UUID_RE.sub(" ", text))
    for match in _TOKEN18_RE.finditer(text):
        token = match.group(0)
        if token in _TYPE_CODES:  # licence type codes share the credit-code shape
            continue
        if _looks_like_id_number(token):
            return "疑似身份证号码"
        if _looks_like_credit_code(token):
            return "疑似统一社会信用代码"
    for match in _TOKEN15_RE.finditer(text):
        if _looks_like_first_generation_id(match.group(0)):
            return "疑似身份证号码（15位）"
    if _PHONE_RE.search(text):
        return "疑似手机号码"
    if _LANDLINE_RE.search(text):
        return "疑似固定电话号码"
    return None


def check_no_personal_data(value: Any, path: str = "details") -> None:
    """Raise ValueError if ``value`` (JSON-like) holds something that looks like personal data."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: 键必须是字符串")
            if _normalise_key(key) in _PERSONAL_KEYS:
                raise ValueError(f"{path}.{key}: 审计记录不得包含个人信息字段")
            check_no_personal_data(key, f"{path}.<key>")
            check_no_personal_data(item, f"{path}.{key}")
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            check_no_personal_data(item, f"{path}[{i}]")
    elif isinstance(value, str | int) and not isinstance(value, bool):
        problem = personal_data_problem(str(value))
        if problem:
            raise ValueError(f"{path}: {problem}，审计记录不得包含个人信息")


# -- canonical form --------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _format_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"audit details value of type {type(value).__name__} is not JSON")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False,
        default=_json_default,
    )


def _format_time(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


AUDIT_CHAIN_KEY_PURPOSE = "audit-chain"


def audit_chain_key(cipher: FieldCipher) -> bytes:
    """The MAC key of the audit chain, derived from the field keys (never stored)."""
    return cipher.derive_key(AUDIT_CHAIN_KEY_PURPOSE)


def compute_row_hash(
    *,
    key: bytes,
    seq: int,
    time: dt.datetime,
    kind: str,
    workstation_id: str,
    operator: str | None,
    scenario: str | None,
    holder_hash: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """HMAC-SHA256 (hex) under ``key`` over the canonical JSON of one row and the previous hash.

    ``key`` is ``audit_chain_key(cipher)``.
    """
    if len(key) < 32:
        raise ValueError("the audit chain key must be at least 32 bytes")
    body = canonical_json({
        "seq": seq,
        "time": _format_time(time),
        "kind": kind,
        "workstation_id": workstation_id,
        "operator": operator,
        "scenario": scenario,
        "holder_hash": holder_hash,
        "details": details,
        "prev_hash": prev_hash,
    })
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


_KIND_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


# -- the log ---------------------------------------------------------------------------------

@dataclass
class AuditLog:
    """Appends to and verifies the audit chain of one database."""

    store: Store
    cipher: FieldCipher
    workstation_id: str
    clock: Clock = field(default=utc_now)
    _chain_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._chain_key = audit_chain_key(self.cipher)

    def record(
        self,
        kind: str,
        *,
        operator: str | None,
        holder_id: str | None = None,
        scenario: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event in its own transaction and return it.

        ``holder_id`` (ID number / credit code) is stored only as its keyed hash. Raises
        ValueError if ``details`` holds something that looks like personal data.
        """
        prepared = self._prepare(kind, operator, holder_id, scenario, details)
        with self.store.session(write_lock=True) as session:
            return self._append(session, *prepared)

    def record_in(
        self,
        session: Session,
        kind: str,
        *,
        operator: str | None,
        holder_id: str | None = None,
        scenario: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event inside the caller's transaction (committed with the caller's work).

        ``session`` must come from ``store.session(write_lock=True)``.
        """
        prepared = self._prepare(kind, operator, holder_id, scenario, details)
        return self._append(session, *prepared)

    def _prepare(
        self,
        kind: str,
        operator: str | None,
        holder_id: str | None,
        scenario: str | None,
        details: Mapping[str, Any] | None,
    ) -> tuple[str, str | None, str | None, str | None, dict[str, Any]]:
        kind = str(kind)
        if not _KIND_RE.match(kind):
            raise ValueError(f"invalid audit kind {kind!r}")
        plain = dict(details or {})
        check_no_personal_data(plain)
        # Round-trip through JSON so the stored and the hashed forms are identical.
        plain = json.loads(canonical_json(plain))
        if operator is not None:
            check_no_personal_data(operator, "operator")
        if scenario is not None:
            check_no_personal_data(scenario, "scenario")
        holder_hash = self.cipher.holder_hash(holder_id) if holder_id else None
        return kind, operator, scenario, holder_hash, plain

    def _append(
        self,
        session: Session,
        kind: str,
        operator: str | None,
        scenario: str | None,
        holder_hash: str | None,
        details: dict[str, Any],
    ) -> AuditEvent:
        head = session.execute(
            select(AuditChainHeadRow).where(AuditChainHeadRow.id == 1).with_for_update()
        ).scalar_one()
        seq = head.last_seq + 1
        time = self.clock().astimezone(dt.UTC)
        row_hash = compute_row_hash(
            key=self._chain_key, seq=seq, time=time, kind=kind, workstation_id=self.workstation_id,
            operator=operator, scenario=scenario, holder_hash=holder_hash, details=details,
            prev_hash=head.last_hash,
        )
        session.add(AuditEventRow(
            seq=seq, time=time, kind=kind, workstation_id=self.workstation_id,
            operator=operator, scenario=scenario, holder_hash=holder_hash,
            details=canonical_json(details), prev_hash=head.last_hash, row_hash=row_hash,
        ))
        event = AuditEvent(
            seq=seq, time=time, kind=kind, workstation_id=self.workstation_id,
            operator=operator, scenario=scenario, holder_hash=holder_hash, details=details,
            prev_hash=head.last_hash, row_hash=row_hash,
        )
        head.last_seq = seq
        head.last_hash = row_hash
        session.flush()
        return event

    # -- reading -------------------------------------------------------------------------

    def events(
        self,
        *,
        after_seq: int = 0,
        limit: int = 100,
        kind: str | None = None,
        holder_id: str | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        """Events in seq order (or newest first), optionally by kind or by holder."""
        query = select(AuditEventRow).where(AuditEventRow.seq > after_seq)
        if kind is not None:
            query = query.where(AuditEventRow.kind == str(kind))
        if holder_id is not None:
            query = query.where(AuditEventRow.holder_hash == self.cipher.holder_hash(holder_id))
        order = AuditEventRow.seq.desc() if newest_first else AuditEventRow.seq
        query = query.order_by(order).limit(limit)
        with self.store.session(write_lock=False) as session:
            return [_event(row) for row in session.execute(query).scalars()]

    def count(self) -> int:
        with self.store.session(write_lock=False) as session:
            return session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()

    # -- verification --------------------------------------------------------------------

    def verify(self, *, batch_size: int = 2000) -> AuditVerification:
        """Walk the chain from seq 1 and report the first broken link."""
        with self.store.session(write_lock=False) as session:
            head = session.execute(
                select(AuditChainHeadRow).where(AuditChainHeadRow.id == 1)
            ).scalar_one_or_none()
            if head is None:
                return AuditVerification(False, 0, 1, "审计链头记录缺失，无法校验")
            last_seq, last_hash = head.last_seq, head.last_hash
            checked = 0
            expected_seq = 1
            prev_hash = GENESIS_HASH
            for row in self._rows(session, last_seq, batch_size):
                if row.seq != expected_seq:
                    return AuditVerification(
                        False, checked, expected_seq,
                        f"第 {expected_seq} 条审计记录缺失（序号不连续，下一条为第 {row.seq} 条）",
                        last_seq,
                    )
                if row.prev_hash != prev_hash:
                    return AuditVerification(
                        False, checked, row.seq,
                        f"第 {row.seq} 条审计记录的前序哈希与上一条不符"
                        "（记录被删除、替换或调换顺序）",
                        last_seq,
                    )
                try:
                    details = json.loads(row.details)
                    recomputed = compute_row_hash(
                        key=self._chain_key, seq=row.seq, time=row.time, kind=row.kind,
                        workstation_id=row.workstation_id, operator=row.operator,
                        scenario=row.scenario, holder_hash=row.holder_hash, details=details,
                        prev_hash=row.prev_hash,
                    )
                except (ValueError, TypeError):
                    recomputed = ""
                if not hmac.compare_digest(recomputed.encode(), str(row.row_hash).encode()):
                    return AuditVerification(
                        False, checked, row.seq,
                        f"第 {row.seq} 条审计记录的内容被修改（哈希不符；或记录由其他密钥写入）",
                        last_seq,
                    )
                checked += 1
                prev_hash = row.row_hash
                expected_seq += 1
            if checked != last_seq:
                return AuditVerification(
                    False, checked, expected_seq,
                    f"审计链应有 {last_seq} 条记录，从第 {expected_seq} 条起缺失（末尾记录被删除）",
                    last_seq,
                )
            if prev_hash != last_hash:
                return AuditVerification(
                    False, checked, last_seq or 1,
                    "审计链头记录的哈希与最后一条记录不符", last_seq,
                )
        return AuditVerification(
            True, checked, None, f"审计链完整，共校验 {checked} 条记录", last_seq
        )

    @staticmethod
    def _rows(session: Session, last_seq: int, batch_size: int) -> Iterator[AuditEventRow]:
        """Rows with seq <= last_seq in order, fetched in batches (keyset pagination)."""
        after = 0
        while True:
            batch = session.execute(
                select(AuditEventRow)
                .where(AuditEventRow.seq > after, AuditEventRow.seq <= last_seq)
                .order_by(AuditEventRow.seq)
                .limit(batch_size)
            ).scalars().all()
            if not batch:
                return
            yield from batch
            after = batch[-1].seq
            session.expunge_all()


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq, time=row.time, kind=row.kind, workstation_id=row.workstation_id,
        operator=row.operator, scenario=row.scenario, holder_hash=row.holder_hash,
        details=json.loads(row.details), prev_hash=row.prev_hash, row_hash=row.row_hash,
    )
