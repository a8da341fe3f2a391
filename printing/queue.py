"""The CUPS queue (pycups), Qt-free and database-free: pre-flight, submit, follow, cancel.

- **One printer per paper**: ``{"A4": "hall-a4", "receipt80": "hall-receipt"}``; a paper with no
  printer is not this module's business (the workstation saves the PDF instead).
- **Pre-flight** before every submit (CUPS does not poll an idle printer, so a printer that went
  away is only noticed by looking): the queue exists, accepts jobs and is not stopped.
- **Submit** with an idempotency key: the key is part of the CUPS job name, and before
  submitting the queue looks for a job already carrying it — a retry after a lost reply, a
  timeout or a crash finds the job it already made instead of printing the document twice.
- **Follow** a job to completed / aborted / canceled, or to a state that needs a person (held,
  stopped, pending behind a stopped printer, paper out) with the reason in Chinese. The state
  is decided from the job state (3..9) plus the printer's state, reasons and message, not from
  ``job-state-reasons`` alone.

A pycups ``Connection`` is not thread-safe: every operation opens its own (cheap on a local
socket), so a ``PrintQueue`` may be used from any thread.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "JobState",
    "JobStatus",
    "PrintProblem",
    "PrintQueue",
    "PrinterCheck",
    "PrinterUnavailable",
    "document_name",
    "job_name",
]


class JobState(StrEnum):
    PENDING = "pending"  # 3
    HELD = "held"  # 4
    PROCESSING = "processing"  # 5
    STOPPED = "stopped"  # 6
    CANCELED = "canceled"  # 7
    ABORTED = "aborted"  # 8
    COMPLETED = "completed"  # 9
    SAVED = "saved"  # written to a PDF file instead of a printer (not a CUPS state)

    @property
    def terminal(self) -> bool:
        return self in (JobState.CANCELED, JobState.ABORTED, JobState.COMPLETED, JobState.SAVED)


_IPP_JOB_STATES = {3: JobState.PENDING, 4: JobState.HELD, 5: JobState.PROCESSING,
                   6: JobState.STOPPED, 7: JobState.CANCELED, 8: JobState.ABORTED,
                   9: JobState.COMPLETED}

_JOB_STATE_TEXT = {
    JobState.PENDING: "排队等待打印",
    JobState.HELD: "打印任务已挂起，等待处理",
    JobState.PROCESSING: "正在打印",
    JobState.STOPPED: "打印任务已停止",
    JobState.CANCELED: "打印已取消",
    JobState.ABORTED: "打印失败，任务已中止",
    JobState.COMPLETED: "打印完成",
    JobState.SAVED: "已保存为 PDF 文件",
}


class PrintProblem(StrEnum):
    """Why printing cannot go on; each has a Chinese message for the clerk or the citizen."""

    NO_SERVICE = "no_service"
    NO_PRINTER = "no_printer"
    NOT_ACCEPTING = "not_accepting"
    PRINTER_STOPPED = "printer_stopped"
    MEDIA_EMPTY = "media_empty"
    MEDIA_JAM = "media_jam"
    DOOR_OPEN = "door_open"
    TONER_EMPTY = "toner_empty"
    OFFLINE = "offline"
    NOT_RESPONDING = "not_responding"
    JOB_FAILED = "job_failed"


PROBLEM_TEXT: dict[PrintProblem, str] = {
    PrintProblem.NO_SERVICE: "打印服务（CUPS）未运行或无法连接，请联系管理员",
    PrintProblem.NO_PRINTER: "未找到配置的打印机，请联系管理员检查打印机设置",
    PrintProblem.NOT_ACCEPTING: "打印机暂不接收打印任务，请联系管理员",
    PrintProblem.PRINTER_STOPPED: "打印机已暂停，请联系管理员恢复打印机",
    PrintProblem.MEDIA_EMPTY: "打印机缺纸，请放入纸张，放入后将自动继续打印",
    PrintProblem.MEDIA_JAM: "打印机卡纸，请清除卡纸后继续",
    PrintProblem.DOOR_OPEN: "打印机舱门未关闭，请关好舱门",
    PrintProblem.TONER_EMPTY: "打印机墨粉（墨水）耗尽，请更换耗材",
    PrintProblem.OFFLINE: "打印机离线，请检查打印机电源和连接线",
    PrintProblem.NOT_RESPONDING: "打印机无响应，请检查打印机电源和网络连接",
    PrintProblem.JOB_FAILED: "打印失败",
}

# printer-state-reasons keyword (without -error/-warning/-report) -> problem, most urgent first
_REASONS: tuple[tuple[str, PrintProblem], ...] = (
    ("media-jam", PrintProblem.MEDIA_JAM),
    ("media-empty", PrintProblem.MEDIA_EMPTY),
    ("media-needed", PrintProblem.MEDIA_EMPTY),
    ("input-tray-missing", PrintProblem.MEDIA_EMPTY),
    ("door-open", PrintProblem.DOOR_OPEN),
    ("cover-open", PrintProblem.DOOR_OPEN),
    ("toner-empty", PrintProblem.TONER_EMPTY),
    ("marker-supply-empty", PrintProblem.TONER_EMPTY),
    ("offline", PrintProblem.OFFLINE),
    ("shutdown", PrintProblem.OFFLINE),
    ("connecting-to-device", PrintProblem.NOT_RESPONDING),
    ("timed-out", PrintProblem.NOT_RESPONDING),
)
# fragments of CUPS / backend messages that mean the device does not answer
_NOT_RESPONDING_MESSAGES = ("not responding", "unable to connect", "connection refused",
                            "network host", "unreachable", "无响应")

_IPP_NOT_ACCEPTING = 0x0506  # client-error-not-accepting-jobs (1286)
_IPP_NOT_FOUND = 0x0406  # client-error-not-found (1030)
_IPP_NOT_POSSIBLE = 0x0404  # client-error-not-possible


class PrinterUnavailable(Exception):
    """Printing cannot start: the printer is missing, stopped, refusing jobs or unreachable."""

    def __init__(self, problem: PrintProblem, printer: str | None, detail: str = "") -> None:
        self.problem = problem
        self.printer = printer
        self.detail = detail
        self.message = PROBLEM_TEXT[problem]
        super().__init__(f"{problem.value}: {printer}: {detail}".rstrip(": "))


@dataclass(frozen=True)
class PrinterCheck:
    printer: str
    ok: bool
    problem: PrintProblem | None
    state: str  # idle / processing / stopped
    reasons: tuple[str, ...]
    message: str  # printer-state-message as CUPS reports it

    @property
    def text(self) -> str:
        return PROBLEM_TEXT[self.problem] if self.problem else "打印机就绪"


@dataclass(frozen=True)
class JobStatus:
    """One look at a job: its state, and what (if anything) a person must do."""

    job_id: int | None
    printer: str | None
    state: JobState
    problem: PrintProblem | None = None
    cups_message: str = ""  # job-printer-state-message / printer-state-message, untranslated
    printer_reasons: tuple[str, ...] = ()
    path: str | None = None  # for SAVED: where the PDF went

    @property
    def terminal(self) -> bool:
        return self.state.terminal

    @property
    def needs_attention(self) -> bool:
        return self.problem is not None and not self.terminal

    @property
    def text(self) -> str:
        """The Chinese sentence shown to the user."""
        base = _JOB_STATE_TEXT[self.state]
        if self.state is JobState.SAVED and self.path:
            return f"{base}：{self.path}"
        if self.problem is not None and self.state is not JobState.COMPLETED:
            problem = PROBLEM_TEXT[self.problem]
            if self.state is JobState.ABORTED:
                return f"{base}（{problem}）"
            return problem
        return base


def job_name(title: str, key: str) -> str:
    """The CUPS job name carrying the idempotency key: ``标题 [KEY]``."""
    return f"{title} [{key}]"


def _key_of(name: str) -> str | None:
    if name.endswith("]") and " [" in name:
        return name[name.rindex(" [") + 2:-1]
    return None


_DOC_PREFIX, _DOC_SUFFIX = "mz-", ".pdf"


def document_name(key: str) -> str:
    """The submitted file's name, ``mz-KEY.pdf``: CUPS reports it to everyone as
    ``document-name-supplied``, while ``job-name`` is private to the job's owner under the
    default policy (an unauthenticated client does not see it)."""
    if not key or any(not (c.isascii() and (c.isalnum() or c in "#-_.")) for c in key):
        raise ValueError(f"invalid print idempotency key {key!r}")
    return f"{_DOC_PREFIX}{key}{_DOC_SUFFIX}"


def _key_of_document(name: str) -> str | None:
    if name.startswith(_DOC_PREFIX) and name.endswith(_DOC_SUFFIX):
        return name[len(_DOC_PREFIX):-len(_DOC_SUFFIX)]
    return None


def _strip_severity(reason: str) -> str:
    for suffix in ("-error", "-warning", "-report"):
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def classify_printer(state: int, reasons: tuple[str, ...], message: str,
                     accepting: bool = True) -> PrintProblem | None:
    """The problem a printer has, from its IPP state (3 idle, 4 processing, 5 stopped), its
    state reasons and its state message."""
    keywords = {_strip_severity(r) for r in reasons if r and r != "none"}
    for keyword, problem in _REASONS:
        if keyword in keywords:
            return problem
    lowered = message.lower()
    if any(fragment in lowered for fragment in _NOT_RESPONDING_MESSAGES):
        return PrintProblem.NOT_RESPONDING
    if state == 5 or "paused" in keywords:
        return PrintProblem.PRINTER_STOPPED
    if not accepting:
        return PrintProblem.NOT_ACCEPTING
    return None


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


@dataclass
class PrintQueue:
    """Printers by paper, over one CUPS server (``server``: host, host:port or socket path;
    empty = the client default)."""

    printers: Mapping[str, str]
    server: str = ""
    poll_interval_s: float = 0.1
    _connect_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- connections ------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        import cups

        try:
            with self._connect_lock:  # cups.setServer is process-wide; keep it ours meanwhile
                if self.server:
                    cups.setServer(self.server)
                conn = cups.Connection()
        except RuntimeError as exc:  # "failed to connect to server"
            raise PrinterUnavailable(PrintProblem.NO_SERVICE, None, str(exc)) from exc
        try:
            yield conn
        finally:
            del conn

    def printer_for(self, paper: str) -> str | None:
        name = self.printers.get(paper, "")
        return name or None

    # -- pre-flight ---------------------------------------------------------------------

    def check(self, printer: str) -> PrinterCheck:
        """Look at the printer now: exists, accepts jobs, not stopped, no reason to worry."""
        import cups

        attrs = ["printer-state", "printer-state-reasons", "printer-state-message",
                 "printer-is-accepting-jobs"]
        with self._connection() as conn:
            try:
                a = conn.getPrinterAttributes(printer, requested_attributes=attrs)
            except cups.IPPError as exc:
                status = exc.args[0] if exc.args else None
                if status in (_IPP_NOT_FOUND, _IPP_NOT_POSSIBLE):
                    return PrinterCheck(printer, False, PrintProblem.NO_PRINTER, "missing", (),
                                        str(exc))
                raise PrinterUnavailable(PrintProblem.NO_SERVICE, printer, str(exc)) from exc
        state = int(a.get("printer-state", 3))
        reasons = _as_tuple(a.get("printer-state-reasons"))
        message = str(a.get("printer-state-message", "") or "")
        accepting = bool(a.get("printer-is-accepting-jobs", True))
        problem = classify_printer(state, reasons, message, accepting)
        if not accepting and problem is None:
            problem = PrintProblem.NOT_ACCEPTING
        state_name = {3: "idle", 4: "processing", 5: "stopped"}.get(state, str(state))
        return PrinterCheck(printer, problem is None, problem, state_name, reasons, message)

    def preflight(self, printer: str) -> PrinterCheck:
        """``check`` that raises :class:`PrinterUnavailable` when a job could not print now."""
        result = self.check(printer)
        if not result.ok:
            assert result.problem is not None
            raise PrinterUnavailable(result.problem, printer, result.message)
        return result

    # -- jobs -----------------------------------------------------------------------------

    def find_job(self, key: str) -> int | None:
        """The newest CUPS job (any state) whose name carries ``key``."""
        with self._connection() as conn:
            jobs = conn.getJobs(which_jobs="all", requested_attributes=[
                "job-id", "job-name", "document-name-supplied"])
        found = [
            job_id for job_id, a in jobs.items()
            if key in (_key_of(str(a.get("job-name", ""))),
                       _key_of_document(str(a.get("document-name-supplied", ""))))
        ]
        return max(found) if found else None

    def submit(self, printer: str, pdf: bytes, *, title: str, key: str,
               copies: int = 1, preflight: bool = True) -> int:
        """Submit ``pdf`` once per ``key``: an existing job with the key is returned instead.

        Raises :class:`PrinterUnavailable` when the pre-flight fails or CUPS refuses the job.
        """
        import cups

        filename = document_name(key)
        existing = self.find_job(key)
        if existing is not None:
            return existing
        if preflight:
            self.preflight(printer)
        folder = tempfile.mkdtemp(prefix="mz-print-")  # 0700: readable by us only
        path = os.path.join(folder, filename)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pdf)
            options = {"copies": str(copies)} if copies != 1 else {}
            with self._connection() as conn:
                try:
                    return int(conn.printFile(printer, path, job_name(title, key), options))
                except cups.IPPError as exc:
                    status = exc.args[0] if exc.args else None
                    if status == _IPP_NOT_ACCEPTING:
                        raise PrinterUnavailable(PrintProblem.NOT_ACCEPTING, printer,
                                                 str(exc)) from exc
                    if status in (_IPP_NOT_FOUND, _IPP_NOT_POSSIBLE):
                        raise PrinterUnavailable(PrintProblem.NO_PRINTER, printer,
                                                 str(exc)) from exc
                    raise PrinterUnavailable(PrintProblem.NO_SERVICE, printer,
                                             str(exc)) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.rmdir(folder)

    def status(self, job_id: int) -> JobStatus:
        """The job's state now, with the printer's problem when it has one."""
        import cups

        attrs = ["job-state", "job-state-reasons", "job-printer-state-message",
                 "job-printer-uri", "job-name"]
        with self._connection() as conn:
            try:
                a = conn.getJobAttributes(job_id, requested_attributes=attrs)
            except cups.IPPError as exc:
                raise PrinterUnavailable(PrintProblem.NO_SERVICE, None, str(exc)) from exc
            state = _IPP_JOB_STATES.get(int(a.get("job-state", 3)), JobState.PENDING)
            uri = str(a.get("job-printer-uri", ""))
            printer = uri.rsplit("/", 1)[-1] if uri else None
            job_message = str(a.get("job-printer-state-message", "") or "")
            p: dict[str, Any] = {}
            if printer and not state.terminal:
                with contextlib.suppress(cups.IPPError):
                    p = conn.getPrinterAttributes(printer, requested_attributes=[
                        "printer-state", "printer-state-reasons", "printer-state-message",
                        "printer-is-accepting-jobs"])
        reasons = _as_tuple(p.get("printer-state-reasons"))
        printer_message = str(p.get("printer-state-message", "") or "")
        message = printer_message or job_message
        problem: PrintProblem | None = None
        if state is JobState.ABORTED:
            problem = classify_printer(5, reasons, job_message) or PrintProblem.JOB_FAILED
        elif not state.terminal:
            problem = classify_printer(int(p.get("printer-state", 3)), reasons,
                                       f"{printer_message} {job_message}")
        return JobStatus(job_id, printer, state, problem, message, reasons)

    def follow(self, job_id: int, *, timeout_s: float = 120.0,
               on_update: Callable[[JobStatus], None] | None = None,
               until: Callable[[JobStatus], bool] | None = None,
               cancelled: threading.Event | None = None) -> JobStatus:
        """Poll the job until it is terminal, ``until(status)`` is true, ``cancelled`` is set or
        the time is up; ``on_update`` hears every change. Returns the last status."""
        deadline = time.monotonic() + timeout_s
        last: JobStatus | None = None
        wait = cancelled or threading.Event()
        interval = self.poll_interval_s / 2
        while True:
            current = self.status(job_id)
            if current != last and on_update is not None:
                on_update(current)
            last = current
            if current.terminal or (until is not None and until(current)):
                return current
            if wait.is_set() or time.monotonic() >= deadline:
                return current
            wait.wait(interval)
            interval = min(self.poll_interval_s * 5, interval * 1.5)

    def cancel(self, job_id: int) -> None:
        import cups

        with self._connection() as conn:
            try:
                conn.cancelJob(job_id)
            except cups.IPPError as exc:
                status = exc.args[0] if exc.args else None
                if status != _IPP_NOT_POSSIBLE:  # already finished: nothing to cancel
                    raise PrinterUnavailable(PrintProblem.NO_SERVICE, None, str(exc)) from exc
