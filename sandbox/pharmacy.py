"""Sandbox platform of S1 药店买药: the designated pharmacy's medical-insurance settlement.

What a designated retail pharmacy (定点零售药店) talks to when a customer pays with the
medical-insurance e-voucher (医保电子凭证):

- the pharmacy's drug catalogue with the national catalogue category of each drug
  (国家医保药品目录 甲类 / 乙类; 丙类 = outside the catalogue, paid by the customer), its
  specification, price (fen), whether it is prescription-only (处方药), its barcode and the
  pinyin initials clerks type (助记码);
- the insured person's status, scheme and personal-account balance (shared accounts,
  ``server.mi_accounts``);
- a pre-settlement (预结算) that computes the split between the pooled fund (统筹基金), the
  personal account (个人账户) and cash (现金) without changing anything;
- the settlement itself, idempotent by its ``Idempotency-Key`` header: a repeated key (a double
  click, or a retry after a timeout where the first try did settle) gets the first answer with
  ``"duplicate": true`` and never debits twice; the same key with another basket is refused;
- the lookup of an attempt by its key (did that attempt settle?) and of a settlement by its id;
- the refund (退费) of a settlement with a reason, also idempotent by key, giving the personal
  account and the fund back; a second refund of the same settlement is refused.

The split rules (a simplified 赤壁市 outpatient policy at a designated pharmacy):

- 甲类: all of the price is within the policy scope (政策范围内); 乙类: the customer first pays
  10 % (乙类先行自付), the rest is within scope; 丙类: nothing is (自费).
- The pooled fund pays, for prescription drugs whose prescription the clerk checked
  (门诊统筹 · 处方外配), 60 % (职工) or 50 % (城乡居民) of the in-scope amount; nothing for
  OTC drugs.
- The personal account (职工 only) pays what the fund leaves of the 甲/乙 lines, up to its
  balance; whatever it cannot pay, and every 丙类 line, is cash.

All amounts are whole fen (``int``); fractions of a fen are rounded down for the fund, per line.
Personal data stays out of log lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.mi_accounts import InsuredRecord
    from sandbox.server import SandboxServer, _Request, _Response

PHARMACY = {"code": "P42128100017", "name": "赤壁市民康大药房（金鸡路店）",
            "address": "湖北省赤壁市蒲圻街道金鸡路128号", "phone": "0715-5321866"}
CLASS_B_SELF_PAY_PCT = 10  # 乙类先行自付比例
FUND_PCT = {"职工基本医疗保险": 60, "城乡居民基本医疗保险": 50}  # 门诊统筹 at the pharmacy
MAX_LINES = 40
MAX_QTY = 99
REFUND_REASONS = {
    "returned": "顾客退药（药品未拆封）",
    "wrong_charge": "收费错误",
    "prescription_changed": "处方错误或医师更改处方",
    "duplicate": "重复收费",
    "other": "其他原因",
}


def ean13(body12: str) -> str:
    """A 12-digit body plus its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Drug:
    code: str  # 医保药品编码 (synthetic, national format: X/Z + ATC-like + serial)
    name: str  # 通用名
    spec: str  # 规格
    form: str  # 剂型
    unit: str  # 包装单位
    maker: str  # 生产企业
    price_fen: int
    category: str  # 甲 / 乙 / 丙
    rx: bool  # 处方药
    barcode: str  # EAN-13
    initials: str  # 拼音首字母（助记码）

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "spec": self.spec, "form": self.form,
                "unit": self.unit, "maker": self.maker, "price_fen": self.price_fen,
                "category": self.category, "rx": self.rx, "barcode": self.barcode,
                "initials": self.initials}


