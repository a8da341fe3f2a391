"""The workstation's print service against a private cupsd: prepare (stamp, digest, case
folder), print once, save where no printer is configured, faults with recovery, reprint, and
an audit event for every print."""

from __future__ import annotations

import pytest

from printing.material_list import sample_material_list
from printing.queue import JobState, PrintProblem
from printing.receipts import sample_receipt
from tests.helpers.cups_fixtures import PrivateCups
from tests.helpers.db_fixtures import PERSON_ID
from tests.printing.pdf_inspect import page_texts, squash
from workstation.config import PrintersConfig
from workstation.services.printing import PrintRefused

pytestmark = pytest.mark.cups

CASE = "TEST-01-20250303-093000-000"


def _prepare(core, key="material_list", data=None):
    data = data if data is not None else sample_material_list()
    return core.printing.prepare(key, data, purpose="存量房转移登记", case_number=CASE,
                                 holder_id=PERSON_ID, operator="demo",
                                 scenario="unified_intake")


def _prints(core) -> list[dict]:
    return [e.details for e in core.audit.events(kind="print", limit=100)]


def test_no_printer_saves_the_pdf_in_the_case_folder(make_core, sandbox):
    core = make_core()
    doc = _prepare(core)
    assert doc.path.parent == core.config.case_dir / CASE
    assert doc.path.read_bytes() == doc.pdf
    assert oct(doc.path.stat().st_mode & 0o777) == "0o600"
    assert core.documents.verify(doc.code, doc.path.read_bytes()).ok
    outcome = core.printing.print(doc, operator="demo")
    assert outcome.destination == "file" and outcome.status.state is JobState.SAVED
    assert str(doc.path) in outcome.text
    again = core.printing.print(doc, operator="demo")  # a retry: nothing new happens
    assert again.key == outcome.key
    (event,) = core.audit.events(kind="print")
    assert event.details["result"] == "saved" and event.details["document"] == "material_list"
    assert event.details["purpose"] == "存量房转移登记" and event.details["code"] == doc.code
    assert event.holder_hash == core.cipher.holder_hash(PERSON_ID)
    issued = core.audit.events(kind="document_issued")
    assert issued and issued[0].details["sha256"] == doc.record.sha256
    core.drain()  # registration with the platform runs in the background
    assert sandbox.documents[doc.code]["sha256"] == doc.record.sha256
    assert core.documents.pending_registration() == []


def test_printing_through_a_file_queue_is_audited_with_the_job_id(
    make_core, private_cups: PrivateCups
):
    name, out = private_cups.add_file_queue()
    core = make_core(printers=PrintersConfig(a4=name, cups_server=private_cups.socket))
    doc = _prepare(core)
    updates = []
    outcome = core.printing.print(doc, operator="demo", on_update=updates.append)
    assert outcome.status.state is JobState.COMPLETED, outcome.status
    assert updates and updates[-1].state is JobState.COMPLETED
    assert squash("".join(page_texts(out.read_bytes()))) == squash("".join(page_texts(doc.pdf)))
    results = [(d["result"], d.get("job_id")) for d in _prints(core)]
    job = outcome.status.job_id
    assert results == [("submitted", job), ("completed", job)]
    # the same print again (a retry) does not print again; a reprint does
    assert core.printing.print(doc, operator="demo").status.job_id == job
    assert len(_prints(core)) == 2
    copy = core.printing.print(doc, operator="demo", reprint=True)
    assert copy.key == f"{doc.code}#2" and copy.status.job_id != job
    assert copy.status.state is JobState.COMPLETED


def test_receipts_go_to_the_receipt_printer(make_core, private_cups):
    a4 = private_cups.add_fake_printer()
    receipt = private_cups.add_fake_printer()
    core = make_core(printers=PrintersConfig(a4=a4.name, receipt=receipt.name,
                                             cups_server=private_cups.socket))
    doc = _prepare(core, "receipt_80", sample_receipt())
    assert core.printing.print(doc, operator="demo").printer == receipt.name
    assert len(receipt.outputs()) == 1 and a4.outputs() == []


def test_out_of_paper_then_recovery_prints_once(make_core, private_cups):
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    core = make_core(printers=PrintersConfig(a4=printer.name, cups_server=private_cups.socket))
    doc = _prepare(core)
    seen = []

    def update(status):
        seen.append(status)

    waiting = core.printing.print(doc, operator="demo", on_update=update, timeout_s=30,
                                  until=lambda s: s.needs_attention)
    assert waiting.status.problem is PrintProblem.MEDIA_EMPTY
    assert any("缺纸" in s.text for s in seen)
    # the clerk presses "print" again while it waits: same job, no second copy
    again = core.printing.print(doc, operator="demo", until=lambda s: True)
    assert again.status.job_id == waiting.status.job_id
    printer.set_fault(None)
    final = core.printing.follow(doc, waiting, operator="demo", timeout_s=30)
    assert final.status.state is JobState.COMPLETED
    assert len(printer.outputs()) == 1
    assert [d["result"] for d in _prints(core)] == ["submitted", "completed"]


def test_stopped_printer_is_refused_and_audited_then_prints_after_enable(
    make_core, private_cups
):
    printer = private_cups.add_fake_printer()
    private_cups.disable(printer.name)
    core = make_core(printers=PrintersConfig(a4=printer.name, cups_server=private_cups.socket))
    doc = _prepare(core)
    with pytest.raises(PrintRefused) as refused:
        core.printing.print(doc, operator="demo")
    assert refused.value.problem is PrintProblem.PRINTER_STOPPED
    assert "暂停" in refused.value.message
    assert _prints(core)[-1]["result"] == "refused"
    private_cups.enable(printer.name)
    outcome = core.printing.print(doc, operator="demo")
    assert outcome.key == f"{doc.code}#1" and outcome.status.state is JobState.COMPLETED
    assert len(printer.outputs()) == 1


def test_cancel_a_waiting_job(make_core, private_cups):
    import threading

    printer = private_cups.add_fake_printer()
    printer.set_fault("offline")
    core = make_core(printers=PrintersConfig(a4=printer.name, cups_server=private_cups.socket))
    doc = _prepare(core)
    stop = threading.Event()

    def update(status):
        if status.problem is PrintProblem.OFFLINE:
            stop.set()  # the clerk presses "cancel" when told the printer is offline

    outcome = core.printing.print(doc, operator="demo", on_update=update, cancelled=stop)
    assert outcome.status.state is JobState.CANCELED
    assert _prints(core)[-1]["result"] == "canceled"
    printer.set_fault(None)
    assert printer.outputs() == []
