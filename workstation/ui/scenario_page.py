"""A base class for scenario pages: background work behind a busy overlay, errors in a notice.

Most pages do the same three things around every service call: cover the page while the call
runs off the GUI thread, show the result, or show the service's Chinese message when it fails.
``ScenarioPage.run_busy`` does that once, so a page's slots stay a few lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from workstation.ui.tasks import Task, TaskRunner
from workstation.ui.widgets import BusyOverlay, Notice, SignInPrompt

log = logging.getLogger(__name__)


def error_message(exc: BaseException) -> str:
    """The text to show for a failed call: the service's Chinese ``message`` when it has one."""
    text = getattr(exc, "message", None)
    return text if isinstance(text, str) and text else f"操作失败：{type(exc).__name__}"


class ScenarioPage(QWidget):
    """A page with ``layout`` (vertical), ``notice``, ``busy`` and ``tasks`` ready to use.

    Subclasses add their widgets to ``self.layout_`` and call ``run_busy`` for blocking work.
    The shell destroys the page when the applicant's session ends: keep personal data only in
    the page's own attributes, never in module globals.
    """

    def __init__(self, ctx: Any, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.ctx = ctx
        self.tasks = TaskRunner(self)
        self.layout_ = QVBoxLayout(self)
        if title:
            from PyQt6.QtWidgets import QLabel

            heading = QLabel(f"<h2>{title}</h2>")
            heading.setObjectName("PageTitle")
            self.layout_.addWidget(heading)
        self.notice = Notice()
        self.layout_.addWidget(self.notice)
        self.busy = BusyOverlay(self)
        if self.sign_in_methods:
            # the applicant already identified (a scan on the launcher, or the scan that
            # opened this page) is offered once the subclass has built its widgets
            offer = QTimer(self)
            offer.setSingleShot(True)
            offer.timeout.connect(self._offer_current_applicant)
            offer.start(0)

    # -- sign-in ---------------------------------------------------------------------------

    @property
    def sign_in_methods(self) -> tuple[str, ...]:
        """The manifest's ``sign_in``: how this scenario takes its applicant."""
        manifest = getattr(self.ctx, "manifest", None)
        return tuple(getattr(manifest, "sign_in", ()) or ())

    def accepts(self, applicant: Any) -> bool:
        """Whether ``applicant`` signed in by one of this scenario's methods."""
        from workstation.services.session import sign_in_method

        return sign_in_method(applicant) in self.sign_in_methods

    def _offer_current_applicant(self) -> None:
        applicant = self.ctx.sessions.applicant
        if applicant is not None and self.accepts(applicant):
            self.applicant_ready(applicant)

    def applicant_ready(self, applicant: Any) -> None:
        """The citizen signed in by an accepted method (GUI thread). Override: fetch and show
        the first data page. Called at most once per page: a new applicant gets a new page."""

    def sign_in_prompt(self) -> SignInPrompt:
        """A large panel telling the citizen how to sign in (the manifest's methods)."""
        return SignInPrompt(self.sign_in_methods, kiosk=bool(getattr(self.ctx, "kiosk", False)))

    def run_busy(
        self,
        text: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object],
        *,
        on_error: Callable[[BaseException], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        cancellable: bool = True,
        keep_busy_on_cancel: bool = False,
    ) -> Task:
        """Run ``fn`` off the GUI thread behind the overlay showing ``text``.

        ``on_done(result)`` runs on the GUI thread. A failure goes to ``on_error`` or, by
        default, to the notice as the exception's Chinese message. Cancelling drops the result
        and calls ``on_cancel`` (the call itself runs to its end: undo there what must be).
        With ``keep_busy_on_cancel`` the call winds down by itself once ``on_cancel`` told it
        to (e.g. cancelling a print job): the overlay shows “正在取消…” and the result is still
        delivered.
        """

        def ok(result: Any) -> None:
            self.busy.stop()
            on_done(result)

        def failed(exc: BaseException) -> None:
            self.busy.stop()
            log.warning("%s: background step failed: %s", type(self).__name__,
                        type(exc).__name__)
            if on_error is not None:
                on_error(exc)
            else:
                self.notice.show_message(error_message(exc), "error")

        task = self.tasks.submit(fn, ok, failed)

        def cancel() -> None:
            if keep_busy_on_cancel:
                self.busy.start("正在取消…", None)
            else:
                task.cancel()
            if on_cancel is not None:
                on_cancel()

        self.busy.start(text, cancel if cancellable else None)
        return task

    @property
    def is_busy(self) -> bool:
        """True while background work started by this page is running."""
        return self.tasks.busy or self.busy.isVisible()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        if self.busy.isVisible():
            self.busy.setGeometry(self.rect())
