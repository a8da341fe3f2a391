"""The demo "phone": shows a sandbox citizen's code (鄂汇办 identity code, medical-insurance
e-voucher, electronic social security card — from any of the apps that show them) as a QR image,
and can hand it to the scanner so a person can try the scan path without a real phone."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import qrcode
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget

from workstation.services.identity import mask_id_number, mask_phone
from workstation.ui.tasks import TaskRunner

# (label, code kind, source app)
CODE_CHOICES: tuple[tuple[str, str, str | None], ...] = (
    ("鄂汇办 · 电子身份码", "ehb_identity", None),
    ("医保电子凭证 · 湖北医疗保障公众号", "mi_voucher", "hubei_mi_official_account"),
    ("医保电子凭证 · 我的医保凭证小程序", "mi_voucher", "my_mi_voucher"),
    ("医保电子凭证 · 支付宝", "mi_voucher", "alipay"),
    ("医保电子凭证 · 国家医保服务平台App", "mi_voucher", "nhsa_app"),
    ("电子社保卡 · 微信小程序", "essc", "wechat_miniprogram"),
    ("电子社保卡 · 湖北12333公众号", "essc", "hubei_12333"),
)


class DemoPhone(QWidget):
    def __init__(
        self,
        people: list[dict[str, str]],
        issue_code: Callable[[str, str, str | None], str],
        present: Callable[[str], None],
        parent: QWidget | None = None,
        *,
        fetch_sms: Callable[[], list[dict[str, str]]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("演示手机")
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)  # the workstation decides
        self.setFixedWidth(380)
        self._issue_code = issue_code
        self._present = present
        self.tasks = TaskRunner(self)
        self.code: str | None = None
        layout = QVBoxLayout(self)
        self.kind = QComboBox()
        for label, kind, source in CODE_CHOICES:
            self.kind.addItem(label, (kind, source))
        layout.addWidget(self.kind)
        self.person = QComboBox()
        for p in people:
            self.person.addItem(f"{p['name']}  {mask_id_number(p['holder_id'])}", p["holder_id"])
        self.qr = QLabel()
        self.qr.setFixedSize(320, 320)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refresh_button = QPushButton("刷新二维码")
        self.present_button = QPushButton("对准扫码口出示")
        self.present_button.setObjectName("Primary")
        self.hint = QLabel("二维码 60 秒内有效，只能使用一次")
        layout.addWidget(self.person)
        layout.addWidget(self.qr)
        layout.addWidget(self.hint)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.present_button)
        self.refresh_button.clicked.connect(self.refresh)
        self.present_button.clicked.connect(self._present_code)
        self.person.currentIndexChanged.connect(lambda _i: self.refresh())
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        # the sandbox's SMS gateway (pickup codes, progress messages): the phone's inbox
        self._fetch_sms = fetch_sms
        self.inbox_button = QPushButton("短信收件箱")
        self.inbox = QLabel()
        self.inbox.setWordWrap(True)
        self.inbox.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.inbox.hide()
        if fetch_sms is not None:
            layout.addWidget(self.inbox_button)
            layout.addWidget(self.inbox)
            self.inbox_button.clicked.connect(self.show_inbox)

    def show_inbox(self) -> None:
        """The newest sandbox text messages (any number: the demo has one phone for all)."""
        fetch = self._fetch_sms
        if fetch is None:
            return

        def shown(messages: list[dict[str, str]]) -> None:
            newest = list(reversed(messages))[:5]
            lines = [f"<b>{mask_phone(m['phone'])}</b> {m['sent_at'][11:16]}<br>{m['text']}"
                     for m in newest]
            self.inbox.setText("<br><br>".join(lines) if lines else "暂无短信")
            self.inbox.show()

        self.tasks.submit(fetch, shown, lambda exc: self.inbox.setText("无法读取短信"))

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Ask the platform for a fresh code (off the GUI thread), then show it."""
        holder_id = self.person.currentData()
        if not holder_id:
            return
        kind, source = self.kind.currentData()
        self.code = None

        def shown(code: str) -> None:
            self.code = code
            self.qr.setPixmap(qr_pixmap(code, 320))
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:  # the phone shows the platform's state
            self.qr.setText(f"无法获取二维码\n{getattr(exc, 'message', type(exc).__name__)}")

        self.tasks.submit(lambda: self._issue_code(holder_id, kind, source), shown, failed)

    def _present_code(self) -> None:
        if self.code is None:
            self.refresh(then=self._present_code)
            return
        self._present(self.code)


def qr_pixmap(text: str, size: int) -> QPixmap:
    image: Any = qrcode.make(text, box_size=4, border=2)
    buf = BytesIO()
    image.save(buf, format="PNG")
    pixmap = QPixmap()
    pixmap.loadFromData(buf.getvalue(), "PNG")
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.FastTransformation)
