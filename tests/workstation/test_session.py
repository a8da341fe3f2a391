import datetime as dt

import pytest

from workstation.services.model import Applicant, HolderKind, IdentifiedBy
from workstation.services.session import SessionManager

ALICE = Applicant(HolderKind.PERSON, "11010519491231002X", "张三", IdentifiedBy.CLERK)
BOB = Applicant(HolderKind.PERSON, "421281198001010017", "李四", IdentifiedBy.CODE)


def test_session_lifecycle_and_wipe():
    events: list[str] = []
    ended: list[str] = []
    mgr = SessionManager(on_ended=lambda s, r: ended.append(r),
                         clock=lambda: dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    mgr.subscribe(lambda s, e: events.append(e))
    session = mgr.begin(ALICE)
    session.scratch["form"] = {"name": "张三"}
    mgr.add_consent(object())
    mgr.end("finished")
    assert events == ["started", "changed", "ended:finished"]
    assert ended == ["finished"]
    assert session.applicant is None and session.consents == [] and session.scratch == {}
    assert mgr.current is None


def test_new_applicant_replaces_the_old_one():
    events: list[str] = []
    mgr = SessionManager()
    mgr.subscribe(lambda s, e: events.append(e))
    first = mgr.begin(ALICE)
    mgr.begin(BOB)
    assert first.applicant is None
    assert mgr.applicant == BOB
    assert events == ["started", "ended:replaced", "started"]


def test_applicant_repr_hides_personal_data():
    text = repr(ALICE)
    assert "11010519491231002X" not in text and "张三" not in text
    assert "110105********002X" in text


def test_update_applicant_completes_the_same_holder_only():
    events: list[str] = []
    sessions = SessionManager()
    sessions.subscribe(lambda _s, event: events.append(event))
    with pytest.raises(RuntimeError):
        sessions.update_applicant(Applicant(HolderKind.PERSON, "11010519491231002X", "",
                                            IdentifiedBy.CLERK))
    first = sessions.begin(Applicant(HolderKind.PERSON, "11010519491231002X", "",
                                     IdentifiedBy.CLERK))
    named = Applicant(HolderKind.PERSON, "11010519491231002X", "张三", IdentifiedBy.CLERK)
    sessions.update_applicant(named)
    assert sessions.current is first and sessions.applicant == named
    assert events == ["started", "changed"]
    with pytest.raises(ValueError):
        sessions.update_applicant(Applicant(HolderKind.PERSON, "110105194912310037", "李四",
                                            IdentifiedBy.CLERK))
