"""Destinations of a 异地就医备案: provinces and their cities (prefectures) with GB/T 2260 codes.

An excerpt, not the full division list: every province-level division, every prefecture of
Hubei (where most filings from Chibi go within the province) and the main cities elsewhere.
Municipalities have one "city" of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    code: str  # 6 digits, e.g. 420100
    name: str  # 武汉市


@dataclass(frozen=True)
class Province:
    code: str  # 6 digits, e.g. 420000
    name: str  # 湖北省
    cities: tuple[City, ...]


def _p(code: str, name: str, *cities: tuple[str, str]) -> Province:
    return Province(code, name, tuple(City(c, n) for c, n in cities))


PROVINCES: tuple[Province, ...] = (
    _p("420000", "湖北省", ("420100", "武汉市"), ("420200", "黄石市"), ("420300", "十堰市"),
       ("420500", "宜昌市"), ("420600", "襄阳市"), ("420700", "鄂州市"), ("420800", "荆门市"),
       ("420900", "孝感市"), ("421000", "荆州市"), ("421100", "黄冈市"), ("421200", "咸宁市"),
       ("421300", "随州市"), ("422800", "恩施土家族苗族自治州"), ("429004", "仙桃市"),
       ("429005", "潜江市"), ("429006", "天门市"), ("429021", "神农架林区")),
    _p("110000", "北京市", ("110100", "北京市")),
    _p("120000", "天津市", ("120100", "天津市")),
    _p("130000", "河北省", ("130100", "石家庄市"), ("130200", "唐山市"), ("130400", "邯郸市"),
       ("130600", "保定市")),
    _p("140000", "山西省", ("140100", "太原市"), ("140200", "大同市")),
    _p("150000", "内蒙古自治区", ("150100", "呼和浩特市"), ("150200", "包头市")),
    _p("210000", "辽宁省", ("210100", "沈阳市"), ("210200", "大连市")),
    _p("220000", "吉林省", ("220100", "长春市"), ("220200", "吉林市")),
    _p("230000", "黑龙江省", ("230100", "哈尔滨市"), ("230600", "大庆市")),
    _p("310000", "上海市", ("310100", "上海市")),
    _p("320000", "江苏省", ("320100", "南京市"), ("320200", "无锡市"), ("320500", "苏州市")),
    _p("330000", "浙江省", ("330100", "杭州市"), ("330200", "宁波市"), ("330300", "温州市")),
    _p("340000", "安徽省", ("340100", "合肥市"), ("340200", "芜湖市")),
    _p("350000", "福建省", ("350100", "福州市"), ("350200", "厦门市"), ("350500", "泉州市")),
    _p("360000", "江西省", ("360100", "南昌市"), ("360400", "九江市")),
    _p("370000", "山东省", ("370100", "济南市"), ("370200", "青岛市"), ("370600", "烟台市")),
    _p("410000", "河南省", ("410100", "郑州市"), ("410300", "洛阳市"), ("411500", "信阳市")),
    _p("430000", "湖南省", ("430100", "长沙市"), ("430200", "株洲市"), ("430600", "岳阳市")),
    _p("440000", "广东省", ("440100", "广州市"), ("440300", "深圳市"), ("440600", "佛山市"),
       ("441900", "东莞市")),
    _p("450000", "广西壮族自治区", ("450100", "南宁市"), ("450300", "桂林市")),
    _p("460000", "海南省", ("460100", "海口市"), ("460200", "三亚市")),
    _p("500000", "重庆市", ("500100", "重庆市")),
    _p("510000", "四川省", ("510100", "成都市"), ("510700", "绵阳市")),
    _p("520000", "贵州省", ("520100", "贵阳市")),
    _p("530000", "云南省", ("530100", "昆明市")),
    _p("540000", "西藏自治区", ("540100", "拉萨市")),
    _p("610000", "陕西省", ("610100", "西安市")),
    _p("620000", "甘肃省", ("620100", "兰州市")),
    _p("630000", "青海省", ("630100", "西宁市")),
    _p("640000", "宁夏回族自治区", ("640100", "银川市")),
    _p("650000", "新疆维吾尔自治区", ("650100", "乌鲁木齐市")),
)

_BY_CODE = {p.code: p for p in PROVINCES}
_CITY = {c.code: (p, c) for p in PROVINCES for c in p.cities}


def province(code: str) -> Province | None:
    return _BY_CODE.get(code)


def city(code: str) -> tuple[Province, City] | None:
    """The province and city of a city code, or None."""
    return _CITY.get(code)


def same_area(a: str, b: str) -> bool:
    """Whether two region codes lie in one pooling area (统筹区): the same prefecture; the
    province-administered cities of Hubei (4290xx) are each their own area."""
    if a.startswith("4290") or b.startswith("4290"):
        return a == b
    return a[:4] == b[:4]
