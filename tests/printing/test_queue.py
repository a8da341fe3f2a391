"""The CUPS queue against a private cupsd: file queues, faults through a fake printer, no
duplicate prints, Chinese messages."""

from __future__ import annotations

import pytest

from printing.authenticity import DocumentStamp
from printing.queue import JobState, PrinterUnavailable, PrintProblem, PrintQueue
from tests.helpers.cups_fixtures import PrivateCups, deadline_poll
from tests.printing.pdf_inspect import page_texts, squash

pytestmark = pytest.mark.cups


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    from printing.material_list import render_material_list, sample_material_list

    return render_material_list(sample_material_list(), stamp=DocumentStamp.sample())


def test_file_queue_prints_the_text_it_was_sent(private_cups: PrivateCups, sample_pdf):
    name, out = private_cups.add_file_queue()
    queue = PrintQueue({"A4": name}, server=private_cups.socket)
    assert queue.check(name).ok
    job = queue.submit(name, sample_pdf, title="申请材料清单", key="K1")
    final = queue.follow(job, timeout_s=30)
    assert final.state is JobState.COMPLETED, final
    assert final.text == "打印完成"
    assert squash("".join(page_texts(out.read_bytes()))) == squash(
        "".join(page_texts(sample_pdf)))


def _texts_equal(a: bytes, b: bytes) -> bool:
    return squash("".join(page_texts(a))) == squash("".join(page_texts(b)))


def test_out_of_paper_is_reported_and_the_job_completes_once_paper_is_back(
    private_cups: PrivateCups, sample_pdf
):
    """GIVEN a printer that runs out of paper WHEN a document is sent THEN the clerk is told
    "缺纸" while the job waits; AND once paper is back the job completes, printed once."""
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    job = queue.submit(printer.name, sample_pdf, title="参保证明", key="PAPER-1")
    status = queue.follow(job, timeout_s=30, until=lambda s: s.needs_attention)
    assert status.state in (JobState.PROCESSING, JobState.PENDING)
    assert status.problem is PrintProblem.MEDIA_EMPTY
    assert "缺纸" in status.text
    assert any(r.startswith("media-empty") for r in status.printer_reasons)
    # a retry of the same document while it waits finds the same job
    assert queue.submit(printer.name, sample_pdf, title="参保证明", key="PAPER-1") == job
    printer.set_fault(None)
    final = queue.follow(job, timeout_s=30)
    assert final.state is JobState.COMPLETED and final.problem is None
    outputs = printer.outputs()
    assert len(outputs) == 1
    assert _texts_equal(outputs[0].read_bytes(), sample_pdf)


def test_unreachable_printer_stops_the_queue_then_recovers_without_a_duplicate(
    private_cups: PrivateCups, sample_pdf
):
    printer = private_cups.add_fake_printer(error_policy="stop-printer")
    printer.set_fault("unreachable")
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    job = queue.submit(printer.name, sample_pdf, title="受理回执", key="NET-1")
    status = queue.follow(job, timeout_s=30, until=lambda s: s.needs_attention
                          and s.state is not JobState.PROCESSING)
    assert status.state is JobState.PENDING
    assert status.problem is PrintProblem.NOT_RESPONDING, status
    assert "无响应" in status.text
    # the pre-flight of the next document refuses, saying why
    with pytest.raises(PrinterUnavailable) as refused:
        queue.preflight(printer.name)
    assert refused.value.problem is PrintProblem.NOT_RESPONDING
    # the clerk retries the same document: still one job
    assert queue.submit(printer.name, sample_pdf, title="受理回执", key="NET-1",
                        preflight=False) == job
    printer.set_fault(None)
    private_cups.enable(printer.name)
    final = queue.follow(job, timeout_s=30)
    assert final.state is JobState.COMPLETED
    assert len(printer.outputs()) == 1
    assert _texts_equal(printer.outputs()[0].read_bytes(), sample_pdf)


def test_unreachable_printer_with_abort_policy_aborts_the_job(private_cups, sample_pdf):
    printer = private_cups.add_fake_printer(error_policy="abort-job")
    printer.set_fault("unreachable")
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    job = queue.submit(printer.name, sample_pdf, title="回执", key="ABORT-1")
    final = queue.follow(job, timeout_s=30)
    assert final.state is JobState.ABORTED
    assert final.problem in (PrintProblem.NOT_RESPONDING, PrintProblem.JOB_FAILED)
    assert final.text.startswith("打印失败")
    assert printer.outputs() == []


