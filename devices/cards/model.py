"""What a social security card holds, the card errors, and the byte encodings its records use.

Third-generation social security card (社会保障卡), as laid out in DESIGN.md:

- DF ``sx1.sh.社会保障`` (selected by name), EF05 card data: 01 card identification code,
  05 issue date, 06 expiry date, 07 card number;
- EF06 holder data: 08 social security number (= citizen ID number), 09 name (GBK), 0A sex,
  0B nation (GB 3304 code), 0C birthplace (region code, BCD), 0D birth date (BCD).

Each record is read with READ RECORD and comes back as tag-length-value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from devices.errors import DeviceError

# ---------------------------------------------------------------------------------------------
# Errors: every failure a reader can meet, each with the sentence shown to the user
# ---------------------------------------------------------------------------------------------


class CardError(DeviceError):
    code = "card_error"
    default_message = "读卡失败，请重新插卡"


class PcscServiceUnavailable(CardError):
    code = "pcsc_unavailable"
    default_message = "智能卡服务（pcscd）未运行，无法读卡，请联系管理员"


class NoReader(CardError):
    code = "no_reader"
    default_message = "未检测到读卡器，请检查读卡器是否连接好"


class ReaderUnplugged(CardError):
    code = "reader_unplugged"
    default_message = "读卡器已断开，请检查读卡器连接后重试"


class NoCard(CardError):
    code = "no_card"
    default_message = "读卡器中没有卡片，请插入社会保障卡"


class CardPulled(CardError):
    code = "card_pulled"
    default_message = "读卡过程中卡片被拔出，请重新插入社会保障卡，将重新读取"


class UnknownCard(CardError):
    code = "unknown_card"
    default_message = "无法识别此卡片，请插入第三代社会保障卡"


class CardUnresponsive(CardError):
    code = "card_unresponsive"
    default_message = "卡片无响应，请取出后重新插入，或换一张卡"


class CardStatusError(CardError):
    """The card answered a command with an error status word."""

    code = "card_status"

    def __init__(self, sw: int, step: str) -> None:
        self.sw = sw
        self.step = step
        meaning = STATUS_WORDS.get(sw) or STATUS_WORDS.get(sw & 0xFF00, "未知错误")
        super().__init__(f"社会保障卡拒绝读取（{step}：{meaning}，状态字 {sw:04X}）")


class CardDataError(CardError):
    code = "card_data"
    default_message = "社会保障卡上的数据不完整或格式不正确，无法识别持卡人"


STATUS_WORDS: dict[int, str] = {
    0x6281: "返回的数据可能有误",
    0x6283: "所选文件已失效（卡片可能已挂失或锁定）",
    0x6581: "卡片存储器故障",
    0x6700: "长度错误",
    0x6881: "不支持的逻辑通道",
    0x6982: "安全状态不满足（需要 PSAM 认证）",
    0x6983: "认证方法已锁定",
    0x6985: "使用条件不满足",
    0x6986: "当前未选择文件",
    0x6A81: "功能不支持",
    0x6A82: "文件未找到",
    0x6A83: "记录未找到",
    0x6A86: "参数错误",
    0x6D00: "指令不支持",
    0x6E00: "指令类别不支持",
    0x6F00: "卡片内部错误",
}

# ---------------------------------------------------------------------------------------------
# The card's content
# ---------------------------------------------------------------------------------------------

SEX_CODES = {"1": "男", "2": "女", "9": "未说明"}

# GB/T 3304 nation codes (the first 56 and "other").
NATIONS = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
    "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
    "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京",
    "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
NATION_BY_CODE = {i + 1: name for i, name in enumerate(NATIONS)} | {97: "其他", 98: "外国血统"}
CODE_BY_NATION = {name: code for code, name in NATION_BY_CODE.items()}


@dataclass(frozen=True)
class SocialSecurityCardData:
    """A whole identity read from a social security card. Holds personal data: never log it.

    Only ever built from a complete read: a card pulled half-way gives an error, not a half
    identity.
    """

    card_id: str  # 卡的识别码
    card_number: str  # 卡号
    issued_on: dt.date
    expires_on: dt.date
    ssn: str  # 社会保障号码 = citizen ID number
    name: str
    sex: str  # 男 / 女
    nation: str  # 汉, 土家, ...
    birthplace: str  # region code (GB/T 2260)
    birth_date: dt.date
    atr: bytes = b""

    def __repr__(self) -> str:  # never print personal data by accident
        return f"SocialSecurityCardData(card=*{self.card_number[-3:]}, ssn={self.ssn[:6]}…)"

    @property
    def id_number(self) -> str:
        """The social security number is the citizen ID number."""
        return self.ssn


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


def bcd_encode(digits: str) -> bytes:
    if len(digits) % 2 or not digits.isdigit():
        raise ValueError("BCD needs an even number of decimal digits")
    return bytes(int(digits[i]) << 4 | int(digits[i + 1]) for i in range(0, len(digits), 2))


def bcd_decode(data: bytes) -> str:
    out = []
    for byte in data:
        hi, lo = byte >> 4, byte & 0x0F
        if hi > 9 or lo > 9:
            raise ValueError("not BCD")
        out.append(f"{hi}{lo}")
    return "".join(out)


def bcd_date(data: bytes) -> dt.date:
    """A 4-byte BCD date YYYYMMDD."""
    text = bcd_decode(data)
    if len(text) != 8:
        raise ValueError("a BCD date has 4 bytes")
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def date_bcd(day: dt.date) -> bytes:
    return bcd_encode(f"{day:%Y%m%d}")


def tlv_encode(tag: int, value: bytes) -> bytes:
    if len(value) > 0xFF:
        raise ValueError("record too long")
    return bytes((tag, len(value))) + value


def tlv_decode(data: bytes) -> dict[int, bytes]:
    """Split one or more simple TLV items (1-byte tag, 1-byte length); raises ValueError."""
    items: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):  # padding after the last item
            break
        if i + 2 > len(data):
            raise ValueError("truncated TLV header")
        tag, length = data[i], data[i + 1]
        if i + 2 + length > len(data):
            raise ValueError("truncated TLV value")
        items[tag] = data[i + 2 : i + 2 + length]
        i += 2 + length
    return items


def text_field(data: bytes, encoding: str = "ascii") -> str:
    """A fixed-width text field: padding (NUL, space, 0xFF) stripped; raises ValueError."""
    return data.rstrip(b"\x00\xff ").decode(encoding).strip()


class ReaderState(StrEnum):
    """What the status bar says about a card reader."""

    UNAVAILABLE = "unavailable"  # backend cannot run here / service stopped
    NO_READER = "no_reader"
    EMPTY = "empty"
    CARD = "card"  # a card is present (read done or pending)
    READING = "reading"
    ERROR = "error"

    @property
    def label(self) -> str:
        return {
            "unavailable": "读卡服务不可用",
            "no_reader": "未连接",
            "empty": "就绪，请插卡",
            "card": "有卡",
            "reading": "正在读卡…",
            "error": "读卡失败",
        }[self.value]
