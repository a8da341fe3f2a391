"""Starting the GUI: the window paints first, the core (database, plugins) is built off the GUI
thread and attached when ready."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from PyQt6.QtCore import QEvent, QObject, QTimer
from PyQt6.QtWidgets import QApplication

from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

log = logging.getLogger(__name__)

FIRST_PAINT_ENV = "MIANZHENG_EXIT_AFTER_FIRST_PAINT"  # benchmarks: print ms to first paint, quit


class _FirstPaint(QObject):
    """Notices the window's first paint: logs it and then runs ``then`` once."""

    def __init__(self, started: float, quit_after: bool, then: Callable[[], None]) -> None:
        super().__init__()
        self.started = started
        self.quit_after = quit_after
        self.seen = False
        self._then = then

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if not self.seen and event is not None and event.type() == QEvent.Type.Paint:
            self.seen = True
            ms = (time.perf_counter() - self.started) * 1000
            log.info("first paint after %.0f ms", ms)
            if self.quit_after:
                print(f"first_paint_ms={ms:.1f}", flush=True)
                QTimer.singleShot(0, QApplication.quit)
            QTimer.singleShot(0, self._then)
        return False


def install_excepthook(window: MainWindow) -> Callable[..., None]:
    """Unexpected errors in slots are shown and logged instead of aborting the process.

    PyQt6 aborts on an exception that escapes a slot. The log gets the type and where it
    happened, not the message, which may quote personal data.
    """

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        where = "".join(traceback.format_tb(tb)[-3:]) if tb else ""
        log.error("unexpected %s\n%s", exc_type.__name__, where)
        with contextlib.suppress(RuntimeError):  # the window may already be gone
            window.show_internal_error(exc_type.__name__)

    sys.excepthook = hook
    return hook


def run_gui(
    *,
    kiosk: bool,
    build_core: Callable[[], Any],
    after_attach: Callable[[MainWindow], None] | None = None,
    started: float | None = None,
    card_readers: Sequence[Callable[[], Any]] = (),
) -> int:
    started = started if started is not None else time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("免证办工作台")
    apply_theme(app, kiosk=kiosk)
    window = MainWindow(kiosk=kiosk)
    install_excepthook(window)

    def attach(core: Any) -> None:
        window.attach(core)
        log.info("workstation ready")
        for make_reader in card_readers:  # each builds a SmartCardReader, may start pcscd:
            window.tasks.submit(make_reader, window.attach_card_reader,  # off the GUI thread
                                window.card_reader_failed)
        if after_attach:
            after_attach(window)

    def failed(exc: BaseException) -> None:
        log.error("workstation failed to start: %s", exc)
        window.starting.setText(f"工作台启动失败：\n{exc}")

    building: list[bool] = []

    def build() -> None:
        # The core (database, plugins, ~0.5 s of imports) is built after the first paint, so
        # its imports do not compete with the window for the interpreter.
        if not building:
            building.append(True)
            window.tasks.submit(build_core, attach, failed)

    first_paint = _FirstPaint(started, bool(os.environ.get(FIRST_PAINT_ENV)), build)
    window.installEventFilter(first_paint)
    QTimer.singleShot(1000, build)  # in case the window is never painted (minimised)
    if kiosk:
        screen = app.primaryScreen()
        if screen is not None:  # without a window manager, size before going full screen
            window.setGeometry(screen.geometry())
        window.showFullScreen()
    else:
        window.resize(1280, 800)
        window.show()

    # SIGTERM/SIGINT (service manager, Ctrl-C) close the window like a person would, so the
    # session is wiped and background work finishes. Python runs signal handlers only between
    # bytecodes, hence the idle timer that lets it look while Qt waits in C++.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: window.close())
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(500)
    code = app.exec()
    wake.stop()
    window.detach_card_reader()
    window.tasks.wait_for_done(10000)
    if window.core is not None:
        window.core.close()
    return code
