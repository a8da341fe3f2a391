"""The Workstation core against the sandbox: shared databases, code retries, background work."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.services.audit import AuditLog
from workstation.services.codes import CodeRefused
from workstation.services.store import KeyMismatchError, Store


def test_hall_database_refuses_a_workstation_with_other_field_keys(tmp_path, ws_config, sandbox):
    """GIVEN two workstations on one database WHEN the second has its own key file
    THEN it is refused with a message saying to copy the hall's key file."""
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    first = Workstation(replace(ws_config, data_dir=tmp_path / "a", database_url=db),
                        sandbox.url, load_plugins())
    first.close()
    with pytest.raises(KeyMismatchError) as err:
        Workstation(replace(ws_config, data_dir=tmp_path / "b", database_url=db),
                    sandbox.url, load_plugins())
    assert "field-keys.json" in err.value.message or "密钥" in err.value.message
    # with the hall's key file copied over, it opens
    (tmp_path / "c").mkdir(mode=0o700)
    key = (tmp_path / "a" / "field-keys.json").read_bytes()
    (tmp_path / "c" / "field-keys.json").write_bytes(key)
    (tmp_path / "c" / "field-keys.json").chmod(0o600)
    Workstation(replace(ws_config, data_dir=tmp_path / "c", database_url=db),
                sandbox.url, load_plugins()).close()


def test_a_code_refused_while_the_platform_is_down_works_when_it_returns(core, sandbox):
    person = sandbox.world.person_with_all_licences
    code, _ = sandbox.issue_code(person.id_number)
    sandbox.faults.update({"down": True})
    with pytest.raises(CodeRefused) as err:
        core.identify_by_code(code)
    assert err.value.reason == "platform_unavailable"
    sandbox.faults.reset()
    applicant = core.identify_by_code(code)
    assert applicant.holder_id == person.id_number
    with pytest.raises(CodeRefused) as err:
        core.identify_by_code(code)
    assert err.value.reason == "replayed"


def test_private_folders(core):
    for folder in (core.config.data_dir, core.config.case_dir):
        assert folder.stat().st_mode & 0o077 == 0


def test_background_work_is_finished_on_close(make_core, sandbox):
    core = make_core()
    person = sandbox.world.person_with_all_licences
    from workstation.services.model import Applicant, HolderKind, IdentifiedBy

    core.begin_session(Applicant(HolderKind.PERSON, person.id_number, person.name,
                                 IdentifiedBy.CLERK))
    core.sessions.end("finished")
    core.close()  # must wait for the queued audit writes
    store = Store.open(core.config.effective_database_url)
    kinds = [e.kind for e in AuditLog(store, core.cipher, "x").events(limit=10)]
    store.close()
    assert "identification" in kinds and "session_ended" in kinds



def test_outbox_is_sent_by_the_background_thread(make_core):
    """GIVEN a queued submission WHEN the outbox is woken THEN its own thread sends it once."""
    import threading

    core = make_core()
    sent = threading.Event()
    seen: list[tuple[str, threading.Thread]] = []

    def sender(payload, key):
        seen.append((key, threading.current_thread()))
        sent.set()
        return {"ok": True}

    core.outbox.register_sender("test.kind", sender)
    core.outbox.enqueue("test.kind", {"a": 1}, "k-1")
    core.wake_outbox()
    assert sent.wait(10)
    core.close()  # joins the outbox thread
    assert [k for k, _ in seen] == ["k-1"]
    assert seen[0][1] is not threading.main_thread()
    assert core.outbox.get("k-1").sent
