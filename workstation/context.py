"""What a scenario plugin receives: a small Qt-free context scoped to its manifest."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from printing.templates import TemplateRegistry
from workstation.manifest import ScenarioManifest
from workstation.services.model import CHINA_TZ, Matter
from workstation.services.session import SessionManager

if TYPE_CHECKING:
    from workstation.services.consent import ConsentService
    from workstation.services.licences import ScopedLicenceService

_CASE_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")


def write_case_file(case_root: Path, case_number: str, filename: str, data: bytes) -> Path:
    """Write a document into a case folder: private (0700 folder, 0600 file) and atomic."""
    if not _CASE_RE.match(case_number):
        raise ValueError(f"invalid case number {case_number!r}")
    if "/" in filename or filename.startswith(".") or not filename:
        raise ValueError(f"invalid file name {filename!r}")
    folder = case_root / case_number
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / filename
    tmp = path.with_name(f".{filename}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
    return path


class ScopedPrinting:
    """The print service as a plugin sees it: scenario and operator are filled in.

    ``prepare(template_key, data, purpose=, case_number=, holder_id=)`` renders with a
    verification stamp, records it and keeps the PDF in the case folder; ``print(prepared)``
    prints it once (or saves it where no printer is configured) and follows the job;
    ``reprint(prepared)`` prints another copy on purpose. Blocking: run them off the GUI thread.
    """

    def __init__(self, service: Any, scenario: str, operator: Callable[[], str | None]) -> None:
        self._service = service
        self._scenario = scenario
        self._operator = operator

    def prepare(self, template_key: str, data: Any, *, purpose: str, case_number: str,
                holder_id: str | None = None, filename: str | None = None) -> Any:
        return self._service.prepare(
            template_key, data, purpose=purpose, case_number=case_number, holder_id=holder_id,
            operator=self._operator(), scenario=self._scenario, filename=filename,
        )

    def print(self, prepared: Any, **kwargs: Any) -> Any:
        return self._service.print(prepared, operator=self._operator(), **kwargs)

    def reprint(self, prepared: Any, **kwargs: Any) -> Any:
        return self._service.print(prepared, operator=self._operator(), reprint=True, **kwargs)

    def follow(self, prepared: Any, outcome: Any, **kwargs: Any) -> Any:
        return self._service.follow(prepared, outcome, operator=self._operator(), **kwargs)

    def cancel(self, outcome: Any) -> None:
        self._service.cancel(outcome)

    def printer_for(self, paper: str) -> str | None:
        return self._service.printer_for(paper)


class ScopedAudit:
    """The audit log as a plugin sees it: scenario and operator are filled in."""

    def __init__(self, audit: Any, scenario: str, operator: Callable[[], str | None]) -> None:
        self._audit = audit
        self._scenario = scenario
        self._operator = operator

    def record(self, kind: str, *, holder_id: str | None = None, **details: Any) -> Any:
        return self._audit.record(
            kind, operator=self._operator(), holder_id=holder_id, scenario=self._scenario,
            details=details,
        )


@dataclass
class ScenarioContext:
    """Services for one scenario. Never the main window; no Qt objects."""

    manifest: ScenarioManifest
    licences: ScopedLicenceService  # fetch(consent, reason=, operator=): manifest's types only
    consents: ConsentService  # grant / decline / revoke (request, operator=)
    audit: ScopedAudit
    sessions: SessionManager
    matters: dict[str, Matter]
    templates: TemplateRegistry
    workstation_id: str
    mode: str  # "clerk" or "kiosk"
    case_root: Path
    operator: Callable[[], str | None]
    platform_online: Callable[[], bool]
    # verify_holder(kind, holder_id, name): True/False from the platform, None when it is offline
    verify_holder: Callable[[str, str, str], bool | None]
    clock: Callable[[], dt.datetime]
    # Submissions that must reach a platform: stored in the outbox (workstation.services.outbox)
    # and sent by the workstation's background thread; wake_outbox() asks it to try at once.
    outbox: Any = None
    # The platform client (link-tracked) for calls the scoped services do not cover.
    platform: Any = None
    wake_outbox: Callable[[], None] = lambda: None
    printing: Any = None  # ScopedPrinting
    # What the scenario keeps between sessions (services.records.ScopedRecords): history,
    # drafts, device state; encrypted, visible to this scenario only.
    records: Any = None
    # The [scenarios.<id>] table of the configuration file, read-only (empty when none).
    settings: Mapping[str, Any] = field(default_factory=dict)
    # locker() -> the locker board (open_door(n), door(n) -> DoorState, doors), or None when
    # none is configured or the manifest does not declare the "locker" device. Blocking I/O.
    locker: Callable[[], Any] = lambda: None
    # The document camera and face camera the manifest declares (workstation.cameras)
    cameras: Any = None

    @property
    def kiosk(self) -> bool:
        return self.mode == "kiosk"

    def case_folder(self, case_number: str) -> Path:
        """The folder for one case's documents, created 0700 on first use."""
        if not _CASE_RE.match(case_number):
            raise ValueError(f"invalid case number {case_number!r}")
        folder = self.case_root / case_number
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def write_case_file(self, case_number: str, filename: str, data: bytes) -> Path:
        """Write a document into the case folder: private (0600) and atomic (no half files)."""
        return write_case_file(self.case_root, case_number, filename, data)

    def new_case_number(self) -> str:
        now = self.clock().astimezone(CHINA_TZ)
        return f"{self.workstation_id}-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
