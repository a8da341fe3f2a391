"""Printing for the workstation: render with a verification stamp, record, print or save, audit.

``prepare`` renders a template with a fresh verification code, records the PDF's SHA-256 as an
issued document and keeps the PDF in the case folder (private, 0600). ``print`` sends it to the
printer for its paper (A4 or 80 mm receipt) — or, where no printer is configured, the saved PDF
is the result — and follows the job. Every print is audited (document kind, purpose, holder
hash, job id, result).

Never twice because of a retry: each print has an idempotency key (``CODE#1``; a deliberate
reprint ``CODE#2``, ...) recorded in ``print_jobs`` before anything is sent; a retried ``print``
finds that row (and, if the workstation crashed after sending, the CUPS job carrying the key)
and follows the existing job instead of submitting again.

Blocking (CUPS, database): call it off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from printing.authenticity import DocumentStamp
from printing.queue import JobState, JobStatus, PrinterUnavailable, PrintProblem, PrintQueue
from printing.templates import TemplateRegistry
from workstation.services.audit import AuditLog
from workstation.services.documents import IssuedDocument, IssuedDocuments
from workstation.services.store import Store
from workstation.services.tables import PrintJobRow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
CaseWriter = Callable[[str, str, bytes], Path]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PrintRefused(Exception):
    """The document could not be sent: ``message`` (Chinese) says why and what to do."""

    def __init__(self, problem: PrintProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True)
class PreparedDocument:
    """A rendered, recorded document ready to print. Holds personal data (holder, PDF): keep it
    only while the applicant is served."""

    template_key: str
    title: str
    paper: str
    pdf: bytes = field(repr=False)
    stamp: DocumentStamp
    record: IssuedDocument
    purpose: str
    case_number: str
    path: Path  # the copy in the case folder
    holder_id: str | None = field(default=None, repr=False)
    scenario: str | None = None

    @property
    def code(self) -> str:
        return self.stamp.code


@dataclass(frozen=True)
class PrintOutcome:
    code: str
    key: str
    destination: str  # "printer" / "file"
    printer: str | None
    status: JobStatus

    @property
    def text(self) -> str:
        return self.status.text


class PrintService:
    def __init__(self, *, templates: TemplateRegistry, documents: IssuedDocuments,
                 audit: AuditLog, store: Store, queue: PrintQueue | None, issuing_unit: str,
                 write_case_file: CaseWriter, clock: Clock = utc_now,
                 after_issue: Callable[[], None] | None = None) -> None:
        self.templates = templates
        self.documents = documents
        self.audit = audit
        self.store = store
        self.queue = queue
        self.issuing_unit = issuing_unit
        self.write_case_file = write_case_file
        self.clock = clock
        self.after_issue = after_issue

    # -- preparing ----------------------------------------------------------------------

    def prepare(self, template_key: str, data: Any, *, purpose: str, case_number: str,
                holder_id: str | None, operator: str | None, scenario: str | None,
                filename: str | None = None) -> PreparedDocument:
        """Render with a fresh verification stamp, record the digest, keep the PDF in the case
        folder. The returned document is not printed yet (the preview comes first)."""
        template = self.templates.get(template_key)
        stamp = self.documents.new_stamp(self.issuing_unit)
        pdf = template.render(data, stamp=stamp)
        record = self.documents.record(
            stamp, pdf, kind=template_key, title=template.title, purpose=purpose,
            holder_id=holder_id, operator=operator, scenario=scenario, case_number=case_number,
        )
        name = filename or f"{template.title}-{stamp.code}.pdf"
        path = self.write_case_file(case_number, name, pdf)
        self.audit.record(
            "document_issued", operator=operator, holder_id=holder_id, scenario=scenario,
            details={"document": template_key, "code": stamp.code, "sha256": record.sha256,
                     "pages": record.pages, "purpose": purpose, "case": case_number},
        )
        if self.after_issue is not None:
            self.after_issue()
        return PreparedDocument(template_key, template.title, template.paper, pdf, stamp,
                                record, purpose, case_number, path, holder_id, scenario)

    # -- printing ---------------------------------------------------------------------

    def printer_for(self, paper: str) -> str | None:
        return self.queue.printer_for(paper) if self.queue is not None else None

    def _rows(self, code: str) -> list[PrintJobRow]:
        with self.store.session() as session:
            return list(session.execute(
                select(PrintJobRow).where(PrintJobRow.document_code == code)
                .order_by(PrintJobRow.id)
            ).scalars())

    def _claim(self, key: str, code: str, destination: str, printer: str | None
               ) -> tuple[PrintJobRow, bool]:
        """Insert the print_jobs row for ``key``; (row, True) if new, (existing row, False)."""
        now = self.clock()
        row = PrintJobRow(idempotency_key=key, document_code=code, destination=destination,
                          printer=printer, cups_job_id=None, state="submitting", problem=None,
                          submitted_at=now, updated_at=now)
        try:
            with self.store.session(write_lock=True) as session:
                session.add(row)
            return row, True
        except IntegrityError:
            with self.store.session() as session:
                existing = session.execute(
                    select(PrintJobRow).where(PrintJobRow.idempotency_key == key)
                ).scalar_one()
            return existing, False

    def _update(self, key: str, **values: Any) -> None:
        # write_lock: a read-then-write transaction on SQLite must hold the write lock from
        # the start, or it fails at once ("database is locked") beside another writer
        with self.store.session(write_lock=True) as session:
            row = session.execute(
                select(PrintJobRow).where(PrintJobRow.idempotency_key == key)
            ).scalar_one()
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at = self.clock()

    def _audit(self, doc: PreparedDocument, operator: str | None, key: str, result: str,
               **extra: Any) -> None:
        self.audit.record(
            "print", operator=operator, holder_id=doc.holder_id, scenario=doc.scenario,
            details={"document": doc.template_key, "purpose": doc.purpose, "code": doc.code,
                     "key": key, "case": doc.case_number, "result": result, **extra},
        )

    def print(self, doc: PreparedDocument, *, operator: str | None, reprint: bool = False,
              on_update: Callable[[JobStatus], None] | None = None, timeout_s: float = 120.0,
              cancelled: threading.Event | None = None,
              until: Callable[[JobStatus], bool] | None = None) -> PrintOutcome:
        """Print ``doc`` once (idempotent) and follow the job until it ends, ``until(status)``
        holds, ``cancelled`` is set (the job is cancelled) or ``timeout_s`` passes;
        ``reprint=True`` prints another copy on purpose. Raises :class:`PrintRefused` when the
        printer cannot take it now."""
        rows = self._rows(doc.code)
        n = len(rows) + 1 if reprint else 1
        key = f"{doc.code}#{n}"
        printer = self.printer_for(doc.paper)
        if printer is None or self.queue is None:
            return self._save_only(doc, key, operator, on_update)
        row, new = self._claim(key, doc.code, "printer", printer)
        job_id = row.cups_job_id
        if not new and row.state in ("completed", "aborted", "canceled"):
            # finished before: report it; printing it again is a deliberate reprint
            status = JobStatus(job_id, printer, JobState(row.state),
                               PrintProblem(row.problem) if row.problem else None)
            return PrintOutcome(doc.code, key, "printer", printer, status)
        try:
            # submit() itself first looks for a CUPS job carrying the key (a crash after
            # sending, or a reply lost on the way back)
            job_id = self.queue.submit(printer, doc.pdf, title=doc.title, key=key)
        except PrinterUnavailable as exc:
            self._update(key, state="refused", problem=exc.problem.value)
            self._audit(doc, operator, key, "refused", printer=printer,
                        problem=exc.problem.value)
            raise PrintRefused(exc.problem, exc.message) from exc
        if row.cups_job_id != job_id:
            self._update(key, cups_job_id=job_id, state="submitted", problem=None)
            self._audit(doc, operator, key, "submitted", printer=printer, job_id=job_id,
                        reprint=reprint)
        return self._follow(doc, key, printer, job_id, operator, on_update, timeout_s,
                            cancelled, until)

    def _follow(self, doc: PreparedDocument, key: str, printer: str, job_id: int,
                operator: str | None, on_update: Callable[[JobStatus], None] | None,
                timeout_s: float, cancelled: threading.Event | None,
                until: Callable[[JobStatus], bool] | None = None) -> PrintOutcome:
        assert self.queue is not None
        last_problem: list[PrintProblem | None] = [None]

        def update(status: JobStatus) -> None:
            if status.problem != last_problem[0]:
                last_problem[0] = status.problem
                self._update(key, state=status.state.value,
                             problem=status.problem.value if status.problem else None)
            if on_update is not None:
                on_update(status)

        status = self.queue.follow(job_id, timeout_s=timeout_s, on_update=update,
                                   cancelled=cancelled, until=until)
        if cancelled is not None and cancelled.is_set() and not status.terminal:
            self.queue.cancel(job_id)
            status = self.queue.follow(job_id, timeout_s=10)
        self._update(key, state=status.state.value,
                     problem=status.problem.value if status.problem else None)
        if status.terminal:
            extra: dict[str, Any] = {"printer": printer, "job_id": job_id}
            if status.problem is not None:
                extra["problem"] = status.problem.value
            self._audit(doc, operator, key, status.state.value, **extra)
        return PrintOutcome(doc.code, key, "printer", printer, status)

    def follow(self, doc: PreparedDocument, outcome: PrintOutcome, *, operator: str | None,
               on_update: Callable[[JobStatus], None] | None = None,
               timeout_s: float = 120.0, cancelled: threading.Event | None = None
               ) -> PrintOutcome:
        """Go on following a job that was left waiting (paper out, printer stopped)."""
        if outcome.status.terminal or outcome.status.job_id is None or outcome.printer is None:
            return outcome
        return self._follow(doc, outcome.key, outcome.printer, outcome.status.job_id,
                            operator, on_update, timeout_s, cancelled)

    def cancel(self, outcome: PrintOutcome) -> None:
        if self.queue is not None and outcome.status.job_id is not None:
            self.queue.cancel(outcome.status.job_id)

    def _save_only(self, doc: PreparedDocument, key: str, operator: str | None,
                   on_update: Callable[[JobStatus], None] | None) -> PrintOutcome:
        """No printer for this paper: the PDF in the case folder is the result."""
        _, new = self._claim(key, doc.code, "file", None)
        status = JobStatus(None, None, JobState.SAVED, path=str(doc.path))
        if new:
            self._update(key, state=JobState.SAVED.value)
            self._audit(doc, operator, key, "saved", destination="case_folder")
        if on_update is not None:
            on_update(status)
        return PrintOutcome(doc.code, key, "file", None, status)
