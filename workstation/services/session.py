"""The applicant session: who is being served, how they were identified, what they consented to.

Ending a session wipes the applicant's data from memory here; the shell destroys every page that
showed it. Listeners are plain callables (the Qt bridge turns them into signals).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workstation.services.model import Applicant, IdentifiedBy

_session_ids = itertools.count(1)


@dataclass
class ApplicantSession:
    applicant: Applicant | None
    started_at: dt.datetime
    session_id: int = field(default_factory=lambda: next(_session_ids))
    consents: list[Any] = field(default_factory=list)  # consent.Consent objects
    scratch: dict[str, Any] = field(default_factory=dict)  # per-scenario working data
    ended: bool = False

    def wipe(self) -> None:
        """Drop every reference to personal data held by the session."""
        self.applicant = None
        self.consents.clear()
        self.scratch.clear()
        self.ended = True


# listener(session, event): event is "started", "changed" or "ended:<reason>"; session is None
# after an end.
SessionListener = Callable[[ApplicantSession | None, str], None]


class SessionManager:
    """Holds the current applicant session (at most one per workstation)."""

    def __init__(
        self,
        *,
        on_started: Callable[[ApplicantSession], None] | None = None,
        on_ended: Callable[[ApplicantSession, str], None] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._current: ApplicantSession | None = None
        self._on_started = on_started
        self._on_ended = on_ended
        self._clock = clock
        self._listeners: list[SessionListener] = []

    @property
    def current(self) -> ApplicantSession | None:
        return self._current

    @property
    def applicant(self) -> Applicant | None:
        return self._current.applicant if self._current else None

    def subscribe(self, listener: SessionListener) -> None:
        """``listener(session, event)`` is called on start, change and end (session None)."""
        self._listeners.append(listener)

    def _notify(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(self._current, event)

    def begin(self, applicant: Applicant) -> ApplicantSession:
        """Start serving ``applicant``; an earlier session is ended first."""
        if self._current is not None:
            self.end("replaced")
        self._current = ApplicantSession(applicant=applicant, started_at=self._clock())
        if self._on_started:
            self._on_started(self._current)
        self._notify("started")
        return self._current

    def update_applicant(self, applicant: Applicant) -> None:
        """Complete the current applicant's details (e.g. the name a platform returned after
        the holder authorized). Only for the same holder: another holder needs ``begin``."""
        session = self._current
        if session is None or session.applicant is None:
            raise RuntimeError("no applicant session")
        current = session.applicant
        if (current.kind, current.holder_id) != (applicant.kind, applicant.holder_id):
            raise ValueError("another holder: begin a new session")
        session.applicant = applicant
        self._notify("changed")

    def add_consent(self, consent: Any) -> None:
        if self._current is None:
            raise RuntimeError("no applicant session")
        self._current.consents.append(consent)
        self._notify("changed")

    def end(self, reason: str) -> None:
        session = self._current
        if session is None:
            return
        self._current = None
        try:
            if self._on_ended:
                self._on_ended(session, reason)
        finally:
            session.wipe()
            self._notify(f"ended:{reason}")


def sign_in_method(applicant: Applicant | None) -> str | None:
    """How ``applicant`` signed in, in ``ScenarioManifest.sign_in`` terms: the code kind
    (``"essc"``...), ``"ss_card"``, ``"id_card"``, ``"face"``; None when a clerk typed them in."""
    if applicant is None:
        return None
    extra = applicant.extra or {}
    if applicant.identified_by is IdentifiedBy.CODE:
        kind = extra.get("code_format")
        return str(kind) if kind else None
    if applicant.identified_by is IdentifiedBy.CARD:
        return {"SocialSecurityCardData": "ss_card", "IdCardData": "id_card"}.get(
            str(extra.get("card", "")))
    if applicant.identified_by is IdentifiedBy.FACE:
        return "face"
    return None