# name, spec, form, unit, maker, price (fen), category, rx, initials, ATC-like group
_DRUGS: tuple[tuple[str, str, str, str, str, int, str, bool, str, str], ...] = (
    ("阿莫西林胶囊", "0.25g×24粒", "胶囊剂", "盒", "石药集团中诺药业（石家庄）有限公司", 1280, "甲",
     True, "AMXLJN", "J01CA"),
    ("头孢克肟分散片", "0.1g×6片", "片剂", "盒", "广州白云山制药股份有限公司", 2850, "乙", True,
     "TBKWFSP", "J01DD"),
    ("头孢呋辛酯片", "0.25g×12片", "片剂", "盒", "国药集团致君（深圳）制药有限公司", 3200, "乙",
     True, "TBFXZP", "J01DC"),
    ("阿奇霉素片", "0.25g×6片", "片剂", "盒", "辉瑞制药有限公司", 1860, "甲", True, "AQMSP",
     "J01FA"),
    ("左氧氟沙星片", "0.5g×4片", "片剂", "盒", "第一三共制药（北京）有限公司", 1590, "甲", True,
     "ZYFSXP", "J01MA"),
    ("甲硝唑片", "0.2g×21片", "片剂", "瓶", "华中药业股份有限公司", 320, "甲", True, "JXZP",
     "P01AB"),
    ("布洛芬缓释胶囊", "0.3g×20粒", "胶囊剂", "盒", "中美天津史克制药有限公司", 1680, "甲", False,
     "BLFHSJN", "M01AE"),
    ("对乙酰氨基酚片", "0.5g×12片", "片剂", "盒", "上海强生制药有限公司", 450, "甲", False,
     "DYXAJFP", "N02BE"),
    ("复方氨酚烷胺片", "12片", "片剂", "盒", "吉林省吴太感康药业有限公司", 980, "丙", False,
     "FFAFWAP", "R05XA"),
    ("小儿氨酚黄那敏颗粒", "6g×10袋", "颗粒剂", "盒", "哈药集团制药六厂", 1150, "乙", False,
     "XEAFHNMKL", "R05XB"),
    ("氯雷他定片", "10mg×6片", "片剂", "盒", "拜耳医药保健有限公司", 1950, "乙", False, "LLTDP",
     "R06AX"),
    ("盐酸西替利嗪片", "10mg×12片", "片剂", "盒", "苏州东瑞制药有限公司", 2200, "乙", False,
     "YSXTLQP", "R06AE"),
    ("盐酸氨溴索口服溶液", "100ml", "口服溶液剂", "瓶", "勃林格殷格翰（中国）投资有限公司", 2260,
     "乙", False, "YSAXSKFRY", "R05CB"),
    ("复方甘草片", "100片", "片剂", "瓶", "国药集团宜宾制药有限责任公司", 380, "甲", False,
     "FFGCP", "R05FA"),
    ("奥美拉唑肠溶胶囊", "20mg×14粒", "胶囊剂", "盒", "阿斯利康制药有限公司", 1560, "甲", True,
     "AMLZCRJN", "A02BC"),
    ("雷贝拉唑钠肠溶片", "10mg×7片", "片剂", "盒", "卫材（中国）药业有限公司", 3640, "乙", True,
     "LBLZNCRP", "A02BC"),
    ("铝碳酸镁咀嚼片", "0.5g×20片", "片剂", "盒", "拜耳医药保健有限公司", 2480, "乙", False,
     "LTSMJJP", "A02AD"),
    ("蒙脱石散", "3g×10袋", "散剂", "盒", "博福-益普生（天津）制药有限公司", 1790, "甲", False,
     "MTSS", "A07BC"),
    ("多潘立酮片", "10mg×30片", "片剂", "盒", "西安杨森制药有限公司", 1420, "乙", False,
     "DPLTP", "A03FA"),
    ("枸橼酸莫沙必利片", "5mg×24片", "片剂", "盒", "成都康弘药业集团股份有限公司", 2960, "乙", True,
     "JYSMSBLP", "A03FA"),
    ("健胃消食片", "0.8g×32片", "片剂", "盒", "江中药业股份有限公司", 990, "丙", False, "JWXSP",
     "A09AA"),
    ("开塞露", "20ml×2支", "灌肠剂", "盒", "上海运佳黄浦制药有限公司", 300, "甲", False, "KSL",
     "A06AG"),
    ("硝苯地平控释片", "30mg×7片", "片剂", "盒", "拜耳医药保健有限公司", 3350, "乙", True,
     "XBDPKSP", "C08CA"),
    ("苯磺酸氨氯地平片", "5mg×28片", "片剂", "盒", "辉瑞制药有限公司", 2600, "甲", True,
     "BHSALDPP", "C08CA"),
    ("缬沙坦胶囊", "80mg×14粒", "胶囊剂", "盒", "北京诺华制药有限公司", 2940, "乙", True,
     "XSTJN", "C09CA"),
    ("厄贝沙坦片", "0.15g×14片", "片剂", "盒", "浙江华海药业股份有限公司", 2180, "乙", True,
     "EBSTP", "C09CA"),
    ("马来酸依那普利片", "10mg×16片", "片剂", "盒", "扬子江药业集团有限公司", 910, "甲", True,
     "MLSYNPLP", "C09AA"),
    ("酒石酸美托洛尔片", "25mg×20片", "片剂", "盒", "阿斯利康制药有限公司", 650, "甲", True,
     "JSSMTLEP", "C07AB"),
    ("氢氯噻嗪片", "25mg×100片", "片剂", "瓶", "天津力生制药股份有限公司", 420, "甲", True,
     "QLSQP", "C03AA"),
    ("呋塞米片", "20mg×100片", "片剂", "瓶", "上海朝晖药业有限公司", 680, "甲", True, "FSMP",
     "C03CA"),
    ("硝酸甘油片", "0.5mg×100片", "片剂", "瓶", "北京益民药业有限公司", 1200, "甲", True,
     "XSGYP", "C01DA"),
    ("阿司匹林肠溶片", "100mg×30片", "片剂", "盒", "拜耳医药保健有限公司", 850, "甲", False,
     "ASPLCRP", "B01AC"),
    ("硫酸氢氯吡格雷片", "75mg×7片", "片剂", "盒", "深圳信立泰药业股份有限公司", 4200, "乙", True,
     "LSQLBGLP", "B01AC"),
    ("阿托伐他汀钙片", "20mg×7片", "片剂", "盒", "辉瑞制药有限公司", 3120, "乙", True,
     "ATFTTGP", "C10AA"),
    ("瑞舒伐他汀钙片", "10mg×7片", "片剂", "盒", "阿斯利康制药有限公司", 2590, "乙", True,
     "RSFTTGP", "C10AA"),
    ("盐酸二甲双胍片", "0.5g×48片", "片剂", "盒", "中美上海施贵宝制药有限公司", 960, "甲", True,
     "YSEJSGP", "A10BA"),
    ("格列美脲片", "2mg×30片", "片剂", "盒", "赛诺菲（北京）制药有限公司", 3800, "乙", True,
     "GLMNP", "A10BB"),
    ("阿卡波糖片", "50mg×30片", "片剂", "盒", "拜耳医药保健有限公司", 4560, "乙", True, "AKBTP",
     "A10BF"),
    ("甘精胰岛素注射液", "3ml:300单位", "注射剂", "支", "赛诺菲（北京）制药有限公司", 16800, "乙",
     True, "GJYDSZSY", "A10AE"),
    ("左甲状腺素钠片", "50μg×100片", "片剂", "盒", "默克制药（江苏）有限公司", 2980, "甲", True,
     "ZJZXSNP", "H03AA"),
    ("孟鲁司特钠片", "10mg×5片", "片剂", "盒", "杭州默沙东制药有限公司", 3560, "乙", True,
     "MLSTNP", "R03DC"),
    ("硫酸沙丁胺醇吸入气雾剂", "100μg×200揿", "气雾剂", "瓶", "葛兰素史克（天津）有限公司", 2250,
     "甲", True, "LSSDACXRQWJ", "R03AC"),
    ("氯化钾缓释片", "0.5g×24片", "片剂", "盒", "湖南华纳大药厂股份有限公司", 890, "甲", True,
     "LHJHSP", "A12BA"),
    ("双氯芬酸钠缓释片", "75mg×10片", "片剂", "盒", "北京诺华制药有限公司", 1260, "乙", True,
     "SLFSNHSP", "M01AB"),
    ("塞来昔布胶囊", "0.2g×6粒", "胶囊剂", "盒", "辉瑞制药有限公司", 3880, "乙", True, "SLXBJN",
     "M01AH"),
    ("盐酸氨基葡萄糖胶囊", "0.24g×40粒", "胶囊剂", "盒", "澳美制药厂", 7800, "丙", False,
     "YSAJPTTJN", "M01AX"),
    ("红霉素软膏", "1%×10g", "软膏剂", "支", "武汉马应龙药业集团股份有限公司", 250, "甲", False,
     "HMSRG", "D06AX"),
    ("莫匹罗星软膏", "2%×5g", "软膏剂", "支", "中美天津史克制药有限公司", 1850, "乙", False,
     "MPLXRG", "D06AX"),
    ("糠酸莫米松乳膏", "0.1%×10g", "乳膏剂", "支", "上海先灵葆雅制药有限公司", 2800, "乙", True,
     "KSMMSRG", "D07AC"),
    ("玻璃酸钠滴眼液", "0.1%×5ml", "滴眼剂", "支", "参天制药（中国）有限公司", 3600, "乙", True,
     "BLSNDYY", "S01XA"),
    ("妥布霉素地塞米松滴眼液", "5ml", "滴眼剂", "支", "齐鲁制药有限公司", 3950, "乙", True,
     "TBMSDSMSDYY", "S01CA"),
    ("维生素C片", "0.1g×100片", "片剂", "瓶", "华中药业股份有限公司", 350, "丙", False, "WSSCP",
     "A11GA"),
    ("复合维生素B片", "100片", "片剂", "瓶", "华中药业股份有限公司", 520, "丙", False, "FHWSSBP",
     "A11EA"),
    ("碳酸钙D3片", "600mg×60片", "片剂", "瓶", "惠氏制药有限公司", 6800, "丙", False, "TSGD3P",
     "A12AX"),
    ("葡萄糖酸锌口服溶液", "10ml×12支", "口服溶液剂", "盒", "哈药集团三精制药有限公司", 2400, "丙",
     False, "PTTSXKFRY", "A12CB"),
    # 中成药 (Chinese patent medicines)
    ("复方丹参滴丸", "27mg×180丸", "滴丸剂", "瓶", "天士力医药集团股份有限公司", 2880, "甲", False,
     "FFDSDW", "ZC01"),
    ("连花清瘟胶囊", "0.35g×24粒", "胶囊剂", "盒", "石家庄以岭药业股份有限公司", 2650, "甲", False,
     "LHQWJN", "ZA01"),
    ("板蓝根颗粒", "10g×20袋", "颗粒剂", "包", "广州白云山和记黄埔中药有限公司", 1380, "甲", False,
     "BLGKL", "ZA01"),
    ("感冒灵颗粒", "10g×9袋", "颗粒剂", "盒", "华润三九医药股份有限公司", 1250, "乙", False,
     "GMLKL", "ZA01"),
    ("藿香正气水", "10ml×10支", "酊剂", "盒", "太极集团重庆涪陵制药厂有限公司", 980, "甲", False,
     "HXZQS", "ZA02"),
    ("六味地黄丸", "浓缩丸×200丸", "丸剂", "瓶", "北京同仁堂科技发展股份有限公司", 1800, "甲",
     False, "LWDHW", "ZA09"),
    ("云南白药气雾剂", "85g+30g", "气雾剂", "盒", "云南白药集团股份有限公司", 4200, "乙", False,
     "YNBYQWJ", "ZG01"),
    ("蒲地蓝消炎口服液", "10ml×10支", "合剂", "盒", "济川药业集团有限公司", 3280, "乙", False,
     "PDLXYKFY", "ZA03"),
    ("银翘解毒片", "0.5g×36片", "片剂", "盒", "北京同仁堂股份有限公司同仁堂制药厂", 690, "甲",
     False, "YQJDP", "ZA01"),
)