def test_offline_printer(private_cups, sample_pdf):
    printer = private_cups.add_fake_printer()
    printer.set_fault("offline")
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    job = queue.submit(printer.name, sample_pdf, title="回执", key="OFF-1")
    status = queue.follow(job, timeout_s=30, until=lambda s: s.needs_attention)
    assert status.problem is PrintProblem.OFFLINE and "离线" in status.text
    queue.cancel(job)
    final = queue.follow(job, timeout_s=30)
    assert final.state is JobState.CANCELED and final.text == "打印已取消"
    printer.set_fault(None)


def test_stopped_queue_fails_preflight_and_a_queued_job_prints_after_enable(
    private_cups, sample_pdf
):
    printer = private_cups.add_fake_printer()
    private_cups.disable(printer.name)
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    check = queue.check(printer.name)
    assert not check.ok and check.problem is PrintProblem.PRINTER_STOPPED
    assert check.state == "stopped" and "暂停" in check.text
    with pytest.raises(PrinterUnavailable) as refused:
        queue.submit(printer.name, sample_pdf, title="回执", key="STOP-1")
    assert refused.value.problem is PrintProblem.PRINTER_STOPPED
    assert printer.outputs() == []
    job = queue.submit(printer.name, sample_pdf, title="回执", key="STOP-2", preflight=False)
    status = queue.status(job)
    assert status.state is JobState.PENDING and status.problem is PrintProblem.PRINTER_STOPPED
    private_cups.enable(printer.name)
    assert queue.follow(job, timeout_s=30).state is JobState.COMPLETED
    assert len(printer.outputs()) == 1


def test_rejecting_queue_refuses_with_a_chinese_message(private_cups, sample_pdf):
    printer = private_cups.add_fake_printer()
    private_cups.reject(printer.name)
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    assert queue.check(printer.name).problem is PrintProblem.NOT_ACCEPTING
    with pytest.raises(PrinterUnavailable) as refused:
        queue.submit(printer.name, sample_pdf, title="回执", key="REJ-1", preflight=False)
    assert refused.value.problem is PrintProblem.NOT_ACCEPTING  # IPP 1286 from CUPS
    assert "不接收" in refused.value.message
    private_cups.accept(printer.name)
    job = queue.submit(printer.name, sample_pdf, title="回执", key="REJ-1")
    assert queue.follow(job, timeout_s=30).state is JobState.COMPLETED


def test_missing_printer_and_missing_server(private_cups, sample_pdf, tmp_path):
    queue = PrintQueue({"A4": "no-such-printer"}, server=private_cups.socket)
    check = queue.check("no-such-printer")
    assert check.problem is PrintProblem.NO_PRINTER and "未找到" in check.text
    with pytest.raises(PrinterUnavailable) as refused:
        queue.submit("no-such-printer", sample_pdf, title="回执", key="MISS-1")
    assert refused.value.problem is PrintProblem.NO_PRINTER
    dead = PrintQueue({"A4": "x"}, server=str(tmp_path / "no.sock"))
    with pytest.raises(PrinterUnavailable) as down:
        dead.check("x")
    assert down.value.problem is PrintProblem.NO_SERVICE


def test_same_key_never_prints_twice(private_cups, sample_pdf):
    printer = private_cups.add_fake_printer()
    queue = PrintQueue({"A4": printer.name}, server=private_cups.socket)
    first = queue.submit(printer.name, sample_pdf, title="回执", key="ONCE-1")
    assert queue.follow(first, timeout_s=30).state is JobState.COMPLETED
    again = queue.submit(printer.name, sample_pdf, title="回执", key="ONCE-1")
    assert again == first
    other = queue.submit(printer.name, sample_pdf, title="回执", key="ONCE-1#2")
    assert other != first
    assert queue.follow(other, timeout_s=30).state is JobState.COMPLETED
    deadline_poll(lambda: len(printer.outputs()) == 2, 10, "two deliveries")
    assert queue.find_job("ONCE-1") == first
