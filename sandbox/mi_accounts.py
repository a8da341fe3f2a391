"""Medical-insurance accounts of the sandbox world (医保信息平台 data), shared by two platforms.

S7/S8 (``sandbox/medical_insurance.py``: queries, contact phone, 异地就医备案) and S1
(``sandbox/pharmacy.py``: catalogue, settlement, refund) read and change the same insured
people through this one object, reachable as ``server.mi_accounts``. It serves no routes itself.

Every citizen of the world gets a deterministic record drawn from the seed and the ID number:
most are insured (employees' basic medical insurance with a personal account, or the urban and
rural residents' scheme without one), a few have a suspended or no insurance. Amounts are whole
fen (分) as ``int`` everywhere: money is never a float.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.server import SandboxServer
    from sandbox.world import Citizen

EMPLOYEE = "职工基本医疗保险"
RESIDENT = "城乡居民基本医疗保险"
ACTIVE = "参保缴费"
SUSPENDED = "暂停缴费"
INSTITUTIONS = ("赤壁市人民医院", "咸宁市中心医院", "赤壁市中医院", "益丰大药房（赤壁店）",
                "老百姓大药房（蒲圻店）", "赤壁市蒲圻街道社区卫生服务中心")
SETTLEMENT_KINDS = ("普通门诊", "药店购药", "门诊慢特病", "住院")


class AccountError(Exception):
    """A change the account refuses (not insured, suspended, balance too low)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass
class InsuredRecord:
    """One insured person. Holds personal data: the sandbox never logs it."""

    holder_id: str
    name: str
    insurance_type: str  # EMPLOYEE or RESIDENT
    status: str  # ACTIVE or SUSPENDED
    region: str  # 参保地, e.g. 湖北省赤壁市
    region_code: str
    insured_since: dt.date
    employer: str | None  # employees only
    account_balance_fen: int  # personal account; always 0 for residents
    phone: str
    personal_number: str  # 个人编号 of the medical-insurance system
    settlements: list[dict[str, Any]] = field(default_factory=list)  # newest first
    ledger: list[dict[str, Any]] = field(default_factory=list)  # account changes, oldest first

    @property
    def has_account(self) -> bool:
        return self.insurance_type == EMPLOYEE

    def to_json(self) -> dict[str, Any]:
        return {
            "holder_id": self.holder_id, "name": self.name,
            "insurance_type": self.insurance_type, "status": self.status,
            "region": self.region, "region_code": self.region_code,
            "insured_since": self.insured_since.isoformat(), "employer": self.employer,
            "account_balance_fen": self.account_balance_fen, "has_account": self.has_account,
            "phone": self.phone, "personal_number": self.personal_number,
        }


