"""Fonts and style sheets: a clerk desktop look and a kiosk look (touch-sized, large type)."""

from __future__ import annotations

from PyQt6.QtGui import QFont, QFontDatabase
from PyQt6.QtWidgets import QApplication

CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC",
)

KIOSK_MIN_TOUCH_PX = 56  # controls at least this high (issue asks >= 48 px)
KIOSK_POINT_SIZE = 22  # text at least 20 pt

_BASE = """
QWidget { color: #1f2933; }
QMainWindow, #Page { background: #f4f6f8; }
#Header { background: #b71c1c; }
#Header QLabel { color: white; }
#HeaderTitle { font-weight: bold; }
#Tile { background: white; border: 1px solid #d0d7de; border-radius: 8px; text-align: left;
        padding: 12px; }
#Tile:hover { border-color: #b71c1c; }
#Tile[failed="true"] { background: #fff4f4; border: 1px dashed #c62828; color: #8a1c1c; }
#TileIcon { background: #b71c1c; color: white; border-radius: 6px; font-weight: bold;
            min-width: 40px; max-width: 40px; min-height: 40px; max-height: 40px; }
#Tile[failed="true"] #TileIcon { background: #c62828; }
#GroupTitle { font-weight: bold; color: #52606d; }
#ApplicantPanel { background: white; border-left: 1px solid #d0d7de; }
#ApplicantPanelBody { background: white; }
#FieldError { color: #c62828; }
#Notice { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px; padding: 8px; }
#NoticeError { background: #fdecea; border: 1px solid #e57373; border-radius: 6px; padding: 8px;
               color: #8a1c1c; }
#Offline { background: #fff3cd; border: 1px solid #e0a800; border-radius: 6px; padding: 6px;
           color: #6b4e00; }
#Primary { background: #b71c1c; color: white; border: none; border-radius: 6px; padding: 6px 18px; }
#Primary:disabled { background: #d9a3a3; }
QPushButton { padding: 6px 14px; }
#Countdown { background: rgba(31, 41, 51, 230); border-radius: 12px; }
#Countdown QLabel { color: white; }
#Busy { background: rgba(255, 255, 255, 215); }
#Greeting { background: white; border: 1px solid #d0d7de; border-radius: 12px; padding: 24px;
            color: #8a1c1c; font-weight: bold; }
"""

_CLERK = """
QWidget { font-size: 11pt; }
#HeaderTitle { font-size: 15pt; }
#Tile { min-height: 84px; }
"""

_KIOSK = f"""
QWidget {{ font-size: {KIOSK_POINT_SIZE}pt; }}
#HeaderTitle {{ font-size: 26pt; }}
QPushButton, QLineEdit, QComboBox {{ min-height: {KIOSK_MIN_TOUCH_PX}px; }}
#Tile {{ min-height: 160px; }}
QCheckBox::indicator, QRadioButton::indicator {{ width: 36px; height: 36px; }}
"""


def pick_cjk_family() -> str | None:
    families = set(QFontDatabase.families())
    for name in CJK_FAMILIES:
        if name in families:
            return name
    return None


def apply_theme(app: QApplication, *, kiosk: bool) -> str:
    """Set an explicit CJK application font and the style sheet; returns the family used.

    Without a CJK font Qt draws Chinese as empty boxes and says nothing, so a missing font is an
    error here rather than a silent fallback.
    """
    family = pick_cjk_family()
    if family is None:
        raise RuntimeError(
            "没有找到中文字体（请安装 fonts-wqy-microhei）/ no CJK font: install fonts-wqy-microhei"
        )
    font = QFont(family)
    font.setPointSize(KIOSK_POINT_SIZE if kiosk else 11)
    app.setFont(font)
    app.setStyleSheet(_BASE + (_KIOSK if kiosk else _CLERK))
    return family
