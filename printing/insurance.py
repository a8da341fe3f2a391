"""Social insurance documents: 社会保险参保证明 (participation certificate, with the monthly
contribution ledger over as many pages as it takes) and 社会保险个人权益记录单 (the yearly
personal rights record: contributions per insurance type and personal account balances).

Plain data in, PDF bytes out; amounts are ``Decimal`` (yuan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from printing.authenticity import DocumentStamp
from printing.blocks import data_table, info_grid, money, numbered_notes
from printing.layout import (
    A4_PORTRAIT,
    FauxBoldTitle,
    PageDecoration,
    build_pdf,
    cn_date,
    get_styles,
    para,
)

__all__ = [
    "INSURANCE_TYPES",
    "AccountBalance",
    "InsuranceCertificate",
    "InsurancePeriod",
    "InsuredPerson",
    "MonthlyContribution",
    "RightsRecord",
    "YearlySummary",
    "render_insurance_certificate",
    "render_rights_record",
    "sample_insurance_certificate",
    "sample_rights_record",
]

# key -> (full name, short name for table headings)
INSURANCE_TYPES: dict[str, tuple[str, str]] = {
    "pension": ("企业职工基本养老保险", "养老保险"),
    "medical": ("职工基本医疗保险", "医疗保险"),
    "unemployment": ("失业保险", "失业保险"),
    "injury": ("工伤保险", "工伤保险"),
    "maternity": ("生育保险", "生育保险"),
}

_ORDER = {key: n for n, key in enumerate(INSURANCE_TYPES)}


def _insurance(key: str) -> tuple[str, str]:
    try:
        return INSURANCE_TYPES[key]
    except KeyError:
        raise ValueError(f"unknown insurance type {key!r}") from None


@dataclass(frozen=True)
class InsuredPerson:
    """The insured person as printed (the certificate is issued to the person themself)."""

    name: str
    id_number: str  # 公民身份号码 (社会保障号码); may be masked
    sex: str
    employer: str  # 参保单位
    insured_place: str  # 参保地
    first_insured_on: dt.date | None = None  # 首次参保日期


@dataclass(frozen=True)
class InsurancePeriod:
    insurance: str  # key of INSURANCE_TYPES
    status: str  # 参保缴费 / 暂停缴费 / 终止参保
    start: dt.date
    end: dt.date | None  # None = 至今
    months: int  # 累计缴费月数

    def __post_init__(self) -> None:
        _insurance(self.insurance)


@dataclass(frozen=True)
class MonthlyContribution:
    year: int
    month: int
    insurance: str
    base: Decimal  # 缴费基数
    employer: Decimal  # 单位缴费
    personal: Decimal  # 个人缴费
    paid: bool = True  # 已到账 / 欠费

    def __post_init__(self) -> None:
        _insurance(self.insurance)
        if not 1 <= self.month <= 12:
            raise ValueError(f"invalid month {self.month}")


@dataclass(frozen=True)
class InsuranceCertificate:
    """社会保险参保证明（个人）."""

    person: InsuredPerson
    periods: Sequence[InsurancePeriod]
    contributions: Sequence[MonthlyContribution]
    period_from: dt.date  # 缴费明细查询期间
    period_to: dt.date
    issuing_unit: str  # 赤壁市社会保险事业服务中心
    certificate_no: str  # 证明编号
    issued_at: dt.datetime
    workstation_id: str = ""
    purpose: str = ""  # 用途, printed when given
    notes: Sequence[str] = field(default_factory=tuple)


TITLE_CERTIFICATE = "社会保险参保证明"
TITLE_RIGHTS = "社会保险个人权益记录单"

_CERT_NOTES = (
    "本证明依据社会保险经办机构业务系统记录出具，记录截至打印时间。",
    "缴费明细中“欠费”指该月应缴费款尚未到账。",
    "本证明不作为参保人员享受社会保险待遇的依据。",
    "本证明可通过扫描二维码或输入验证码核验真伪，涂改无效。",
)


def _person_grid(person: InsuredPerson, width: float, extra: Sequence[tuple[str, str]] = ()
                 ) -> Flowable:
    st = get_styles()
    rows: list[list[tuple[str, str]]] = [
        [("姓名", person.name), ("性别", person.sex)],
        [("公民身份号码", person.id_number),
         ("首次参保日期", cn_date(person.first_insured_on) if person.first_insured_on else "—")],
        [("参保单位", person.employer)],
        [("参保地", person.insured_place)],
    ]
    pairs = list(extra)
    while pairs:
        rows.append(pairs[:2])
        pairs = pairs[2:]
    return info_grid(rows, st, width)


def _period_text(p: InsurancePeriod) -> tuple[str, str]:
    return f"{p.start:%Y年%m月}", (f"{p.end:%Y年%m月}" if p.end else "至今")


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month + 1


def _contribution_ledger(cert: InsuranceCertificate, width: float) -> Flowable:
    """费款所属期 | 缴费基数 | per insurance: 单位 个人 | 状态; one row per month."""
    st = get_styles()
    kinds = list(dict.fromkeys(c.insurance for c in cert.contributions))
    if len(kinds) > 4:
        raise ValueError("the contribution ledger shows at most four insurance types")
    by_month: dict[tuple[int, int], dict[str, MonthlyContribution]] = {}
    for c in cert.contributions:
        by_month.setdefault((c.year, c.month), {})[c.insurance] = c
    first_w, base_w, state_w = 22 * mm, 22 * mm, 16 * mm
    amount_w = (width - first_w - base_w - state_w) / max(1, 2 * len(kinds))
    widths = [first_w, base_w] + [amount_w] * (2 * len(kinds)) + [state_w]
    group = ["费款所属期", "缴费基数"]
    sub = ["", ""]
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = [((0, 0), (0, 1)), ((1, 0), (1, 1))]
    for k, key in enumerate(kinds):
        group += [_insurance(key)[1], ""]
        sub += ["单位缴费", "个人缴费"]
        spans.append(((2 + 2 * k, 0), (3 + 2 * k, 0)))
    last = len(widths) - 1
    group.append("到账状态")
    sub.append("")
    spans.append(((last, 0), (last, 1)))
    rows: list[list[str]] = []
    for (year, month) in sorted(by_month):
        entries = by_month[(year, month)]
        base = next(iter(entries.values())).base
        row = [f"{year}年{month:02d}月", money(base)]
        for key in kinds:
            e = entries.get(key)
            row += [money(e.employer), money(e.personal)] if e else ["—", "—"]
        row.append("已到账" if all(e.paid for e in entries.values()) else "欠费")
        rows.append(row)
    return data_table(sub, rows, widths, st, header_rows=[group], spans=spans,
                      align=["C", "R"] + ["R"] * (2 * len(kinds)) + ["C"], font_size=8.5)


def render_insurance_certificate(cert: InsuranceCertificate,
                                 stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    width = A4_PORTRAIT.frame_width
    story: list[Flowable] = [
        FauxBoldTitle(TITLE_CERTIFICATE, st.fonts.bold, 22, space_after=2 * mm),
        para(f"（个人参保缴费证明）\u00a0\u00a0证明编号：{cert.certificate_no}", _centre_small()),
        Spacer(1, 3 * mm),
        para("兹证明下列人员在本经办机构参加社会保险，参保及缴费情况如下：", st.body),
        Spacer(1, 2 * mm),
        _person_grid(cert.person, width, [("查询期间", f"{cert.period_from:%Y年%m月}至"
                                                    f"{cert.period_to:%Y年%m月}"),
                                          ("用途", cert.purpose or "—")]),
        Spacer(1, 4 * mm),
        para("一、参保险种", st.heading),
    ]
    period_rows = []
    for p in cert.periods:
        start, end = _period_text(p)
        period_rows.append([_insurance(p.insurance)[0], p.status, start, end, str(p.months)])
    story += [
        data_table(["险种", "参保状态", "参保起始年月", "截止年月", "累计缴费月数"], period_rows,
                   [52 * mm, 28 * mm, 32 * mm, 28 * mm, width - 140 * mm], st,
                   align=["L", "C", "C", "C", "R"]),
        Spacer(1, 4 * mm),
        CondPageBreak(40 * mm),
        para(f"二、缴费明细（{cert.period_from:%Y年%m月}至{cert.period_to:%Y年%m月}，"
             f"共 {_months_between(cert.period_from, cert.period_to)} 个月；单位：元）",
             st.heading),
        _contribution_ledger(cert, width),
        Spacer(1, 3 * mm),
    ]
    total_personal = sum((c.personal for c in cert.contributions), Decimal(0))
    total_employer = sum((c.employer for c in cert.contributions), Decimal(0))
    closing: list[Flowable] = [
        para(f"查询期间合计：单位缴费 {money(total_employer)} 元，个人缴费 "
             f"{money(total_personal)} 元。", st.body),
        Spacer(1, 2 * mm),
        *numbered_notes([*_CERT_NOTES, *cert.notes], st),
        Spacer(1, 3 * mm),
        _closing(cert.issuing_unit, cert.issued_at, stamp),
    ]
    story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=cert.issuing_unit,
        header_right=f"{TITLE_CERTIFICATE} · {cert.certificate_no}",
        footer_left=f"证明编号：{cert.certificate_no}",
        footer_right=f"打印：{cert.issued_at:%Y-%m-%d %H:%M} {cert.workstation_id}".rstrip(),
        stamp=stamp,
    )
    return build_pdf(story, decoration, title=TITLE_CERTIFICATE,
                     subject=cert.certificate_no, author=cert.issuing_unit)


def _centre_small() -> object:
    from reportlab.lib.styles import ParagraphStyle

    st = get_styles()
    return ParagraphStyle("mz-centre-small", parent=st.small, alignment=1)


def _closing(unit: str, issued_at: dt.datetime, stamp: DocumentStamp | None) -> Flowable:
    from printing.layout import ClosingBlock

    st = get_styles()
    return ClosingBlock(unit, cn_date(issued_at.date()), st.fonts.regular,
                        seal_label="业务专用章（电子）", stamp=stamp, height=42 * mm)


# --------------------------------------------------------------------------- rights record


@dataclass(frozen=True)
class YearlySummary:
    year: int
    insurance: str
    months: int  # 缴费月数
    base: Decimal  # 月均缴费基数
    employer: Decimal
    personal: Decimal

    def __post_init__(self) -> None:
        _insurance(self.insurance)


@dataclass(frozen=True)
class AccountBalance:
    account: str  # 基本养老保险个人账户 / 职工医保个人账户
    opening: Decimal  # 上年末累计储存额
    credited: Decimal  # 本年记账额
    interest: Decimal  # 本年记账利息
    paid_out: Decimal = Decimal(0)  # 本年支出

    @property
    def closing(self) -> Decimal:
        return self.opening + self.credited + self.interest - self.paid_out


@dataclass(frozen=True)
class RightsRecord:
    """社会保险个人权益记录单 for one year, with earlier years summarised."""

    person: InsuredPerson
    year: int
    summaries: Sequence[YearlySummary]
    balances: Sequence[AccountBalance]
    cumulative_months: dict[str, int]  # insurance -> 累计缴费月数 up to the end of the year
    issuing_unit: str
    record_no: str
    issued_at: dt.datetime
    workstation_id: str = ""
    purpose: str = ""  # 用途, printed under the record number when given


def render_rights_record(rec: RightsRecord, stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    width = A4_PORTRAIT.frame_width
    title = f"{rec.year}年度{TITLE_RIGHTS}"
    this_year = [s for s in rec.summaries if s.year == rec.year]
    story: list[Flowable] = [
        FauxBoldTitle(title, st.fonts.bold, 20, space_after=2 * mm),
        para(f"记录单编号：{rec.record_no}"
             + (f"　用途：{rec.purpose}" if rec.purpose else ""), _centre_small()),
        Spacer(1, 3 * mm),
        _person_grid(rec.person, width),
        Spacer(1, 4 * mm),
        para(f"一、{rec.year}年度缴费情况（单位：元）", st.heading),
        data_table(
            ["险种", "本年缴费月数", "累计缴费月数", "月均缴费基数", "单位缴费", "个人缴费"],
            [[_insurance(s.insurance)[0], str(s.months),
              str(rec.cumulative_months.get(s.insurance, s.months)), money(s.base),
              money(s.employer), money(s.personal)] for s in this_year],
            [42 * mm, 24 * mm, 24 * mm, 26 * mm, 27 * mm, width - 143 * mm], st,
            align=["L", "R", "R", "R", "R", "R"]),
        Spacer(1, 4 * mm),
        para(f"二、个人账户（截至{rec.year}年12月31日，单位：元）", st.heading),
        data_table(
            ["账户", "上年末累计储存额", "本年记账额", "本年记账利息", "本年支出",
             "本年末累计储存额"],
            [[b.account, money(b.opening), money(b.credited), money(b.interest),
              money(b.paid_out), money(b.closing)] for b in rec.balances],
            [44 * mm, 30 * mm, 23 * mm, 24 * mm, 19 * mm, width - 140 * mm], st,
            align=["L", "R", "R", "R", "R", "R"]),
        Spacer(1, 4 * mm),
        CondPageBreak(30 * mm),
        para("三、历年缴费汇总（单位：元）", st.heading),
        data_table(
            ["年度", "险种", "缴费月数", "月均缴费基数", "单位缴费", "个人缴费"],
            [[str(s.year), _insurance(s.insurance)[1], str(s.months), money(s.base),
              money(s.employer), money(s.personal)]
             for s in sorted(rec.summaries, key=lambda s: (-s.year, _ORDER[s.insurance]))],
            [18 * mm, 34 * mm, 22 * mm, 32 * mm, 32 * mm, width - 138 * mm], st,
            align=["C", "L", "R", "R", "R", "R"], font_size=9),
        Spacer(1, 3 * mm),
    ]
    closing: list[Flowable] = [
        *numbered_notes([
            "本记录单记载您的社会保险缴费和个人账户情况，请妥善保管。",
            "如对记录有异议，请携带本人有效身份证件到参保地社会保险经办机构核实。",
            "个人账户储存额按国家公布的记账利率计息。",
        ], st),
        Spacer(1, 3 * mm),
        _closing(rec.issuing_unit, rec.issued_at, stamp),
    ]
    story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=rec.issuing_unit,
        header_right=title,
        footer_left=f"记录单编号：{rec.record_no}",
        footer_right=f"打印：{rec.issued_at:%Y-%m-%d %H:%M} {rec.workstation_id}".rstrip(),
        stamp=stamp,
    )
    return build_pdf(story, decoration, title=title, subject=rec.record_no,
                     author=rec.issuing_unit)


# --------------------------------------------------------------------------- sample data

_SAMPLE_PERSON = InsuredPerson(
    name="欧阳建华", id_number="421281198507120031", sex="男",
    employer="湖北赤壁长江纺织有限公司", insured_place="湖北省咸宁市赤壁市",
    first_insured_on=dt.date(2008, 7, 1),
)

_RATES = {  # employer, personal share of the base
    "pension": (Decimal("0.16"), Decimal("0.08")),
    "medical": (Decimal("0.08"), Decimal("0.02")),
    "unemployment": (Decimal("0.007"), Decimal("0.003")),
}


def _sample_contributions(start: dt.date, months: int) -> list[MonthlyContribution]:
    out = []
    y, m = start.year, start.month
    for n in range(months):
        base = Decimal(4200 + 300 * (y - start.year))
        for key, (er, pr) in _RATES.items():
            out.append(MonthlyContribution(
                y, m, key, base, (base * er).quantize(Decimal("0.01")),
                (base * pr).quantize(Decimal("0.01")), paid=not (n == months - 1 and
                                                                 key == "unemployment"),
            ))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def sample_insurance_certificate() -> InsuranceCertificate:
    """Synthetic data for previews and tests: three insurance types, 36 months."""
    start = dt.date(2021, 6, 1)
    return InsuranceCertificate(
        person=_SAMPLE_PERSON,
        periods=[
            InsurancePeriod("pension", "参保缴费", dt.date(2008, 7, 1), None, 191),
            InsurancePeriod("medical", "参保缴费", dt.date(2008, 7, 1), None, 191),
            InsurancePeriod("unemployment", "参保缴费", dt.date(2010, 1, 1), None, 173),
            InsurancePeriod("injury", "暂停缴费", dt.date(2008, 7, 1), dt.date(2019, 12, 31),
                            138),
        ],
        contributions=_sample_contributions(start, 36),
        period_from=start,
        period_to=dt.date(2024, 5, 1),
        issuing_unit="赤壁市社会保险事业服务中心",
        certificate_no="CBSB2024052000318",
        issued_at=dt.datetime(2024, 5, 20, 14, 32),
        workstation_id="CB-W12",
        purpose="办理子女入学",
    )


def sample_rights_record() -> RightsRecord:
    summaries: list[YearlySummary] = []
    for year in range(2019, 2024):
        base = Decimal(3600 + 300 * (year - 2019))
        for key, (er, pr) in _RATES.items():
            summaries.append(YearlySummary(year, key, 12, base, base * er * 12, base * pr * 12))
    return RightsRecord(
        person=_SAMPLE_PERSON,
        year=2023,
        summaries=summaries,
        balances=[
            AccountBalance("基本养老保险个人账户", Decimal("52310.46"), Decimal("4896.00"),
                           Decimal("1358.21")),
            AccountBalance("职工基本医疗保险个人账户", Decimal("3120.77"), Decimal("2016.00"),
                           Decimal("0"), Decimal("1288.50")),
        ],
        cumulative_months={"pension": 186, "medical": 186, "unemployment": 168},
        issuing_unit="赤壁市社会保险事业服务中心",
        record_no="QY2023-4212810031",
        issued_at=dt.datetime(2024, 5, 20, 14, 40),
        workstation_id="CB-W12",
    )