def _record_for(seed: int, citizen: Citizen, as_of: dt.date) -> InsuredRecord | None:
    rng = random.Random(f"{seed}:mi:{citizen.id_number}")
    if rng.random() < 0.04:
        return None  # not insured in this region
    age = citizen.age_on(as_of)
    employee = 18 <= age < 60 and rng.random() < 0.62
    since = max(citizen.birth_date, dt.date(as_of.year - rng.randint(1, 20), 1, 1))
    record = InsuredRecord(
        holder_id=citizen.id_number, name=citizen.name,
        insurance_type=EMPLOYEE if employee else RESIDENT,
        status=SUSPENDED if rng.random() < 0.05 else ACTIVE,
        region=citizen.address[:6] if citizen.address else "湖北省赤壁市",
        region_code=citizen.place_code,
        insured_since=since,
        employer=(rng.choice(("赤壁市青砖茶业有限公司", "湖北蒲圻纺织有限公司",
                              "赤壁市城市建设投资有限公司", "咸宁市赤壁供销合作社"))
                  if employee else None),
        account_balance_fen=rng.randint(20_000, 1_200_000) if employee else 0,
        phone=citizen.phone,
        personal_number=f"42{rng.randint(10**14, 10**15 - 1)}",
    )
    for i in range(rng.randint(0, 6)):
        day = as_of - dt.timedelta(days=rng.randint(3, 360))
        kind = rng.choice(SETTLEMENT_KINDS)
        total = rng.randint(2_000, 60_000) if kind != "住院" else rng.randint(300_000, 2_000_000)
        fund = int(total * (0.55 if kind == "住院" else 0.5))
        account = min(total - fund, record.account_balance_fen // 10) if employee else 0
        record.settlements.append({
            "settlement_id": f"MI{day:%Y%m%d}{citizen.id_number[-4:]}{i:02d}",
            "settled_at": dt.datetime.combine(day, dt.time(9 + i, 12)).isoformat(),
            "institution": rng.choice(INSTITUTIONS), "kind": kind, "total_fen": total,
            "fund_fen": fund, "account_fen": account, "cash_fen": total - fund - account,
            "status": "settled",
        })
    record.settlements.sort(key=lambda s: s["settled_at"], reverse=True)
    return record


class MiAccounts:
    """The insured people of the world, changed under one lock (request threads share it)."""

    def __init__(self, server: SandboxServer) -> None:
        self._server = server
        self._lock = threading.RLock()
        self._records: dict[str, InsuredRecord | None] = {}

    # -- platform protocol -------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return []  # data only: the medical-insurance and pharmacy platforms serve it

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    # -- reading -----------------------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        """Hold it around a read-check-change sequence (e.g. a settlement)."""
        return self._lock

    def _record(self, holder_id: str) -> InsuredRecord | None:
        if holder_id not in self._records:
            citizen = self._server.world.citizen(holder_id)
            self._records[holder_id] = (None if citizen is None else
                                        _record_for(self._server.seed, citizen,
                                                    self._server.world.as_of))
        return self._records[holder_id]

    def insured(self, holder_id: str) -> InsuredRecord | None:
        """A copy of the person's record, or None when they are not insured here."""
        with self._lock:
            record = self._record(holder_id)
            return copy.deepcopy(record)

    def find(self, predicate: Any) -> InsuredRecord | None:
        """The first citizen (in world order) whose record satisfies ``predicate`` (tests)."""
        with self._lock:
            for citizen in self._server.world.citizens:
                record = self._record(citizen.id_number)
                if record is not None and predicate(record):
                    return copy.deepcopy(record)
        return None

    # -- changing ----------------------------------------------------------------------------

    def _active(self, holder_id: str) -> InsuredRecord:
        record = self._record(holder_id)
        if record is None:
            raise AccountError("not_insured", "未查询到参保信息")
        if record.status != ACTIVE:
            raise AccountError("suspended", "医保待遇暂停（参保状态：暂停缴费），请到医保窗口咨询")
        return record

    def debit(self, holder_id: str, amount_fen: int, ref: str) -> int:
        """Take ``amount_fen`` from the personal account; the new balance."""
        if amount_fen < 0:
            raise ValueError("amount must not be negative")
        with self._lock:
            record = self._active(holder_id)
            if amount_fen > record.account_balance_fen:
                raise AccountError("insufficient_balance", "个人账户余额不足")
            record.account_balance_fen -= amount_fen
            record.ledger.append({"ref": ref, "change_fen": -amount_fen,
                                  "balance_fen": record.account_balance_fen})
            return record.account_balance_fen

    def credit(self, holder_id: str, amount_fen: int, ref: str) -> int:
        """Give ``amount_fen`` back to the personal account (a refund); the new balance."""
        if amount_fen < 0:
            raise ValueError("amount must not be negative")
        with self._lock:
            record = self._record(holder_id)
            if record is None:
                raise AccountError("not_insured", "未查询到参保信息")
            record.account_balance_fen += amount_fen
            record.ledger.append({"ref": ref, "change_fen": amount_fen,
                                  "balance_fen": record.account_balance_fen})
            return record.account_balance_fen

    def add_settlement(self, holder_id: str, settlement: dict[str, Any]) -> None:
        with self._lock:
            record = self._active(holder_id)
            record.settlements.insert(0, dict(settlement))

    def mark_settlement(self, holder_id: str, settlement_id: str, status: str) -> None:
        with self._lock:
            record = self._record(holder_id)
            for item in record.settlements if record else []:
                if item["settlement_id"] == settlement_id:
                    item["status"] = status

    def set_phone(self, holder_id: str, phone: str) -> None:
        with self._lock:
            record = self._record(holder_id)
            if record is None:
                raise AccountError("not_insured", "未查询到参保信息")
            record.phone = phone

    def set_status(self, holder_id: str, status: str) -> None:
        """Tests and demos: suspend or re-activate someone's insurance."""
        with self._lock:
            record = self._record(holder_id)
            if record is None:
                raise AccountError("not_insured", "未查询到参保信息")
            record.status = status
