"""A bare PyQt6 window with 10 widgets, to first paint: the floor start-up is compared with."""

import sys
import time

started = time.perf_counter()

from PyQt6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PyQt6.QtWidgets import (  # noqa: E402
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"first_paint_ms={(time.perf_counter() - started) * 1000:.1f}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
            obj.removeEventFilter(self)
        return False


app = QApplication(sys.argv[:1])
window = QMainWindow()
central = QWidget()
layout = QVBoxLayout(central)
for i in range(4):
    layout.addWidget(QLabel(f"标签 {i}"))
for _ in range(3):
    layout.addWidget(QLineEdit())
for i in range(3):
    layout.addWidget(QPushButton(f"按钮 {i}"))
window.setCentralWidget(central)
watcher = FirstPaint()
window.installEventFilter(watcher)
window.resize(1280, 800)
window.show()
app.exec()
