"""Operator accounts (window clerks) with argon2id password hashes.

Sign-in failures raise ``SignInError`` with one message whether the user is unknown, inactive
or typed a wrong password, and take about as long in every case (an unknown user is checked
against a dummy hash). Hashes are upgraded when the hasher's parameters change.
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workstation.services.audit import AuditKind, AuditLog, utc_now
from workstation.services.store import Store
from workstation.services.tables import OperatorRow

Clock = Callable[[], dt.datetime]

SIGN_IN_FAILED_MESSAGE = "用户名或密码不正确，或该账号已停用"
MIN_PASSWORD_LENGTH = 8
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")


class SignInError(PermissionError):
    """Sign-in failed; ``message`` is shown as is and does not tell which part was wrong."""

    def __init__(self, message: str = SIGN_IN_FAILED_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


class OperatorError(ValueError):
    """An account cannot be created or changed; ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Operator:
    id: int
    username: str
    display_name: str
    active: bool
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None = None


def _operator(row: OperatorRow) -> Operator:
    return Operator(
        id=row.id, username=row.username, display_name=row.display_name, active=row.active,
        created_at=row.created_at, last_sign_in_at=row.last_sign_in_at,
    )


def validate_username(username: str) -> str:
    name = (username or "").strip()
    if not _USERNAME_RE.match(name):
        raise OperatorError("用户名应为 2 至 32 位字母、数字、下划线、点或减号")
    return name


def validate_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise OperatorError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    return password


class OperatorAccounts:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._audit = audit
        self._hasher = hasher or PasswordHasher(type=Type.ID)
        self._clock = clock
        self._dummy_hash: str | None = None
        self._lock = threading.Lock()

    def create(self, username: str, display_name: str, password: str, *,
               created_by: str | None = None) -> Operator:
        """Create an active account; OperatorError if the name is taken or invalid."""
        username = validate_username(username)
        display_name = (display_name or "").strip()
        if not display_name or len(display_name) > 100:
            raise OperatorError("请填写显示名称（不超过 100 个字符）")
        validate_password(password)
        row = OperatorRow(
            username=username, display_name=display_name,
            password_hash=self._hasher.hash(password), active=True, created_at=self._clock(),
        )
        try:
            with self._store.session() as session:
                if session.execute(
                    select(OperatorRow.id).where(OperatorRow.username == username)
                ).first():
                    raise OperatorError(f"用户名“{username}”已存在")
                session.add(row)
                session.flush()
                operator = _operator(row)
        except IntegrityError:
            raise OperatorError(f"用户名“{username}”已存在") from None
        self._audit.record(
            AuditKind.OPERATOR_CREATED, operator=created_by,
            details={"username": username},
        )
        return operator

    def ensure_default(
        self, username: str, password: str, display_name: str = "演示操作员"
    ) -> Operator:
        """The demo account: created on first run, left as it is afterwards."""
        existing = self.get(username)
        if existing is not None:
            return existing
        try:
            return self.create(username, display_name, password)
        except OperatorError:
            found = self.get(username)  # created meanwhile by another workstation
            if found is None:
                raise
            return found

    def get(self, username: str) -> Operator | None:
        with self._store.session() as session:
            row = session.execute(
                select(OperatorRow).where(OperatorRow.username == username.strip())
            ).scalar_one_or_none()
            return _operator(row) if row else None

    def list(self) -> builtins.list[Operator]:
        with self._store.session() as session:
            rows = session.execute(select(OperatorRow).order_by(OperatorRow.username)).scalars()
            return [_operator(row) for row in rows]

    def authenticate(self, username: str, password: str) -> Operator:
        """The operator if the password is right and the account active, else SignInError.

        The password is checked outside any transaction (argon2 takes tens of milliseconds and
        must not hold the database's write lock); only the successful sign-in writes.
        """
        name = (username or "").strip()
        with self._store.session(write_lock=False) as session:
            row = session.execute(
                select(OperatorRow).where(OperatorRow.username == name)
            ).scalar_one_or_none()
            found = None if row is None else (row.id, row.username, row.password_hash, row.active)
        if found is None:
            self._verify_dummy(password)
            self._audit.record(
                AuditKind.OPERATOR_SIGN_IN_FAILED, operator=None,
                details={"reason": "unknown_user"},  # the typed name is not recorded
            )
            raise SignInError()
        row_id, row_username, password_hash, active = found
        ok = self._verify(password_hash, password)
        if not ok or not active:
            self._audit.record(
                AuditKind.OPERATOR_SIGN_IN_FAILED, operator=row_username,
                details={"reason": "inactive" if ok else "wrong_password"},
            )
            raise SignInError()
        with self._store.session() as session:
            current = session.get(OperatorRow, row_id)
            if current is None or current.password_hash != password_hash or not current.active:
                raise SignInError()  # changed while the password was being checked
            if self._needs_rehash(current.password_hash):
                current.password_hash = self._hasher.hash(password)
            current.last_sign_in_at = self._clock()
            session.flush()
            operator = _operator(current)
        self._audit.record(AuditKind.OPERATOR_SIGN_IN, operator=operator.username, details={})
        return operator

    def sign_out(self, operator: Operator | str) -> None:
        username = operator if isinstance(operator, str) else operator.username
        self._audit.record(AuditKind.OPERATOR_SIGN_OUT, operator=username, details={})

    def set_password(self, username: str, password: str, *, changed_by: str | None = None
                     ) -> None:
        validate_password(password)
        self._change(username, changed_by, {"password_hash": self._hasher.hash(password)},
                     "password")

    def set_active(self, username: str, active: bool, *, changed_by: str | None = None) -> None:
        self._change(username, changed_by, {"active": active},
                     "activated" if active else "deactivated")

    # -- internals -----------------------------------------------------------------------

    def _change(self, username: str, changed_by: str | None, values: dict[str, object],
                change: str) -> None:
        with self._store.session() as session:
            row = session.execute(
                select(OperatorRow).where(OperatorRow.username == username.strip())
            ).scalar_one_or_none()
            if row is None:
                raise OperatorError(f"用户名“{username}”不存在")
            for key, value in values.items():
                setattr(row, key, value)
        self._audit.record(
            AuditKind.OPERATOR_CHANGED, operator=changed_by,
            details={"username": row.username, "change": change},
        )

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify_dummy(self, password: str) -> None:
        """Spend the time of a real verification so unknown names are not revealed by timing."""
        with self._lock:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash("not-a-real-password")
        self._verify(self._dummy_hash, password)
