"""S9 logic without Qt: login answer, form check against the logged-in enterprise, files, keys."""

from __future__ import annotations

import pytest

from plugins.trading_platform.logic import (
    FILE_FIELD,
    StepError,
    check_registration,
    load_licence_file,
    logged_in,
    registration_key,
)
from tests.services.test_trading_form import PNG_HEAD, TODAY, valid_form
from workstation.services.enterprise import LoginResult
from workstation.services.model import HolderKind, IdentifiedBy
from workstation.services.trading_form import LICENCE_FILE_MAX_BYTES, LicenceFile

CODE = "91350100M000100Y43"


def login():
    return logged_in(LoginResult("confirmed", CODE.lower(), "赤壁市样例有限公司", "T123"))


def test_a_confirmed_login_is_the_enterprise_identified_by_code():
    result = login()
    assert result.applicant.kind is HolderKind.ENTERPRISE
    assert result.applicant.holder_id == CODE
    assert result.applicant.identified_by is IdentifiedBy.CODE
    assert "T123" not in repr(result) and CODE not in repr(result)
    with pytest.raises(StepError):
        logged_in(LoginResult("pending"))


def test_form_must_name_the_logged_in_enterprise_and_carry_a_file():
    png = LicenceFile("照面.png", PNG_HEAD + b"1")
    assert check_registration(valid_form(), png, login(), TODAY) == {}
    errors = check_registration(valid_form(cert_no="91420000MA49X0001W"), None, login(), TODAY)
    assert errors[FILE_FIELD].startswith("请上传营业执照")
    assert "cert_no" in errors
    big = LicenceFile("a.png", PNG_HEAD + b"0" * LICENCE_FILE_MAX_BYTES)
    assert check_registration(valid_form(), big, login(), TODAY)[FILE_FIELD] == "文件不能超过 1M"


def test_picked_files(tmp_path):
    exact = tmp_path / "执照.png"
    exact.write_bytes(PNG_HEAD + b"0" * (LICENCE_FILE_MAX_BYTES - len(PNG_HEAD)))
    assert len(load_licence_file(str(exact)).content) == LICENCE_FILE_MAX_BYTES
    over = tmp_path / "大.png"
    over.write_bytes(PNG_HEAD + b"0" * (LICENCE_FILE_MAX_BYTES - len(PNG_HEAD) + 1))
    with pytest.raises(StepError, match="不能超过 1M"):
        load_licence_file(str(over))
    pdf = tmp_path / "执照.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(StepError, match="jpg/png"):
        load_licence_file(str(pdf))
    with pytest.raises(StepError, match="无法读取"):
        load_licence_file(str(tmp_path / "none.png"))


def test_the_same_registration_has_the_same_key():
    png = LicenceFile("a.png", PNG_HEAD + b"1")
    key = registration_key(CODE, valid_form(), png)
    assert key == registration_key(CODE, valid_form(street=" 赤马港街道沿河大道 18 号 "), png)
    assert key != registration_key(CODE, valid_form(capital_wan="101"), png)
    assert key != registration_key(CODE, valid_form(), LicenceFile("a.png", PNG_HEAD + b"2"))
    assert len(key) <= 128