def _build_catalogue() -> dict[str, Drug]:
    out: dict[str, Drug] = {}
    for n, (name, spec, form, unit, maker, price, cat, rx, initials, group) in enumerate(
            _DRUGS, start=1):
        tcm = group.startswith("Z")
        code = f"{'Z' if tcm else 'X'}{group}{'C' if tcm else 'A'}{n:03d}A{n * 37 % 1000:03d}" \
               f"0101{n:05d}"
        barcode = ean13(f"69{(n * 7919 * 104729 + 3571) % 10**10:010d}")
        out[code] = Drug(code, name, spec, form, unit, maker, price, cat, rx, barcode, initials)
    return out


CATALOGUE: dict[str, Drug] = _build_catalogue()
CATALOGUE_VERSION = hashlib.sha256(
    json.dumps([d.to_json() for d in CATALOGUE.values()], ensure_ascii=False).encode()
).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# The split
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    drug: Drug
    qty: int
    prescription_no: str | None


def split_lines(lines: list[_Line], record: InsuredRecord) -> dict[str, Any]:
    """The pre-settlement of ``lines`` for ``record`` (its balance as it is now)."""
    fund_pct = FUND_PCT.get(record.insurance_type, 0)
    out_lines = []
    total = fund = in_scope_left = self_pre = out_of_scope = 0
    for line in lines:
        amount = line.drug.price_fen * line.qty
        if line.drug.category == "甲":
            pre, scope = 0, amount
        elif line.drug.category == "乙":
            pre = (amount * CLASS_B_SELF_PAY_PCT + 99) // 100  # rounded up: fen
            scope = amount - pre
        else:
            pre, scope = 0, 0
        line_fund = scope * fund_pct // 100 if line.drug.rx and line.prescription_no else 0
        total += amount
        fund += line_fund
        self_pre += pre
        in_scope_left += scope - line_fund
        out_of_scope += amount - pre - scope
        out_lines.append({
            "code": line.drug.code, "name": line.drug.name, "spec": line.drug.spec,
            "unit": line.drug.unit, "category": line.drug.category, "rx": line.drug.rx,
            "prescription_no": line.prescription_no, "qty": line.qty,
            "price_fen": line.drug.price_fen, "amount_fen": amount, "fund_fen": line_fund,
            "self_pay_first_fen": pre, "out_of_scope_fen": amount - pre - scope,
        })
    account_due = in_scope_left + self_pre if record.has_account else 0
    account = min(account_due, record.account_balance_fen) if record.has_account else 0
    cash = total - fund - account
    return {
        "lines": out_lines, "total_fen": total, "fund_fen": fund, "account_fen": account,
        "cash_fen": cash, "self_pay_first_fen": self_pre, "out_of_scope_fen": out_of_scope,
        "account_short_fen": account_due - account,
        "balance_before_fen": record.account_balance_fen,
        "balance_after_fen": record.account_balance_fen - account,
        "fund_ratio_pct": fund_pct,
    }


