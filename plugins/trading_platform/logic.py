"""S9 steps without Qt: licence login, second authorization, registration form, submission.

The page calls these on a worker thread (they block on HTTP or the database) and shows their
results. Form rules live in ``workstation.services.trading_form`` (shared with the sandbox);
this module adds what only the workstation knows: the enterprise that logged in, the attached
licence file, and the outbox.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workstation.api import (
    CHINA_TZ,
    PLATFORM_POST,
    Applicant,
    ConsentRequest,
    EnterprisePlatform,
    HolderKind,
    IdentifiedBy,
    Licence,
    LicencesUnavailable,
    PlatformError,
    PlatformUnavailable,
    platform_post,
)
from workstation.api.trading import (
    FIELDS,
    LICENCE_FILE_MAX_BYTES,
    TRADING_REGISTRATIONS,
    LicenceFile,
    LoginResult,
    QrPrompt,
    check_licence_file,
    form_from_licence,
    validate_registration,
)

PURPOSE = "公共资源交易平台主体信息登记"
MATTER_CODE = "GGZY-ZTXX"
REASON = "交易平台主体信息登记自动填写"
LICENCE_TYPE = "business_licence"
FILE_FIELD = "licence_file"  # error key of the attached licence file (not a form field)
PLATFORM_FILE_NAME = "营业执照.png"


class StepError(Exception):
    """A step cannot go on; ``message`` is Chinese and shown to the clerk."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- login ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedIn:
    """The enterprise the workstation is logged in as, with the platform's login token."""

    applicant: Applicant
    login_token: str

    def __repr__(self) -> str:  # neither the token nor the enterprise go to logs
        return f"LoggedIn({self.applicant!r})"


def open_login(ctx: Any) -> QrPrompt:
    return EnterprisePlatform(ctx.platform).open_licence_login(ctx.workstation_id)


def login_status(ctx: Any, session_id: str) -> LoginResult:
    return EnterprisePlatform(ctx.platform).login_status(session_id)


def logged_in(result: LoginResult) -> LoggedIn:
    """The enterprise of a confirmed login; StepError when the answer lacks it."""
    if result.status != "confirmed" or not result.credit_code or not result.login_token:
        raise StepError("登录未完成，请重新扫码登录")
    applicant = Applicant(kind=HolderKind.ENTERPRISE, holder_id=result.credit_code.upper(),
                          name=result.name or "", identified_by=IdentifiedBy.CODE)
    return LoggedIn(applicant, result.login_token)


# -- second authorization and the licence ----------------------------------------------------


def open_authorization(ctx: Any, login: LoggedIn) -> QrPrompt:
    """Ask the logged-in enterprise to authorize reading its business licence (phone QR)."""
    return EnterprisePlatform(ctx.platform).request_consent(
        kind=HolderKind.ENTERPRISE, holder_id=login.applicant.holder_id, purpose=PURPOSE,
        matter_code=MATTER_CODE, licence_types=(LICENCE_TYPE,),
        expires_at=ctx.clock() + dt.timedelta(minutes=30), workstation_id=ctx.workstation_id)


@dataclass(frozen=True)
class LicenceInfo:
    consent: Any
    licence: Licence
    form: dict[str, str]
    file: LicenceFile | None  # the licence picture from the platform, when it passes the check
    file_problem: str | None  # why the platform's picture cannot be attached

    def __repr__(self) -> str:
        return f"LicenceInfo({self.licence!r})"


def fetch_licence_info(ctx: Any, login: LoggedIn, answer: Any) -> LicenceInfo:
    """After approval: record the consent, fetch the licence and its picture (blocking)."""
    if (answer.holder_id or "").upper() != login.applicant.holder_id:
        raise StepError("授权企业与登录企业不一致，请用登录企业的电子营业执照授权")
    request = ConsentRequest(applicant=login.applicant, purpose=PURPOSE, matter_code=MATTER_CODE,
                             licence_types=(LICENCE_TYPE,), scenario=ctx.manifest.id)
    operator = ctx.operator()
    consent = ctx.consents.record_remote(request, answer.consent_ref, answer.consent_expires_at,
                                         operator=operator)
    result = ctx.licences.fetch(consent, [LICENCE_TYPE], reason=REASON, operator=operator)
    usable = [lic for lic in result.licences if lic.status == "valid"]
    if not usable:
        states = {"revoked": "已注销", "expired": "已过期"}
        shown = [states.get(lic.status, lic.status) for lic in result.licences]
        raise StepError(
            f"电子营业执照{shown[0]}，不能用于登记" if shown
            else (result.reason_for(LICENCE_TYPE) or "未查到有效的电子营业执照"))
    licence = usable[0]
    form = form_from_licence(licence.fields, licence.issuer, licence.valid_until)
    file: LicenceFile | None = None
    problem: str | None = None
    try:
        png = bytes(ctx.licences.thumbnail(consent, licence, REASON, operator=operator))
    except LicencesUnavailable as exc:
        problem = exc.args[0] if exc.args else "暂时无法获取营业执照照面"
    else:
        problem = check_licence_file(PLATFORM_FILE_NAME, png)
        file = None if problem else LicenceFile(PLATFORM_FILE_NAME, png)
    return LicenceInfo(consent, licence, form, file, problem)


