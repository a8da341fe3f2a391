"""Shared widgets for the shell and the scenario pages (thin: they show, services decide)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def primary_button(text: str, parent: QWidget | None = None) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName("Primary")
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


class FieldRow(QWidget):
    """A labelled line edit with its error shown right under it."""

    def __init__(self, label: str, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.label = QLabel(label)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.label)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        self.edit.textEdited.connect(lambda _t: self.set_error(None))

    def text(self) -> str:
        return self.edit.text()

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisible() else ""


class Notice(QLabel):
    """A one-line banner: info (amber), error (red) or offline marker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        name = {"info": "Notice", "error": "NoticeError", "offline": "Offline"}[kind]
        if name != self.objectName():
            self.setObjectName(name)
            # a fresh (empty) style sheet re-polishes the label completely: colours and the
            # padding too (unpolish/polish alone keeps the old contents margins)
            self.setStyleSheet(f"/* {name} */")
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class ConsentPanel(QFrame):
    """Shows what will be fetched and why, before anything is fetched; the applicant decides."""

    accepted = pyqtSignal()
    declined = pyqtSignal()

    def __init__(self, parent: QWidget | None = None, *, kiosk: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("Notice")
        layout = QVBoxLayout(self)
        # at a window the clerk asks the applicant; at a kiosk the citizen answers themselves
        self.title = QLabel("<b>请确认：授权调取您的电子证照</b>" if kiosk
                            else "<b>证照调取授权</b>")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        self.accept_button = primary_button("我同意调取" if kiosk else "申请人同意调取")
        self.decline_button = QPushButton("不同意" if kiosk else "申请人不同意")
        buttons.addStretch(1)
        buttons.addWidget(self.decline_button)
        buttons.addWidget(self.accept_button)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addLayout(buttons)
        self.accept_button.clicked.connect(self.accepted)
        self.decline_button.clicked.connect(self.declined)

    def show_preview(self, lines: Sequence[str]) -> None:
        self.body.setText("\n".join(lines))
        self.show()


class BusyOverlay(QFrame):
    """Covers its parent while background work runs; offers a cancel button."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("Busy")
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = QLabel("正在处理，请稍候…")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cancel_button = QPushButton("取消")
        layout.addWidget(self.label)
        layout.addWidget(self.cancel_button, alignment=Qt.AlignmentFlag.AlignCenter)
        self._on_cancel: Callable[[], None] | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def start(self, text: str, on_cancel: Callable[[], None] | None) -> None:
        self.label.setText(text)
        self._on_cancel = on_cancel
        self.cancel_button.setVisible(on_cancel is not None)
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()

    def stop(self) -> None:
        self._on_cancel = None
        self.hide()

    def _cancel(self) -> None:
        callback, self._on_cancel = self._on_cancel, None
        self.hide()
        if callback:
            callback()


class LicenceCard(QFrame):
    """One electronic licence as the clerk checks it: its picture and its recorded data."""

    def __init__(self, licence: Any, png: bytes | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        picture = QLabel()
        picture.setFixedSize(480, 300)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap()
        if png and pixmap.loadFromData(png, "PNG"):
            picture.setPixmap(pixmap.scaled(
                480, 300, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            ))
        else:
            picture.setText("证照图像暂不可用")
        layout.addWidget(picture)
        form = QFormLayout()
        until = licence.valid_until.isoformat() if licence.valid_until else "长期"
        status = {"valid": "有效", "expired": "已过期", "revoked": "已注销"}.get(
            licence.status, licence.status)
        rows = [
            ("证照类型", licence.type_name), ("证照标识", licence.licence_id),
            ("发证机关", licence.issuer),
            ("有效期", f"{licence.valid_from.isoformat()} 至 {until}"),
            ("状态", status),
            *licence.fields.items(),
        ]
        for label, value in rows:
            text = QLabel(str(value))
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}：", text)
        layout.addLayout(form, 1)


def show_licence_dialog(parent: QWidget, licence: Any, png: bytes | None) -> QDialog:
    """Show a licence in a non-modal dialog (tests replace this function to inspect it)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(f"电子证照 · {licence.type_name}")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    layout = QVBoxLayout(dialog)
    layout.addWidget(LicenceCard(licence, png))
    close = QPushButton("关闭")
    close.clicked.connect(dialog.close)
    layout.addWidget(close, alignment=Qt.AlignmentFlag.AlignRight)
    dialog.show()
    return dialog


class SignInPrompt(QFrame):
    """“请选择以下任一方式登录”: one large row per sign-in method (icon badge, name, what to do).

    ``methods`` are ``ScenarioManifest.sign_in`` names; ``titles`` may name a plugin's own code
    kinds. On a kiosk the type is large enough to read from a metre away.
    """

    BADGES: ClassVar[dict[str, str]] = {
        "ehb_identity": "码", "mi_voucher": "医", "essc": "社", "ss_card": "卡", "id_card": "证",
        "face": "脸",
    }

    def __init__(self, methods: Sequence[str], *, kiosk: bool = False,
                 titles: Mapping[str, str] | None = None, heading: str = "请选择以下任一方式登录",
                 parent: QWidget | None = None) -> None:
        from workstation.manifest import SIGN_IN_METHODS

        super().__init__(parent)
        self.setObjectName("SignInPrompt")
        self.methods = tuple(methods)
        big, small = (30, 22) if kiosk else (16, 12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(16)
        self.heading = QLabel(heading)
        self.heading.setStyleSheet(f"font-size: {big}pt; font-weight: bold; color: #1f2933;")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.rows: dict[str, QLabel] = {}
        for method in self.methods:
            name, hint = SIGN_IN_METHODS.get(method, ((titles or {}).get(method, method), ""))
            row = QHBoxLayout()
            row.setSpacing(20)
            badge = QLabel(self.BADGES.get(method, name[:1]))
            badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
            side = 72 if kiosk else 40
            badge.setFixedSize(side, side)
            badge.setStyleSheet(f"background: #b71c1c; color: white; border-radius: 10px;"
                                f" font-size: {small}pt; font-weight: bold;")
            row.addWidget(badge)
            text = QLabel(f"<b>{name}</b><br><span style='color:#52606d'>{hint}</span>")
            text.setStyleSheet(f"font-size: {small}pt;")
            text.setWordWrap(True)
            row.addWidget(text, 1)
            layout.addLayout(row)
            self.rows[method] = text
        self.setStyleSheet("#SignInPrompt { background: white; border: 1px solid #d0d7de;"
                           " border-radius: 12px; }")
