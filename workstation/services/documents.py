"""Issued documents: verification codes, recorded PDF digests, verification, registration.

Every document the workstation issues (prints or saves) gets a fresh verification code and a QR
code encoding ``{verify_url}/{CODE}``; after rendering, the SHA-256 of the exact PDF bytes is
recorded here with where (workstation, issuing unit, scenario, case), when and what kind. The
holder is kept only as a keyed hash. ``verify(code, pdf)`` answers whether the code was issued
and whether a presented PDF is byte-for-byte the issued one. Issued documents are registered
with the platform (``POST /api/v1/documents``) so that anyone can verify them there; those the
platform has not acknowledged yet are sent again by ``register_pending``.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select

from printing.authenticity import (
    DocumentStamp,
    InvalidCode,
    new_verification_code,
    normalise_code,
    pdf_digest,
    verification_url,
)
from workstation.services.audit import check_no_personal_data
from workstation.services.crypto import FieldCipher
from workstation.services.model import CHINA_TZ
from workstation.services.store import Store
from workstation.services.tables import IssuedDocumentRow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DocumentPlatform(Protocol):
    def register_document(self, record: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class IssuedDocument:
    code: str
    kind: str
    title: str
    sha256: str
    pages: int
    size_bytes: int
    issuing_unit: str
    purpose: str
    workstation_id: str
    operator: str | None
    scenario: str | None
    case_number: str | None
    holder_hash: str | None
    issued_at: dt.datetime
    registered_at: dt.datetime | None

    def to_platform(self) -> dict[str, Any]:
        """What the platform is told: no holder, no personal data."""
        return {
            "code": self.code, "kind": self.kind, "title": self.title, "sha256": self.sha256,
            "pages": self.pages, "issuing_unit": self.issuing_unit,
            "workstation_id": self.workstation_id,
            "issued_at": self.issued_at.astimezone(CHINA_TZ).isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class Verification:
    """The answer to "was this document issued, and is this PDF the issued one?"."""

    code: str
    issued: bool
    document: IssuedDocument | None
    pdf_matches: bool | None  # None when no PDF was presented
    message: str  # Chinese, for the clerk or the command line

    @property
    def ok(self) -> bool:
        return self.issued and self.pdf_matches is not False


def count_pages(pdf: bytes) -> int:
    import pypdf

    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _document(row: IssuedDocumentRow) -> IssuedDocument:
    return IssuedDocument(
        code=row.code, kind=row.kind, title=row.title, sha256=row.sha256, pages=row.pages,
        size_bytes=row.size_bytes, issuing_unit=row.issuing_unit, purpose=row.purpose,
        workstation_id=row.workstation_id, operator=row.operator, scenario=row.scenario,
        case_number=row.case_number, holder_hash=row.holder_hash, issued_at=row.issued_at,
        registered_at=row.registered_at,
    )


def describe(doc: IssuedDocument) -> str:
    when = doc.issued_at.astimezone(CHINA_TZ)
    return (f"{doc.title}（{doc.kind}），{doc.issuing_unit}于 {when:%Y-%m-%d %H:%M} "
            f"在工作站 {doc.workstation_id} 出具，共 {doc.pages} 页")


class IssuedDocuments:
    """The workstation's record of the documents it issued."""

    def __init__(self, store: Store, cipher: FieldCipher, workstation_id: str, verify_url: str,
                 *, clock: Clock = utc_now) -> None:
        self.store = store
        self.cipher = cipher
        self.workstation_id = workstation_id
        self.verify_url = verify_url.rstrip("/")
        self.clock = clock

    def new_stamp(self, issuer: str) -> DocumentStamp:
        """A fresh verification code (never issued before) for a document about to render."""
        while True:
            code = new_verification_code()
            with self.store.session() as session:
                if session.get(IssuedDocumentRow, code) is None:
                    break
        now = self.clock().astimezone(CHINA_TZ)
        return DocumentStamp(code, verification_url(self.verify_url, code), now, issuer)

    def record(self, stamp: DocumentStamp, pdf: bytes, *, kind: str, title: str,
               purpose: str, holder_id: str | None, operator: str | None,
               scenario: str | None, case_number: str | None) -> IssuedDocument:
        """Record an issued PDF under its stamp's code (the digest of these exact bytes)."""
        check_no_personal_data({"purpose": purpose, "case": case_number or "", "kind": kind})
        row = IssuedDocumentRow(
            code=stamp.code, kind=kind, title=title[:100], sha256=pdf_digest(pdf),
            pages=count_pages(pdf), size_bytes=len(pdf), issuing_unit=stamp.issuer[:100],
            purpose=purpose[:200], workstation_id=self.workstation_id, operator=operator,
            scenario=scenario, case_number=case_number,
            holder_hash=self.cipher.holder_hash(holder_id) if holder_id else None,
            issued_at=stamp.issued_at.astimezone(dt.UTC), registered_at=None,
        )
        with self.store.session(write_lock=True) as session:
            session.add(row)
        return _document(row)

    def get(self, code: str) -> IssuedDocument | None:
        with self.store.session() as session:
            row = session.get(IssuedDocumentRow, normalise_code(code))
            return _document(row) if row is not None else None

    def verify(self, code: str, pdf: bytes | None = None) -> Verification:
        try:
            clean = normalise_code(code)
        except InvalidCode as exc:
            return Verification(code, False, None, None, exc.message)
        doc = self.get(clean)
        if doc is None:
            return Verification(clean, False, None, None,
                                "未查到该验证码对应的文书：本工作站（大厅）未出具过此文书")
        text = f"已出具：{describe(doc)}"
        if pdf is None:
            return Verification(clean, True, doc, None, text)
        if pdf_digest(pdf) == doc.sha256:
            return Verification(clean, True, doc, True,
                                f"{text}。所提供的 PDF 与出具时的文件一致（SHA-256 相符）")
        return Verification(clean, True, doc, False,
                            f"{text}。所提供的 PDF 与出具时的文件不一致，可能被修改过")

    # -- platform registration ---------------------------------------------------------

    def pending_registration(self, limit: int = 100) -> list[IssuedDocument]:
        with self.store.session() as session:
            rows = session.execute(
                select(IssuedDocumentRow).where(IssuedDocumentRow.registered_at.is_(None))
                .order_by(IssuedDocumentRow.issued_at).limit(limit)
            ).scalars()
            return [_document(r) for r in rows]

    def mark_registered(self, code: str) -> None:
        with self.store.session(write_lock=True) as session:
            row = session.get(IssuedDocumentRow, code)
            if row is not None and row.registered_at is None:
                row.registered_at = self.clock()

    def register_pending(self, platform: DocumentPlatform) -> int:
        """Send every not-yet-acknowledged document to the platform; returns how many went.
        Stops at the first failure (the platform is probably down): the rest wait."""
        sent = 0
        for doc in self.pending_registration():
            try:
                platform.register_document(doc.to_platform())
            except Exception as exc:
                log.warning("document registration deferred: %s", type(exc).__name__)
                break
            self.mark_registered(doc.code)
            sent += 1
        return sent