# ---------------------------------------------------------------------------------------------
# The platform
# ---------------------------------------------------------------------------------------------


class PharmacyPlatform:
    """State and handlers of the ``/api/v1/pharmacy`` routes; owned by one SandboxServer.

    Lock order: this platform's lock, then ``server.mi_accounts.lock`` (never the other way),
    so a settlement's idempotency check, split, debit and record are one step.
    """

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.RLock()
        self.settlements: dict[str, dict[str, Any]] = {}  # settlement id -> settlement
        # (client, idempotency key) -> (digest of the body, settlement id)
        self._attempts: dict[tuple[str, str], tuple[str, str]] = {}
        self._refunds: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self._serial = 0

    def reset(self) -> None:
        with self._lock:
            self.settlements.clear()
            self._attempts.clear()
            self._refunds.clear()
            self._serial = 0

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("GET", r"/api/v1/pharmacy/catalogue", self._catalogue, True),
            ("POST", r"/api/v1/pharmacy/insured", self._insured, True),
            ("POST", r"/api/v1/pharmacy/settlements/preview", self._preview, True),
            ("POST", r"/api/v1/pharmacy/settlements", self._settle, True),
            ("GET", r"/api/v1/pharmacy/settlements/(?P<sid>[^/]+)", self._settlement_get, True),
            ("POST", r"/api/v1/pharmacy/settlements/(?P<sid>[^/]+)/refund", self._refund, True),
            ("GET", r"/api/v1/pharmacy/attempts/(?P<key>[^/]+)", self._attempt_get, True),
            ("GET", r"/sandbox/pharmacy/settlements", self._sandbox_list, False),
        ]

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> Exception:
        from sandbox.server import ApiError

        return ApiError(status, code, message)

    @staticmethod
    def _json(data: Any, status: int = 200) -> _Response:
        from sandbox.server import _Response

        return _Response.json(data, status)

    def _now(self) -> dt.datetime:
        return self.server.clock()

    def _holder_id(self, data: dict[str, Any]) -> str:
        value = data.get("holder_id")
        if not isinstance(value, str) or not value.strip():
            raise self._error(400, "invalid_request", "缺少字段 holder_id")
        return value.strip().upper()

    def _key(self, req: _Request) -> str:
        key = (req.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > 128:
            raise self._error(400, "invalid_request", "缺少请求头 Idempotency-Key（幂等键）")
        return key

    @staticmethod
    def _digest(body: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                              .encode("utf-8")).hexdigest()

    def _lines(self, data: dict[str, Any]) -> list[_Line]:
        raw = data.get("lines")
        if not isinstance(raw, list) or not raw:
            raise self._error(400, "invalid_request", "购药清单为空")
        if len(raw) > MAX_LINES:
            raise self._error(400, "invalid_request", f"一次结算最多 {MAX_LINES} 种药品")
        lines: list[_Line] = []
        seen: set[str] = set()
        for item in raw:
            if not isinstance(item, dict):
                raise self._error(400, "invalid_request", "购药清单格式不正确")
            drug = CATALOGUE.get(str(item.get("code", "")))
            if drug is None:
                raise self._error(400, "unknown_drug", "药品不在本店医保目录中")
            if drug.code in seen:
                raise self._error(400, "invalid_request", f"“{drug.name}”重复出现，请合并数量")
            seen.add(drug.code)
            qty = item.get("qty")
            if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QTY:
                raise self._error(400, "invalid_request",
                                  f"“{drug.name}”的数量应为 1 到 {MAX_QTY} 之间的整数")
            rx_no = item.get("prescription_no")
            if rx_no is not None and (not isinstance(rx_no, str) or len(rx_no) > 40):
                raise self._error(400, "invalid_request", "处方编号格式不正确")
            rx_no = rx_no.strip() if isinstance(rx_no, str) and rx_no.strip() else None
            if drug.rx and rx_no is None:
                raise self._error(400, "prescription_required",
                                  f"处方药“{drug.name}”须核验处方并填写处方编号")
            lines.append(_Line(drug, qty, rx_no if drug.rx else None))
        return lines

    def _insured_record(self, holder_id: str) -> InsuredRecord:
        """The person's record, refused unless they are insured and active (call locked)."""
        from sandbox.mi_accounts import ACTIVE

        record = self.server.mi_accounts.insured(holder_id)
        if record is None:
            raise self._error(403, "not_insured", "未查询到参保信息，不能使用医保结算")
        if record.status != ACTIVE:
            raise self._error(403, "suspended",
                              "医保待遇暂停（参保状态：暂停缴费），不能使用医保结算")
        return record

    # -- handlers ---------------------------------------------------------------------------

    def _catalogue(self, req: _Request) -> _Response:
        return self._json({"pharmacy": PHARMACY, "version": CATALOGUE_VERSION,
                           "class_b_self_pay_pct": CLASS_B_SELF_PAY_PCT,
                           "refund_reasons": REFUND_REASONS,
                           "drugs": [d.to_json() for d in CATALOGUE.values()]})

    def _insured(self, req: _Request) -> _Response:
        holder_id = self._holder_id(req.json())
        record = self.server.mi_accounts.insured(holder_id)
        if record is None:
            return self._json({"insured": False, "message": "未查询到参保信息"})
        from sandbox.mi_accounts import ACTIVE

        return self._json({
            "insured": True,
            "holder": {
                "name": record.name, "insurance_type": record.insurance_type,
                "status": record.status, "active": record.status == ACTIVE,
                "has_account": record.has_account,
                "account_balance_fen": record.account_balance_fen,
                "region": record.region, "region_code": record.region_code,
                "personal_number": record.personal_number,
            },
            "fund_ratio_pct": FUND_PCT.get(record.insurance_type, 0),
        })

    def _preview(self, req: _Request) -> _Response:
        data = req.json()
        holder_id = self._holder_id(data)
        lines = self._lines(data)
        with self.server.mi_accounts.lock:
            record = self._insured_record(holder_id)
            split = split_lines(lines, record)
        return self._json({"preview": True, **split})

    def _settle(self, req: _Request) -> _Response:
        data = req.json()
        key = self._key(req)
        holder_id = self._holder_id(data)
        digest = self._digest(data)
        accounts = self.server.mi_accounts
        with self._lock:
            seen = self._attempts.get((req.client_id, key))
            if seen is not None:
                if seen[0] != digest:
                    raise self._error(409, "idempotency_conflict",
                                      "同一幂等键提交了不同的购药清单，请核对后重新结算")
                return self._json({**self.settlements[seen[1]], "duplicate": True})
            lines = self._lines(data)
            with accounts.lock:
                record = self._insured_record(holder_id)
                split = split_lines(lines, record)
                now = self._now()
                self._serial += 1
                sid = f"YB{now:%Y%m%d%H%M%S}{self._serial:04d}{secrets.token_hex(2).upper()}"
                if split["account_fen"]:
                    accounts.debit(holder_id, split["account_fen"], ref=sid)
                settlement = {
                    "settlement_id": sid, "status": "settled", "holder_id": holder_id,
                    "settled_at": now.isoformat(timespec="seconds"),
                    "insurance_type": record.insurance_type, "pharmacy": PHARMACY,
                    "client_id": req.client_id, "idempotency_key": key,
                    "source": data.get("source") if isinstance(data.get("source"), str) else None,
                    **split,
                }
                accounts.add_settlement(holder_id, {
                    "settlement_id": sid, "settled_at": settlement["settled_at"],
                    "institution": PHARMACY["name"], "kind": "药店购药",
                    "total_fen": split["total_fen"], "fund_fen": split["fund_fen"],
                    "account_fen": split["account_fen"], "cash_fen": split["cash_fen"],
                    "status": "settled",
                })
            self.settlements[sid] = settlement
            self._attempts[(req.client_id, key)] = (digest, sid)
        return self._json({**settlement, "duplicate": False})

    def _own(self, req: _Request, sid: str) -> dict[str, Any]:
        settlement = self.settlements.get(sid)
        if settlement is None or settlement["client_id"] != req.client_id:
            raise self._error(404, "not_found", "未查到该结算记录")
        return settlement

    def _settlement_get(self, req: _Request) -> _Response:
        with self._lock:
            return self._json(dict(self._own(req, req.params["sid"])))

    def _attempt_get(self, req: _Request) -> _Response:
        with self._lock:
            seen = self._attempts.get((req.client_id, req.params["key"]))
            settlement = dict(self.settlements[seen[1]]) if seen else None
        return self._json({"settled": settlement is not None, "settlement": settlement})

    def _refund(self, req: _Request) -> _Response:
        data = req.json()
        key = self._key(req)
        reason_code = data.get("reason_code")
        if reason_code not in REFUND_REASONS:
            raise self._error(400, "invalid_request", "请选择退费原因")
        reason = data.get("reason", "")
        if not isinstance(reason, str) or len(reason.strip()) > 200:
            raise self._error(400, "invalid_request", "退费说明应为不超过 200 字的文字")
        if reason_code == "other" and not reason.strip():
            raise self._error(400, "invalid_request", "退费原因为“其他”时须填写说明")
        digest = self._digest({"sid": req.params["sid"], **data})
        accounts = self.server.mi_accounts
        with self._lock:
            seen = self._refunds.get((req.client_id, key))
            if seen is not None:
                if seen[0] != digest:
                    raise self._error(409, "idempotency_conflict",
                                      "同一幂等键提交了不同的退费请求")
                return self._json({**seen[1], "duplicate": True})
            settlement = self._own(req, req.params["sid"])
            if settlement["status"] == "refunded":
                when = settlement["refund"]["refunded_at"][:16].replace("T", " ")
                raise self._error(409, "already_refunded",
                                  f"该结算已于 {when} 退费，不能重复退费")
            holder_id = settlement["holder_id"]
            now = self._now()
            with accounts.lock:
                balance = accounts.credit(holder_id, settlement["account_fen"],
                                          ref=f"{settlement['settlement_id']}-R")
                accounts.mark_settlement(holder_id, settlement["settlement_id"], "refunded")
            refund = {
                "refund_id": f"TF{settlement['settlement_id'][2:]}",
                "settlement_id": settlement["settlement_id"],
                "refunded_at": now.isoformat(timespec="seconds"),
                "total_fen": settlement["total_fen"], "fund_fen": settlement["fund_fen"],
                "account_fen": settlement["account_fen"], "cash_fen": settlement["cash_fen"],
                "balance_after_fen": balance, "reason_code": reason_code,
                "reason": REFUND_REASONS[reason_code], "note": reason.strip(),
            }
            settlement["status"] = "refunded"
            settlement["refund"] = refund
            self._refunds[(req.client_id, key)] = (digest, refund)
        return self._json({**refund, "duplicate": False})

    def _sandbox_list(self, req: _Request) -> _Response:
        with self._lock:
            items = [{k: v for k, v in s.items() if k != "holder_id"}
                     for s in self.settlements.values()]
        return self._json({"settlements": items})

    # -- tests and demos --------------------------------------------------------------------

    def settlements_of(self, holder_id: str) -> list[dict[str, Any]]:
        """Every settlement of a person made here (tests)."""
        with self._lock:
            return [dict(s) for s in self.settlements.values() if s["holder_id"] == holder_id]

    @staticmethod
    def drug_by_name(name: str) -> Drug:
        """The catalogue drug called ``name`` (tests and demos); KeyError names it."""
        for drug in CATALOGUE.values():
            if drug.name == name:
                return drug
        raise KeyError(name)
