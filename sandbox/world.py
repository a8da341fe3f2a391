"""A seeded synthetic world: the citizens, enterprises and licences the sandbox serves.

Everything is drawn from one ``random.Random(seed)`` in a fixed order and dated relative to a
fixed reference date, so two builds with the same seed are equal. Numbers are valid where the
real ones are checked: ID numbers (GB 11643), unified social credit codes (GB 32100 with a
consistent GB 11714 organisation code) and licence identifiers (GB/T 36904 style, see
``workstation.services.licence_ids``). The data are synthetic; none of them is a real person.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from workstation.services.identity import (
    CREDIT_CHARSET,
    credit_check_char,
    id_check_char,
    org_code_check_char,
)
from workstation.services.licence_ids import make_licence_id
from workstation.services.model import LICENCE_TYPES, HolderKind, Licence

DEFAULT_SEED = 20261127
REFERENCE_DATE = dt.date(2026, 11, 27)  # "today" of the world: dates are drawn relative to it
PERSON_LICENCE_TYPES = tuple(
    k for k, t in LICENCE_TYPES.items() if t.holder_kind is HolderKind.PERSON
)

# ---------------------------------------------------------------------------------------------
# Source lists
# ---------------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰建国志文斌德海"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英红梅琳燕萍雪倩婷慧颖洁琴云莲珍兰凤佳欣怡晶"
GIVEN_ANY = "子嘉思雨晨明天晓春秋家新永一佳宏小金文安"
NATIONS = (("汉", 0.94), ("土家", 0.03), ("苗", 0.015), ("回", 0.01), ("壮", 0.005))

# Region codes (GB/T 2260) of Hubei used as birth places in ID numbers.
BIRTH_REGIONS = (
    "421281", "421202", "421221", "421222", "421223", "421224", "420102", "420106",
    "420111", "420502", "420602", "421003", "422801",
)


@dataclass(frozen=True)
class _Place:
    """A place of residence with the authorities that serve it."""

    code: str
    province_city: str  # address prefix, e.g. 湖北省赤壁市
    short: str  # used in licence numbers, e.g. 赤壁市
    police: str
    civil_affairs: str
    land: str
    hrss: str
    towns: tuple[tuple[str, tuple[str, ...]], ...]  # (town/street, communities or villages)
    roads: tuple[str, ...]
    weight: float


PLACES = (
    _Place(
        "421281", "湖北省赤壁市", "赤壁市", "赤壁市公安局", "赤壁市民政局",
        "赤壁市自然资源和规划局", "咸宁市人力资源和社会保障局",
        (
            ("蒲圻街道", ("河北社区", "沧湖社区", "西街社区", "东街社区", "凤凰山社区")),
            ("赤马港街道", ("金鸾社区", "城东社区", "荷花社区", "龙佑社区", "月亮湾社区")),
            ("陆水湖街道", ("陆水湖社区", "雪峰社区", "八一社区")),
            ("中伙铺镇", ("中伙铺社区", "石头口村", "龙泉村")),
            ("官塘驿镇", ("官塘驿社区", "南山村", "张司村")),
            ("赵李桥镇", ("赵李桥社区", "羊楼洞村", "雪峰山村")),
            ("新店镇", ("新店社区", "石门村")),
            ("赤壁镇", ("赤壁社区", "港口村", "黄盖湖村")),
            ("茶庵岭镇", ("茶庵岭社区", "大岭村")),
            ("车埠镇", ("车埠社区", "凤凰村")),
            ("柳山湖镇", ("柳山湖社区",)),
            ("神山镇", ("神山社区", "三山村")),
            ("余家桥乡", ("余家桥村", "团城山村")),
        ),
        ("蒲圻大道", "赤壁大道", "河北大道", "沿河大道", "金鸾大道", "银轮大道", "陆水路",
         "桂花路", "新华路", "人民大道", "北门路", "东风路", "营业路", "温泉路"),
        0.72,
    ),
    _Place(
        "421202", "湖北省咸宁市咸安区", "咸宁市", "咸宁市公安局咸安分局", "咸宁市咸安区民政局",
        "咸宁市自然资源和规划局咸安分局", "咸宁市人力资源和社会保障局",
        (
            ("温泉街道", ("温泉社区", "龙潭社区", "月亮湾社区")),
            ("永安街道", ("永安社区", "东正街社区")),
            ("浮山街道", ("浮山社区", "金桂社区")),
            ("横沟桥镇", ("横沟桥社区", "甘鲁村")),
        ),
        ("温泉路", "金桂路", "银泉大道", "贺胜路", "十六潭路", "咸宁大道"),
        0.10,
    ),
    _Place(
        "421221", "湖北省嘉鱼县", "嘉鱼县", "嘉鱼县公安局", "嘉鱼县民政局",
        "嘉鱼县自然资源和规划局", "咸宁市人力资源和社会保障局",
        (
            ("鱼岳镇", ("城东社区", "城西社区", "沙阳村")),
            ("新街镇", ("新街社区", "官桥村")),
            ("簰洲湾镇", ("簰洲湾社区", "虾子沟村")),
        ),
        ("沙阳大道", "鱼岳路", "人民大道", "嘉鱼大道"),
        0.06,
    ),
    _Place(
        "420102", "湖北省武汉市江岸区", "武汉市", "武汉市公安局江岸分局", "武汉市江岸区民政局",
        "武汉市自然资源和规划局", "武汉市人力资源和社会保障局",
        (
            ("大智街道", ("大智社区", "三德里社区")),
            ("球场街道", ("球场社区", "台北社区")),
            ("后湖街道", ("百步亭社区", "后湖社区")),
        ),
        ("解放大道", "中山大道", "黄浦大街", "建设大道", "京汉大道"),
        0.06,
    ),
    _Place(
        "420106", "湖北省武汉市武昌区", "武汉市", "武汉市公安局武昌分局", "武汉市武昌区民政局",
        "武汉市自然资源和规划局", "武汉市人力资源和社会保障局",
        (
            ("中南路街道", ("中南社区", "宝通寺社区")),
            ("水果湖街道", ("水果湖社区", "东湖路社区")),
            ("积玉桥街道", ("积玉桥社区", "临江社区")),
        ),
        ("中南路", "中北路", "和平大道", "武珞路", "友谊大道"),
        0.06,
    ),
)
CHIBI = PLACES[0]
MARKET_REGULATOR = "赤壁市市场监督管理局"

# (name word, GB/T 4754-2017 code, industry name, business scope)
INDUSTRIES = (
    ("商贸", "F5199", "其他未列明批发业", "日用百货、五金交电、建筑材料、农副产品销售"),
    ("超市", "F5212", "超级市场零售", "食品销售；日用百货、文具用品、家用电器零售"),
    ("茶业", "C1530", "精制茶加工", "青砖茶、米砖茶、黑茶加工、销售；茶叶种植；茶文化交流"),
    ("建筑工程", "E4710", "住宅房屋建筑", "房屋建筑工程、市政工程、装饰装修工程施工"),
    ("建材", "F5165", "建材批发", "水泥、钢材、木材、装饰材料批发零售"),
    ("餐饮管理", "H6210", "正餐服务", "餐饮服务；餐饮管理；食品销售"),
    ("物流", "G5431", "普通货物道路运输", "普通货物道路运输；仓储服务（不含危险化学品）；装卸搬运"),
    ("信息技术", "I6513", "应用软件开发", "软件开发；信息系统集成服务；计算机及办公设备销售"),
    ("大药房", "F5251", "西药零售", "药品零售；医疗器械销售；保健食品销售"),
    ("文化传媒", "L7259", "其他广告服务", "广告设计、制作、发布；企业形象策划；会议及展览服务"),
    ("汽车服务", "O8111", "汽车修理与维护", "机动车维修；汽车零配件零售；洗车服务"),
    ("纺织", "C1711", "棉纺纱加工", "棉纱、棉布生产、销售；纺织原料销售"),
    ("竹木制品", "C2041", "竹制品制造", "竹木制品加工、销售；竹凉席生产"),
    ("农业开发", "A0164", "茶叶种植", "茶叶、水果、蔬菜种植、销售；农业技术推广服务"),
    ("房地产开发", "K7010", "房地产开发经营", "房地产开发经营；房屋租赁；物业管理"),
    ("物业管理", "K7020", "物业管理", "物业管理；家政服务；园林绿化工程施工"),
    ("电子商务", "F5292", "互联网零售", "互联网销售；农副产品、茶叶、日用品网上销售"),
)
TRADE_NAMES = (
    "鑫源", "恒达", "华兴", "荣昌", "隆盛", "瑞丰", "金桥", "锦程", "汇通", "鸿运", "长江", "陆水",
    "凤凰", "松峰", "蒲圻", "宏远", "新天地", "众诚", "永信", "聚福", "天成", "盛世", "佳和",
    "楚天", "银河", "三国", "金鸾", "羊楼洞", "茶乡", "星火", "博远", "康源", "顺达", "兴业",
    "信达", "明珠", "安泰", "嘉禾", "益民", "赤诚",
)
ENTERPRISE_TYPES = (
    ("有限责任公司（自然人投资或控股）", 0.6),
    ("有限责任公司（自然人独资）", 0.32),
    ("股份有限公司（非上市、自然人投资或控股）", 0.08),
)
CAPITAL_TEXT = {
    10: "壹拾万元整", 30: "叁拾万元整", 50: "伍拾万元整", 100: "壹佰万元整", 200: "贰佰万元整",
    300: "叁佰万元整", 500: "伍佰万元整", 1000: "壹仟万元整", 2000: "贰仟万元整",
    5000: "伍仟万元整",
}
BANKS = ("中国工商银行", "中国农业银行", "中国建设银行", "湖北银行", "湖北赤壁农村商业银行")


# ---------------------------------------------------------------------------------------------
# World objects
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """A government body that issues licences, with its own unified social credit code."""

    name: str
    credit_code: str


@dataclass(frozen=True)
class Citizen:
    """A synthetic resident. Holds personal data: never log it."""

    id_number: str
    name: str
    sex: str  # 男 / 女, consistent with the ID number
    nation: str  # 汉, 土家, ...
    birth_date: dt.date
    address: str
    phone: str
    place_code: str  # region code of residence (not necessarily the ID number's)
    household_no: str
    relation: str  # 与户主关系
    marital_status: str  # 未婚 / 已婚 / 离婚 / 丧偶
    spouse_id: str | None = None

    kind = HolderKind.PERSON

    @property
    def holder_id(self) -> str:
        return self.id_number

    def age_on(self, day: dt.date) -> int:
        return _years_between(self.birth_date, day)

    def __repr__(self) -> str:
        return f"Citizen({self.id_number[:6]}********{self.id_number[-4:]})"


@dataclass(frozen=True)
class Enterprise:
    """A synthetic enterprise registered in 赤壁市."""

    credit_code: str
    name: str
    enterprise_type: str
    legal_rep_id: str
    legal_rep_name: str
    registered_capital_wan: int  # 万元
    founded_on: dt.date
    term_until: dt.date | None  # 营业期限; None = 长期
    industry_code: str  # GB/T 4754-2017, letter + 4 digits
    industry_name: str
    address: str
    business_scope: str
    phone: str

    kind = HolderKind.ENTERPRISE

    @property
    def holder_id(self) -> str:
        return self.credit_code

    @property
    def registered_capital(self) -> str:
        return CAPITAL_TEXT[self.registered_capital_wan]

    def __repr__(self) -> str:  # the legal representative's ID number stays out of logs
        return f"Enterprise({self.credit_code})"


Holder = Citizen | Enterprise


@dataclass
class World:
    """The whole synthetic world, with look-ups by holder and by licence."""

    seed: int
    as_of: dt.date
    authorities: tuple[Authority, ...]
    citizens: tuple[Citizen, ...]
    enterprises: tuple[Enterprise, ...]
    licences: tuple[Licence, ...]
    _holders: dict[str, Holder] = field(init=False, repr=False, compare=False)
    _by_holder: dict[str, list[Licence]] = field(init=False, repr=False, compare=False)
    _by_id: dict[str, Licence] = field(init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"World(seed={self.seed}, as_of={self.as_of}, citizens={len(self.citizens)}, "
                f"enterprises={len(self.enterprises)}, licences={len(self.licences)})")

    def __post_init__(self) -> None:
        self._holders = {c.id_number: c for c in self.citizens}
        self._holders.update({e.credit_code: e for e in self.enterprises})
        self._by_holder = {}
        self._by_id = {}
        for lic in self.licences:
            self._by_holder.setdefault(lic.holder_id, []).append(lic)
            self._by_id[lic.licence_id] = lic

    # -- look-ups ---------------------------------------------------------------------------

    def holder(self, holder_id: str) -> Holder | None:
        return self._holders.get(holder_id.strip().upper())

    def citizen(self, id_number: str) -> Citizen | None:
        found = self.holder(id_number)
        return found if isinstance(found, Citizen) else None

    def enterprise(self, credit_code: str) -> Enterprise | None:
        found = self.holder(credit_code)
        return found if isinstance(found, Enterprise) else None

    def holder_name(self, holder_id: str) -> str | None:
        found = self.holder(holder_id)
        return found.name if found is not None else None

    def licence(self, licence_id: str) -> Licence | None:
        return self._by_id.get(licence_id)

    def licences_of(self, holder_id: str, types: Iterable[str] | None = None) -> list[Licence]:
        """The holder's licences, all statuses, optionally only of the given types."""
        found = self._by_holder.get(holder_id.strip().upper(), [])
        if types is None:
            return list(found)
        wanted = set(types)
        return [lic for lic in found if lic.type_key in wanted]

    def licence_of(self, holder_id: str, type_key: str) -> Licence | None:
        found = self.licences_of(holder_id, [type_key])
        return found[0] if found else None

    def authority(self, name: str) -> Authority:
        for a in self.authorities:
            if a.name == name:
                return a
        raise KeyError(name)

    # -- well-known fixtures ----------------------------------------------------------------

    def _valid_types(self, holder_id: str) -> set[str]:
        return {lic.type_key for lic in self.licences_of(holder_id) if lic.status == "valid"}

    @cached_property
    def person_with_all_licences(self) -> Citizen:
        """A citizen holding all five person licence types, every one valid."""
        for c in self.citizens:
            if self._valid_types(c.id_number) == set(PERSON_LICENCE_TYPES):
                return c
        raise LookupError("no citizen holds every person licence type")

    @cached_property
    def person_without_marriage_or_property(self) -> Citizen:
        """An adult with a valid ID card, social security card and household register, but no
        marriage certificate and no property certificate at all."""
        wanted = {"id_card", "social_security_card", "household_register"}
        for c in self.citizens:
            if c.age_on(self.as_of) >= 25 and {
                lic.type_key for lic in self.licences_of(c.id_number)
            } == wanted and self._valid_types(c.id_number) == wanted:
                return c
        raise LookupError("no citizen without marriage and property certificates")

    @cached_property
    def person_with_expired_id_card(self) -> Citizen:
        for c in self.citizens:
            lic = self.licence_of(c.id_number, "id_card")
            if lic is not None and lic.status == "expired":
                return c
        raise LookupError("no citizen with an expired ID card")

    @cached_property
    def married_couple(self) -> tuple[Citizen, Citizen]:
        """Husband and wife, both with a valid marriage certificate naming the other."""
        for c in self.citizens:
            if c.sex == "男" and c.spouse_id and "marriage_cert" in self._valid_types(c.id_number):
                spouse = self.citizen(c.spouse_id)
                assert spouse is not None
                return c, spouse
        raise LookupError("no married couple")

    @cached_property
    def revoked_licence(self) -> Licence:
        for lic in self.licences:
            if lic.status == "revoked":
                return lic
        raise LookupError("no revoked licence")

    @cached_property
    def enterprise_with_revoked_licence(self) -> Enterprise:
        for e in self.enterprises:
            lic = self.licence_of(e.credit_code, "business_licence")
            if lic is not None and lic.status == "revoked":
                return e
        raise LookupError("no enterprise with a revoked business licence")

    @cached_property
    def sample_people(self) -> tuple[Citizen, ...]:
        """Demo holders: the two named fixtures first, then adults with a valid ID card."""
        first = [self.person_with_all_licences, self.person_without_marriage_or_property]
        rest = [
            c for c in self.citizens
            if c not in first and "id_card" in self._valid_types(c.id_number)
        ]
        return tuple(first + rest)

    @cached_property
    def sample_enterprises(self) -> tuple[Enterprise, ...]:
        """Enterprises whose business licence is valid."""
        return tuple(
            e for e in self.enterprises if "business_licence" in self._valid_types(e.credit_code)
        )

    def sample_person(self, i: int = 0) -> Citizen:
        """The i-th demo citizen: 0 holds everything, 1 has no marriage or property certificate."""
        return self.sample_people[i]

    def sample_enterprise(self, i: int = 0) -> Enterprise:
        return self.sample_enterprises[i]


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def _years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def _dot_date(day: dt.date) -> str:
    return f"{day.year}.{day.month:02d}.{day.day:02d}"


