"""Operator accounts: argon2id hashes, sign-in that reveals nothing, rehashing, audit."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from tests.helpers.db_fixtures import ManualClock
from workstation.services.audit import AuditKind, AuditLog
from workstation.services.crypto import FieldCipher
from workstation.services.operators import (
    SIGN_IN_FAILED_MESSAGE,
    OperatorAccounts,
    OperatorError,
    SignInError,
)
from workstation.services.store import Store
from workstation.services.tables import OperatorRow


def cheap_hasher(time_cost: int = 1) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=1024, parallelism=1, type=Type.ID)


@pytest.fixture
def audit(store: Store, cipher: FieldCipher, clock: ManualClock) -> AuditLog:
    return AuditLog(store, cipher, "WS-1", clock=clock)


@pytest.fixture
def accounts(store: Store, audit: AuditLog, clock: ManualClock) -> OperatorAccounts:
    return OperatorAccounts(store, audit, hasher=cheap_hasher(), clock=clock)


def _hash(store: Store, username: str) -> str:
    with store.session() as session:
        return session.execute(
            select(OperatorRow.password_hash).where(OperatorRow.username == username)
        ).scalar_one()


def test_create_and_sign_in(accounts: OperatorAccounts, store: Store, audit: AuditLog,
                            clock: ManualClock) -> None:
    created = accounts.create("clerk1", "王小明", "s3cret-pass")
    assert created.active and created.username == "clerk1"
    stored = _hash(store, "clerk1")
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored
    clock.advance(minutes=1)
    op = accounts.authenticate("clerk1", "s3cret-pass")
    assert op.display_name == "王小明" and op.last_sign_in_at == clock()
    kinds = [e.kind for e in audit.events()]
    assert kinds == [AuditKind.OPERATOR_CREATED, AuditKind.OPERATOR_SIGN_IN]
    accounts.sign_out(op)
    assert audit.events(newest_first=True, limit=1)[0].kind == AuditKind.OPERATOR_SIGN_OUT
    assert audit.verify().ok


def test_failures_look_the_same(accounts: OperatorAccounts, audit: AuditLog) -> None:
    accounts.create("clerk1", "王小明", "s3cret-pass")
    accounts.create("clerk2", "李四", "other-pass")
    accounts.set_active("clerk2", False)
    messages = []
    for username, password in [("clerk1", "wrong-pass"), ("nobody", "s3cret-pass"),
                               ("clerk2", "other-pass"), ("", "")]:
        with pytest.raises(SignInError) as info:
            accounts.authenticate(username, password)
        messages.append(info.value.message)
    assert set(messages) == {SIGN_IN_FAILED_MESSAGE}
    failed = audit.events(kind=AuditKind.OPERATOR_SIGN_IN_FAILED)
    assert [e.details["reason"] for e in failed] == [
        "wrong_password", "unknown_user", "inactive", "unknown_user"]
    # A typed unknown name is not recorded (it might be a password typed in the wrong box).
    assert [e.operator for e in failed] == ["clerk1", None, "clerk2", None]
    assert all("nobody" not in str(e.details) for e in failed)


def test_rehash_when_parameters_change(store: Store, audit: AuditLog,
                                       clock: ManualClock) -> None:
    old = OperatorAccounts(store, audit, hasher=cheap_hasher(time_cost=1), clock=clock)
    old.create("clerk1", "王小明", "s3cret-pass")
    before = _hash(store, "clerk1")
    assert "t=1" in before
    new = OperatorAccounts(store, audit, hasher=cheap_hasher(time_cost=2), clock=clock)
    with pytest.raises(SignInError):
        new.authenticate("clerk1", "wrong-pass")
    assert _hash(store, "clerk1") == before  # no rehash on a failed sign-in
    new.authenticate("clerk1", "s3cret-pass")
    after = _hash(store, "clerk1")
    assert after != before and "t=2" in after
    new.authenticate("clerk1", "s3cret-pass")
    assert _hash(store, "clerk1") == after


def test_validation_and_duplicates(accounts: OperatorAccounts) -> None:
    accounts.create("clerk1", "王小明", "s3cret-pass")
    with pytest.raises(OperatorError, match="已存在"):
        accounts.create("clerk1", "别人", "s3cret-pass")
    with pytest.raises(OperatorError, match="用户名"):
        accounts.create("a b", "X", "s3cret-pass")
    with pytest.raises(OperatorError, match="密码"):
        accounts.create("clerk2", "X", "short")
    with pytest.raises(OperatorError, match="不存在"):
        accounts.set_password("ghost", "long-enough")


def test_set_password(accounts: OperatorAccounts) -> None:
    accounts.create("clerk1", "王小明", "s3cret-pass")
    accounts.set_password("clerk1", "new-secret-1", changed_by="admin")
    with pytest.raises(SignInError):
        accounts.authenticate("clerk1", "s3cret-pass")
    assert accounts.authenticate("clerk1", "new-secret-1").username == "clerk1"


def test_ensure_default_and_list(accounts: OperatorAccounts) -> None:
    demo = accounts.ensure_default("demo", "demo1234")
    again = accounts.ensure_default("demo", "changed-password")
    assert again.id == demo.id
    accounts.authenticate("demo", "demo1234")  # the password was not reset
    accounts.create("alice", "Alice", "alice-pass")
    assert [o.username for o in accounts.list()] == ["alice", "demo"]
    assert accounts.get("demo") is not None and accounts.get("nobody") is None


def test_default_hasher_is_argon2id(store: Store, audit: AuditLog) -> None:
    accounts = OperatorAccounts(store, audit)
    accounts.create("real", "Real", "a-real-password")
    assert _hash(store, "real").startswith("$argon2id$")
