"""Issued documents: codes recorded with the PDF digest, verification, platform registration,
the `mianzheng verify` command, and nothing personal in plaintext."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from printing.authenticity import pdf_digest
from tests.helpers.db_fixtures import PERSON_ID, PERSON_NAME
from workstation.cli import main
from workstation.services.crypto import FieldCipher
from workstation.services.documents import IssuedDocuments
from workstation.services.platform import PlatformClient
from workstation.services.store import Store


@pytest.fixture
def documents(sqlite_store: Store, cipher: FieldCipher, clock) -> IssuedDocuments:
    return IssuedDocuments(sqlite_store, cipher, "TEST-01", "https://verify.example/v",
                           clock=clock)


def _pdf() -> bytes:
    from printing.material_list import render_material_list, sample_material_list

    return render_material_list(sample_material_list())


def test_record_and_verify(documents: IssuedDocuments):
    stamp = documents.new_stamp("赤壁市政务服务中心")
    assert stamp.url == f"https://verify.example/v/{stamp.code}"
    pdf = _pdf()
    doc = documents.record(stamp, pdf, kind="material_list", title="申请材料清单",
                           purpose="存量房转移登记", holder_id=PERSON_ID, operator="demo",
                           scenario="unified_intake", case_number="TEST-01-20250303-093000-000")
    assert doc.sha256 == pdf_digest(pdf) and doc.pages == 1
    ok = documents.verify(stamp.display_code.lower(), pdf)
    assert ok.issued and ok.pdf_matches and ok.ok
    assert "赤壁市政务服务中心" in ok.message and "一致" in ok.message
    changed = documents.verify(stamp.code, pdf.replace(b"/Producer", b"/Producex", 1))
    assert changed.issued and changed.pdf_matches is False and not changed.ok
    assert "不一致" in changed.message
    assert documents.verify(stamp.code).pdf_matches is None


def test_unknown_and_malformed_codes(documents: IssuedDocuments):
    from printing.authenticity import new_verification_code

    unknown = documents.verify(new_verification_code())
    assert not unknown.issued and "未查到" in unknown.message
    bad = documents.verify("1234")
    assert not bad.issued and "16 位" in bad.message


def test_holder_is_only_a_keyed_hash(documents: IssuedDocuments, sqlite_store: Store, cipher,
                                     tmp_path: Path):
    stamp = documents.new_stamp("赤壁市政务服务中心")
    documents.record(stamp, _pdf(), kind="material_list", title="申请材料清单",
                     purpose="存量房转移登记", holder_id=PERSON_ID, operator=None,
                     scenario=None, case_number=None)
    raw = (tmp_path / "workstation.db").read_bytes()
    assert PERSON_ID.encode() not in raw and PERSON_NAME.encode("utf-8") not in raw
    with sqlite3.connect(tmp_path / "workstation.db") as db:
        (holder,) = db.execute("SELECT holder_hash FROM issued_documents").fetchone()
    assert holder == cipher.holder_hash(PERSON_ID)
    with pytest.raises(ValueError, match="个人信息"):
        documents.record(documents.new_stamp("x"), _pdf(), kind="k", title="t",
                         purpose=f"为{PERSON_ID}办理", holder_id=None, operator=None,
                         scenario=None, case_number=None)


class _Platform:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.down = False

    def register_document(self, record: dict) -> None:
        if self.down:
            raise ConnectionError("down")
        self.sent.append(record)


def test_registration_retries_until_acknowledged(documents: IssuedDocuments):
    platform = _Platform()
    platform.down = True
    stamps = [documents.new_stamp("赤壁市政务服务中心") for _ in range(2)]
    for s in stamps:
        documents.record(s, _pdf(), kind="material_list", title="申请材料清单", purpose="p",
                         holder_id=PERSON_ID, operator=None, scenario=None, case_number=None)
    assert documents.register_pending(platform) == 0
    assert len(documents.pending_registration()) == 2
    platform.down = False
    assert documents.register_pending(platform) == 2
    assert documents.pending_registration() == []
    assert {r["code"] for r in platform.sent} == {s.code for s in stamps}
    assert all(PERSON_ID not in str(r) and "holder" not in str(r) for r in platform.sent)


def test_sandbox_registers_and_verifies_documents(documents, platform_client: PlatformClient,
                                                  sandbox):
    stamp = documents.new_stamp("赤壁市政务服务中心")
    pdf = _pdf()
    doc = documents.record(stamp, pdf, kind="material_list", title="申请材料清单",
                           purpose="p", holder_id=None, operator=None, scenario=None,
                           case_number=None)
    platform_client.register_document(doc.to_platform())
    platform_client.register_document(doc.to_platform())  # idempotent
    answer = platform_client.verify_document(stamp.code, pdf_digest(pdf))
    assert answer["issued"] and answer["sha256_matches"] is True
    assert answer["workstation_id"] == "TEST-01" and answer["issuing_unit"] == "赤壁市政务服务中心"
    assert platform_client.verify_document(stamp.code, "0" * 64)["sha256_matches"] is False
    assert platform_client.verify_document("2" * 16)["issued"] is False
    import httpx

    public = httpx.get(f"{sandbox.url}/verify/{stamp.display_code}")  # the QR code's URL
    assert public.status_code == 200 and public.json()["code"] == stamp.code
    conflict = httpx.post(f"{sandbox.url}/api/v1/documents",
                          json={**doc.to_platform(), "sha256": "1" * 64},
                          headers={"X-Client-Id": "ws-demo",
                                   "Authorization": "Bearer sandbox-secret"})
    assert conflict.status_code == 409


def test_verify_command(tmp_path: Path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    cipher = FieldCipher.from_key_file(data / "field-keys.json")
    store = Store.open(f"sqlite:///{data / 'workstation.db'}")
    documents = IssuedDocuments(store, cipher, "CLI-01", "https://v.example")
    stamp = documents.new_stamp("赤壁市政务服务中心")
    pdf = _pdf()
    documents.record(stamp, pdf, kind="material_list", title="申请材料清单", purpose="p",
                     holder_id=PERSON_ID, operator="demo", scenario=None, case_number=None)
    store.close()
    cfg = tmp_path / "ws.toml"
    cfg.write_text(f'workstation_id = "CLI-01"\ndata_dir = "{data}"\n'
                   '[platform]\nbase_url = "http://127.0.0.1:9"\n', encoding="utf-8")
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(pdf + b"%tampered\n")
    assert main(["--config", str(cfg), "verify", stamp.display_code]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ISSUED:") and "CLI-01" in out and "申请材料清单" in out
    assert main(["--config", str(cfg), "verify", stamp.code, "--pdf", str(good)]) == 0
    assert "PDF MATCHES" in capsys.readouterr().out
    assert main(["--config", str(cfg), "verify", stamp.code, "--pdf", str(bad)]) == 1
    assert "PDF DIFFERS" in capsys.readouterr().out
    from printing.authenticity import new_verification_code

    assert main(["--config", str(cfg), "verify", new_verification_code()]) == 1
    assert "NOT ISSUED" in capsys.readouterr().out