class _Builder:
    """Draws the world in a fixed order from one RNG."""

    def __init__(self, seed: int, as_of: dt.date, citizens: int, enterprises: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.as_of = as_of
        self.n_citizens = citizens
        self.n_enterprises = enterprises
        self.citizens: list[Citizen] = []
        self.enterprises: list[Enterprise] = []
        self.licences: list[Licence] = []
        self.authorities: dict[str, Authority] = {}
        self._ids: set[str] = set()
        self._codes: set[str] = set()
        self._phones: set[str] = set()
        self._serials: dict[tuple[str, str], int] = {}
        self._household_seq = 0
        self._ss_card_numbers: set[str] = set()
        # Pending per-person licence facts, filled while households are drawn.
        self._marriages: list[tuple[Citizen, Citizen, dt.date, bool]] = []
        self._property: dict[str, str | None] = {}  # holder -> co-owner name (None = alone)
        self._property_addr: dict[str, str] = {}
        self._no_household_register: set[str] = set()

    # -- primitives -------------------------------------------------------------------------

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def authority(self, name: str, region: str) -> Authority:
        if name not in self.authorities:
            while True:
                org = "0" + "".join(self.rng.choice("0123456789") for _ in range(7))
                first17 = "11" + region + org + org_code_check_char(org)
                code = first17 + credit_check_char(first17)
                if code not in self._codes:
                    break
            self._codes.add(code)
            self.authorities[name] = Authority(name, code)
        return self.authorities[name]

    def phone(self) -> str:
        while True:
            number = self.rng.choice(("13", "15", "17", "18", "19")) + "".join(
                self.rng.choice("0123456789") for _ in range(9)
            )
            if number not in self._phones:
                self._phones.add(number)
                return number

    def name(self, sex: str, surname: str | None = None) -> str:
        if surname is None:
            surname = (
                self.rng.choice(COMPOUND_SURNAMES) if self.rng.random() < 0.01
                else self.rng.choice(SURNAMES)
            )
        pool = GIVEN_MALE if sex == "男" else GIVEN_FEMALE
        if self.rng.random() < 0.3:
            given = self.rng.choice(pool)
        else:
            given = self.rng.choice(pool + GIVEN_ANY) + self.rng.choice(pool)
        return surname + given

    def nation(self) -> str:
        return self.rng.choices([n for n, _ in NATIONS], [w for _, w in NATIONS])[0]

    def id_number(self, region: str, birth: dt.date, sex: str) -> str:
        while True:
            seq = self.rng.randint(0, 499) * 2 + (1 if sex == "男" else 0)
            if seq == 0:
                continue
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def birth(self, first_year: int, last_year: int) -> dt.date:
        return self.date_between(dt.date(max(first_year, 1940), 1, 1),
                                 dt.date(min(last_year, 2006), 12, 31))

    def address(self, place: _Place) -> str:
        town, communities = self.rng.choice(place.towns)
        community = self.rng.choice(communities)
        if community.endswith("村"):
            return (f"{place.province_city}{town}{community}"
                    f"{self.rng.randint(1, 12)}组{self.rng.randint(1, 60)}号")
        road = self.rng.choice(place.roads)
        if self.rng.random() < 0.5:
            return f"{place.province_city}{town}{road}{self.rng.randint(1, 399)}号"
        return (f"{place.province_city}{town}{community}{road}{self.rng.randint(1, 399)}号"
                f"{self.rng.randint(1, 18)}栋{self.rng.randint(1, 4)}单元"
                f"{self.rng.randint(1, 18)}{self.rng.randint(1, 4):02d}室")

    def serial(self, type_key: str, issuer: Authority) -> int:
        key = (type_key, issuer.credit_code)
        self._serials[key] = self._serials.get(key, 0) + 1
        return self._serials[key]

    def licence(self, type_key: str, holder: Holder, issuer: Authority, issued_on: dt.date,
                valid_from: dt.date, valid_until: dt.date | None, fields: dict[str, str],
                status: str | None = None) -> Licence:
        ltype = LICENCE_TYPES[type_key]
        if status is None:
            status = "expired" if valid_until is not None and valid_until < self.as_of else "valid"
        lic = Licence(
            licence_id=make_licence_id(ltype.type_code, issuer.credit_code,
                                       self.serial(type_key, issuer)),
            type_key=type_key,
            holder_kind=ltype.holder_kind,
            holder_id=holder.holder_id,
            holder_name=holder.name,
            issuer=issuer.name,
            issuer_code=issuer.credit_code,
            issued_on=issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            fields=fields,
            status=status,
        )
        self.licences.append(lic)
        return lic

    # -- people -----------------------------------------------------------------------------

    def person(self, *, place: _Place, birth: dt.date, sex: str, household_no: str,
               relation: str, address: str, marital: str, surname: str | None = None,
               region: str | None = None) -> Citizen:
        if region is None:
            region = place.code if self.rng.random() < 0.75 else self.rng.choice(BIRTH_REGIONS)
        citizen = Citizen(
            id_number=self.id_number(region, birth, sex),
            name=self.name(sex, surname),
            sex=sex,
            nation=self.nation(),
            birth_date=birth,
            address=address,
            phone=self.phone(),
            place_code=place.code,
            household_no=household_no,
            relation=relation,
            marital_status=marital,
        )
        self.citizens.append(citizen)
        return citizen

    def household(self) -> None:
        place = self.rng.choices(PLACES, [p.weight for p in PLACES])[0]
        self._household_seq += 1
        household_no = f"{place.code[2:]}{self._household_seq:05d}"  # 9 digits
        address = self.address(place)
        roll = self.rng.random()
        if roll < 0.64:
            self.couple_household(place, household_no, address)
        elif roll < 0.74:
            sex = self.rng.choice(("男", "女"))
            person = self.person(place=place, birth=self.birth(1940, 1962), sex=sex,
                                 household_no=household_no, relation="户主", address=address,
                                 marital="丧偶")
            if self.rng.random() < 0.5:
                self._property[person.id_number] = None
        else:
            sex = self.rng.choice(("男", "女"))
            person = self.person(place=place, birth=self.birth(1975, 2006), sex=sex,
                                 household_no=household_no, relation="户主", address=address,
                                 marital="未婚")
            if self.rng.random() < 0.35:
                self._property[person.id_number] = None

    def couple_household(self, place: _Place, household_no: str, address: str) -> None:
        husband_birth = self.birth(1940, 2003)
        wife_birth = husband_birth + dt.timedelta(days=self.rng.randint(-2 * 365, 5 * 365))
        wife_birth = min(max(wife_birth, dt.date(1940, 1, 1)), dt.date(2006, 6, 30))
        husband_head = self.rng.random() < 0.8
        divorced = self.rng.random() < 0.02
        husband = self.person(place=place, birth=husband_birth, sex="男", household_no=household_no,
                              relation="户主" if husband_head else "配偶", address=address,
                              marital="离婚" if divorced else "已婚")
        wife = self.person(place=place, birth=wife_birth, sex="女", household_no=household_no,
                           relation="配偶" if husband_head else "户主", address=address,
                           marital="离婚" if divorced else "已婚")
        if not divorced:
            # Frozen dataclasses: link the spouses by replacing both records.
            self.citizens[-2] = husband = replace(husband, spouse_id=wife.id_number)
            self.citizens[-1] = wife = replace(wife, spouse_id=husband.id_number)
        else:
            # The non-head ex-spouse moved the household register elsewhere (outside the library).
            self._no_household_register.add((wife if husband_head else husband).id_number)
        earliest = max(_add_years(husband_birth, 22), _add_years(wife_birth, 20))
        married_on = self.date_between(earliest, min(_add_years(earliest, 8),
                                                     self.as_of - dt.timedelta(days=60)))
        self._marriages.append((husband, wife, married_on, divorced))
        if self.rng.random() < 0.45:
            self._property[husband.id_number] = wife.name
            self._property[wife.id_number] = husband.name
            self._property_addr[husband.id_number] = self._property_addr[wife.id_number] = address
        # Adult children still registered in the household.
        n_children = self.rng.choices((0, 1, 2), (0.35, 0.45, 0.2))[0]
        first_year, last_year = wife_birth.year + 22, min(wife_birth.year + 38, 2006)
        if first_year > last_year:
            n_children = 0
        relation_to_head = {"男": "子", "女": "女"}  # either parent is the head
        surname = next((s for s in COMPOUND_SURNAMES if husband.name.startswith(s)),
                       husband.name[0])
        for _ in range(n_children):
            sex = self.rng.choice(("男", "女"))
            child = self.person(place=place, birth=self.birth(first_year, last_year), sex=sex,
                                household_no=household_no, relation=relation_to_head[sex],
                                address=address, marital="未婚", surname=surname,
                                region=place.code)
            if self.rng.random() < 0.08:
                self._property[child.id_number] = None

    # -- person licences ---------------------------------------------------------------------

    def person_licences(self) -> None:
        n = len(self.citizens)
        under_60 = [i for i, c in enumerate(self.citizens) if c.age_on(self.as_of) < 60]
        expired_id = set(self.rng.sample(under_60, max(3, n // 60)))
        expired_ss = set(self.rng.sample(range(n), max(2, n // 100)))
        places = {p.code: p for p in PLACES}
        household_heads = {c.household_no: c for c in self.citizens if c.relation == "户主"}
        for index, c in enumerate(self.citizens):
            place = places[c.place_code]
            self.id_card(c, place, expired=index in expired_id)
            self.social_security_card(c, place, expired=index in expired_ss)
            if c.id_number not in self._no_household_register and self.rng.random() < 0.93:
                self.household_register(c, place, household_heads[c.household_no])
        for husband, wife, married_on, divorced in self._marriages:
            self.marriage_certs(husband, wife, married_on, divorced)
        for c in self.citizens:
            if c.id_number in self._property:
                self.property_cert(c, places[c.place_code], self._property[c.id_number])

    def id_card(self, c: Citizen, place: _Place, *, expired: bool) -> None:
        def term(issued: dt.date) -> dt.date | None:
            age = _years_between(c.birth_date, issued)
            if age < 26:
                return _add_years(issued, 10)
            if age < 46:
                return _add_years(issued, 20)
            return None

        earliest = _add_years(c.birth_date, 16)
        until: dt.date | None
        if expired:
            # A 10- or 20-year card that ran out a little while ago and was not renewed.
            until = self.as_of - dt.timedelta(days=self.rng.randint(10, 300))
            years = 10 if _years_between(c.birth_date, until) < 36 else 20
            issued = _add_years(until, -years)
            if issued < earliest:
                issued, until = earliest, _add_years(earliest, 10)
        else:
            for _ in range(50):
                issued = self.date_between(max(earliest, _add_years(self.as_of, -20)),
                                           self.as_of - dt.timedelta(days=20))
                until = term(issued)
                if until is None or until > self.as_of:
                    break
            else:  # pragma: no cover - the draw above always finds a current card
                issued, until = self.as_of - dt.timedelta(days=30), None
        issuer = self.authority(place.police, place.code)
        fields = {
            "姓名": c.name,
            "性别": c.sex,
            "民族": c.nation,
            "出生": f"{c.birth_date.year}年{c.birth_date.month}月{c.birth_date.day}日",
            "住址": c.address,
            "公民身份号码": c.id_number,
            "签发机关": place.police,
            "有效期限": f"{_dot_date(issued)}-{_dot_date(until) if until else '长期'}",
        }
        self.licence("id_card", c, issuer, issued, issued, until, fields)

    def social_security_card(self, c: Citizen, place: _Place, *, expired: bool) -> None:
        if expired:
            until = self.as_of - dt.timedelta(days=self.rng.randint(10, 200))
            issued = _add_years(until, -10)
        else:
            issued = self.date_between(dt.date(2017, 1, 1), self.as_of - dt.timedelta(days=30))
            until = _add_years(issued, 10)
        while True:
            number = self.rng.choice("ABCDEFGHJKLMN") + "".join(
                self.rng.choice("0123456789") for _ in range(8)
            )
            if number not in self._ss_card_numbers:
                self._ss_card_numbers.add(number)
                break
        issuer = self.authority(place.hrss, place.code[:4] + "00")
        fields = {
            "姓名": c.name,
            "性别": c.sex,
            "社会保障号码": c.id_number,
            "卡号": number,
            "发卡日期": f"{issued.year}年{issued.month:02d}月",
            "有效期": f"{_dot_date(issued)}-{_dot_date(until)}",
            "发卡机构": place.hrss,
            "开户银行": self.rng.choice(BANKS),
            "卡类型": "第三代社会保障卡",
        }
        self.licence("social_security_card", c, issuer, issued, issued, until, fields)

    def household_register(self, c: Citizen, place: _Place, head: Citizen) -> None:
        registered = self.date_between(max(c.birth_date, dt.date(1985, 1, 1)),
                                       self.as_of - dt.timedelta(days=30))
        issuer = self.authority(place.police, place.code)
        birth_place = c.id_number[:6]
        fields = {
            "户别": "家庭户",
            "户主姓名": head.name,
            "户号": c.household_no,
            "住址": c.address,
            "姓名": c.name,
            "与户主关系": c.relation,
            "性别": c.sex,
            "民族": c.nation,
            "出生日期": _cn_date(c.birth_date),
            "出生地": _region_name(birth_place),
            "籍贯": _region_name(birth_place),
            "公民身份号码": c.id_number,
            "婚姻状况": c.marital_status,
            "登记机关": place.police,
            "登记日期": _cn_date(registered),
        }
        self.licence("household_register", c, issuer, registered, registered, None, fields)

    def marriage_certs(self, husband: Citizen, wife: Citizen, married_on: dt.date,
                       divorced: bool) -> None:
        place = {p.code: p for p in PLACES}[husband.place_code]
        issuer = self.authority(place.civil_affairs, place.code)
        number = f"J{place.code}-{married_on.year}-{self.rng.randint(1, 9999):06d}"
        for holder, spouse in ((husband, wife), (wife, husband)):
            fields = {
                "持证人": holder.name,
                "性别": holder.sex,
                "国籍": "中国",
                "出生日期": _cn_date(holder.birth_date),
                "身份证件号": holder.id_number,
                "登记日期": _cn_date(married_on),
                "结婚证字号": number,
                "配偶姓名": spouse.name,
                "配偶性别": spouse.sex,
                "配偶国籍": "中国",
                "配偶出生日期": _cn_date(spouse.birth_date),
                "配偶身份证号": spouse.id_number,
                "登记机关": place.civil_affairs,
                "备注": "已办理离婚登记" if divorced else "",
            }
            self.licence("marriage_cert", holder, issuer, married_on, married_on, None, fields,
                         status="revoked" if divorced else None)

    def property_cert(self, c: Citizen, place: _Place, co_owner: str | None) -> None:
        registered = self.date_between(max(_add_years(c.birth_date, 22), dt.date(2008, 1, 1)),
                                       self.as_of - dt.timedelta(days=15))
        issuer = self.authority(place.land, place.code)
        location = self._property_addr.get(c.id_number) or self.address(place)
        rural = "村" in location and "组" in location
        land_area = self.rng.randint(1500, 30000) / 100 if not rural else self.rng.randint(
            8000, 25000) / 100
        floor_area = self.rng.randint(5500, 16000) / 100 if not rural else self.rng.randint(
            9000, 30000) / 100
        land_start = _add_years(registered, -self.rng.randint(0, 6))
        unit_no = (f"{place.code}{self.rng.randint(1, 20):03d}{self.rng.randint(1, 30):03d}"
                   f"GB{self.rng.randint(1, 99999):05d}F{self.rng.randint(1, 99999999):08d}")
        fields = {
            "不动产权证号": f"鄂({registered.year}){place.short}不动产权第"
                          f"{self.rng.randint(1, 9999999):07d}号",
            "权利人": c.name,
            "共有情况": "共同共有" if co_owner else "单独所有",
            "共有人": co_owner or "",
            "坐落": location,
            "不动产单元号": unit_no,
            "权利类型": "宅基地使用权/房屋所有权" if rural else "国有建设用地使用权/房屋所有权",
            "权利性质": "划拨/自建房" if rural else "出让/市场化商品房",
            "用途": "农村宅基地/住宅" if rural else "城镇住宅用地/住宅",
            "面积": f"宗地面积{land_area:.2f}㎡/房屋建筑面积{floor_area:.2f}㎡",
            "使用期限": "长期" if rural else (
                f"国有建设用地使用权{_cn_date(land_start)}起"
                f"{_cn_date(_add_years(land_start, 70))}止"
            ),
            "登记日期": _cn_date(registered),
        }
        self.licence("property_cert", c, issuer, registered, registered, None, fields)

    # -- enterprises ------------------------------------------------------------------------

    def credit_code(self) -> str:
        while True:
            org8 = "MA4" + "".join(self.rng.choice(CREDIT_CHARSET[:-1]) for _ in range(5))
            first17 = "91" + CHIBI.code + org8 + org_code_check_char(org8)
            if any(ch not in CREDIT_CHARSET for ch in first17):
                continue
            code = first17 + credit_check_char(first17)
            if code not in self._codes:
                self._codes.add(code)
                return code

    def enterprise_all(self) -> None:
        candidates = [c for c in self.citizens if c.birth_date.year <= 1996]
        names: set[str] = set()
        revoked = set(self.rng.sample(range(self.n_enterprises), 2))
        term_ended = set(self.rng.sample(sorted(set(range(self.n_enterprises)) - revoked), 2))
        regulator = self.authority(MARKET_REGULATOR, CHIBI.code)
        for index in range(self.n_enterprises):
            word, industry_code, industry_name, scope = self.rng.choice(INDUSTRIES)
            etype = self.rng.choices([t for t, _ in ENTERPRISE_TYPES],
                                     [w for _, w in ENTERPRISE_TYPES])[0]
            suffix = "股份有限公司" if etype.startswith("股份") else "有限公司"
            while True:
                name = f"赤壁市{self.rng.choice(TRADE_NAMES)}{word}{suffix}"
                if name not in names:
                    names.add(name)
                    break
            rep = self.rng.choice(candidates)
            earliest = max(_add_years(rep.birth_date, 22), dt.date(1998, 1, 1))
            if index in term_ended:
                founded = self.date_between(earliest, dt.date(2005, 12, 31))
                term_until: dt.date | None = _add_years(founded, 20) - dt.timedelta(days=1)
            else:
                founded = self.date_between(earliest, self.as_of - dt.timedelta(days=60))
                term_until = None if self.rng.random() < 0.7 else (
                    _add_years(founded, self.rng.choice((20, 30, 50))) - dt.timedelta(days=1)
                )
            capital = self.rng.choice(sorted(CAPITAL_TEXT))
            if etype.startswith("股份"):
                capital = max(capital, 500)
            address = self.address(CHIBI)
            if "组" in address:  # villages: put the business on a road instead
                address = f"湖北省赤壁市{self.rng.choice(CHIBI.towns)[0]}" \
                          f"{self.rng.choice(CHIBI.roads)}{self.rng.randint(1, 399)}号"
            ent = Enterprise(
                credit_code=self.credit_code(),
                name=name,
                enterprise_type=etype,
                legal_rep_id=rep.id_number,
                legal_rep_name=rep.name,
                registered_capital_wan=capital,
                founded_on=founded,
                term_until=term_until,
                industry_code=industry_code,
                industry_name=industry_name,
                address=address,
                business_scope=scope,
                phone=f"0715-5{self.rng.randint(100000, 999999)}" if self.rng.random() < 0.5
                else self.phone(),
            )
            self.enterprises.append(ent)
            issued = self.date_between(founded, self.as_of - dt.timedelta(days=30))
            if term_until is not None and term_until < self.as_of:
                issued = founded
            fields = {
                "名称": ent.name,
                "统一社会信用代码": ent.credit_code,
                "类型": ent.enterprise_type,
                "法定代表人": ent.legal_rep_name,
                "注册资本": ent.registered_capital,
                "成立日期": _cn_date(founded),
                "营业期限": f"{_cn_date(founded)}至"
                            f"{_cn_date(term_until) if term_until else '长期'}",
                "住所": ent.address,
                "经营范围": scope + "（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
                "登记机关": MARKET_REGULATOR,
                "登记日期": _cn_date(issued),
            }
            self.licence("business_licence", ent, regulator, issued, founded, term_until, fields,
                         status="revoked" if index in revoked else None)

    # -- all --------------------------------------------------------------------------------

    def build(self) -> World:
        for place in PLACES:  # authorities first, so their codes do not depend on the people
            for name in (place.police, place.civil_affairs, place.land):
                self.authority(name, place.code)
            self.authority(place.hrss, place.code[:4] + "00")
        self.authority(MARKET_REGULATOR, CHIBI.code)
        while len(self.citizens) < self.n_citizens:
            self.household()
        self.person_licences()
        self.enterprise_all()
        return World(
            seed=self.seed,
            as_of=self.as_of,
            authorities=tuple(self.authorities.values()),
            citizens=tuple(self.citizens),
            enterprises=tuple(self.enterprises),
            licences=tuple(self.licences),
        )


_REGION_NAMES = {
    "421281": "湖北省赤壁市", "421202": "湖北省咸宁市咸安区", "421221": "湖北省嘉鱼县",
    "421222": "湖北省通城县", "421223": "湖北省崇阳县", "421224": "湖北省通山县",
    "420102": "湖北省武汉市江岸区", "420106": "湖北省武汉市武昌区",
    "420111": "湖北省武汉市洪山区", "420502": "湖北省宜昌市西陵区",
    "420602": "湖北省襄阳市襄城区", "421003": "湖北省荆州市荆州区", "422801": "湖北省恩施市",
}


def _region_name(code: str) -> str:
    return _REGION_NAMES.get(code, "湖北省")


def build_world(seed: int = DEFAULT_SEED, *, as_of: dt.date = REFERENCE_DATE,
                citizens: int = 600, enterprises: int = 120) -> World:
    """Build the world for ``seed``; the same arguments always give an equal world."""
    return _Builder(seed, as_of, citizens, enterprises).build()