def load_licence_file(path: str) -> LicenceFile:
    """A file the clerk picked (blocking I/O); StepError when it cannot be attached."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > LICENCE_FILE_MAX_BYTES:  # refused without reading it all
            raise StepError(f"文件不能超过 1M（所选文件 {size / 1024 / 1024:.1f}M）")
        content = source.read_bytes()
    except OSError:
        raise StepError("无法读取所选文件") from None
    problem = check_licence_file(source.name, content)
    if problem:
        raise StepError(problem)
    return LicenceFile(source.name, content)


# -- the form --------------------------------------------------------------------------------


def check_registration(form: dict[str, str], file: LicenceFile | None, login: LoggedIn,
                       today: dt.date) -> dict[str, str]:
    """Errors per field key (and ``licence_file``); empty when it may be submitted."""
    errors = validate_registration(form, today=today)
    if "cert_no" not in errors and form.get("cert_no", "").strip().upper() \
            != login.applicant.holder_id:
        errors["cert_no"] = "证书编号应为登录企业的统一社会信用代码"
    if file is None:
        errors[FILE_FIELD] = "请上传营业执照（jpg/png 文件，不超过 1M）"
    else:
        problem = check_licence_file(file.name, file.content)
        if problem:
            errors[FILE_FIELD] = problem
    return errors


def today_in_china(ctx: Any) -> dt.date:
    return ctx.clock().astimezone(CHINA_TZ).date()  # type: ignore[no-any-return]


def clean_form(form: dict[str, str]) -> dict[str, str]:
    return {key: str(form.get(key, "")).strip() for key in FIELDS}


def registration_key(credit_code: str, form: dict[str, str], file: LicenceFile) -> str:
    """The idempotency key: the same registration (form and file) is sent at most once."""
    digest = hashlib.sha256(json.dumps(clean_form(form), sort_keys=True,
                                       ensure_ascii=False).encode("utf-8"))
    digest.update(hashlib.sha256(file.content).digest())
    return f"trading:{credit_code}:{digest.hexdigest()[:32]}"


def queue_registration(ctx: Any, login: LoggedIn, form: dict[str, str],
                       file: LicenceFile) -> str:
    """Store the registration in the outbox (sent by it, also after a restart); the key."""
    body = {
        "login_token": login.login_token,
        "form": clean_form(form),
        "licence_file": {"name": file.name,
                         "content_b64": base64.b64encode(file.content).decode("ascii")},
    }
    key = registration_key(login.applicant.holder_id, form, file)
    ctx.outbox.enqueue(PLATFORM_POST, platform_post(TRADING_REGISTRATIONS,
                                                    "trading/registrations", body), key)
    ctx.audit.record("submission", holder_id=login.applicant.holder_id,
                     what="trading_registration", file_bytes=len(file.content))
    return key


@dataclass(frozen=True)
class Delivery:
    """Where a queued registration stands."""

    status: str  # sent / waiting / held
    registration_no: str | None = None
    error: str | None = None


def deliver(ctx: Any, key: str) -> Delivery:
    """Try to send now (blocking) and say where the registration stands."""
    report = ctx.outbox.deliver_due()
    return delivery_state(ctx, key, report.replies.get(key))


def delivery_state(ctx: Any, key: str, reply: Any = None) -> Delivery:
    item = ctx.outbox.get(key)
    if item is None:
        return Delivery("waiting")
    if item.sent:
        if not isinstance(reply, dict):
            reply = _receipt(ctx, item)
        number = reply.get("registration_no") if isinstance(reply, dict) else None
        return Delivery("sent", str(number) if number else None)
    if item.held:
        return Delivery("held", error=item.last_error)
    return Delivery("waiting", error=item.last_error)


def _receipt(ctx: Any, item: Any) -> dict[str, Any] | None:
    """The platform's first answer again (same idempotency key): the item was sent by the
    outbox thread, whose reply is not kept. The platform stores nothing twice."""
    try:
        return dict(ctx.platform.call_json(
            "POST", str(item.payload["path"]), "trading/registrations/receipt",
            json=item.payload["body"], idempotency_key=item.idempotency_key))
    except (PlatformError, PlatformUnavailable):
        return None
