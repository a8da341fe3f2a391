"""The workstation core: configuration, services, plugins, session and operator (Qt-free).

The shell (workstation/ui) shows it; tests drive it directly. Built by `Workstation.open()`,
which may block (database migrations, key file): call it off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from printing.queue import PrintQueue
from printing.templates import TemplateRegistry
from workstation.cameras import Cameras, ScopedCameras
from workstation.config import Config
from workstation.context import ScenarioContext, ScopedAudit, ScopedPrinting, write_case_file
from workstation.manifest import Audience, ScenarioManifest
from workstation.plugins import LoadedPlugins, PluginLoadError
from workstation.services.audit import AuditLog
from workstation.services.codes import CodeRefused, CodeService, TrustListStore
from workstation.services.consent import ConsentService
from workstation.services.crypto import FieldCipher
from workstation.services.documents import IssuedDocuments
from workstation.services.licences import LicenceCache, LicenceService, ScopedLicenceService
from workstation.services.model import CHINA_TZ, Applicant, Matter
from workstation.services.operators import Operator, OperatorAccounts
from workstation.services.outbox import PLATFORM_POST, Outbox, platform_post_sender
from workstation.services.platform import PlatformClient, PlatformUnavailable
from workstation.services.printing import PrintService
from workstation.services.records import RecordService
from workstation.services.replay import SeenCodes
from workstation.services.session import ApplicantSession, SessionManager
from workstation.services.store import Store, check_key_fingerprint

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class PlatformLink:
    """Whether the outside platforms answer; ``since`` is when the state last changed."""

    online: bool = True
    since: dt.datetime = field(default_factory=utc_now)
    listeners: list[Callable[[PlatformLink], None]] = field(default_factory=list)

    def set(self, online: bool, now: dt.datetime) -> None:
        if online != self.online:
            self.online = online
            self.since = now
            for listener in list(self.listeners):
                listener(self)

    @property
    def label(self) -> str:
        if self.online:
            return "平台在线"
        return f"平台离线（自 {self.since.astimezone(CHINA_TZ):%H:%M} 起）"


def prepare_private_dir(path: Path) -> None:
    """Create ``path`` (parents too) readable by this account only; tighten it if we own it.

    ``mkdir(mode=...)`` applies the mode to the last folder only, and an administrator's
    pre-created folder keeps its own mode: both are checked here.
    """
    path.mkdir(parents=True, exist_ok=True)
    st = path.stat()
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO) and st.st_uid == os.getuid():
        path.chmod(0o700)
        log.info("tightened permissions of a data folder to 0700")


class _LinkTrackingClient:
    """Wraps the platform client so every call updates the link state the status bar shows."""

    def __init__(self, client: PlatformClient, link: PlatformLink, clock: Clock) -> None:
        self._client = client
        self._link = link
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except PlatformUnavailable:
                self._link.set(False, self._clock())
                raise
            self._link.set(True, self._clock())
            return result

        return call


class Workstation:
    # How often the outbox is retried while items wait (also at once when the link returns).
    OUTBOX_RETRY_S = 30.0

    def __init__(
        self,
        config: Config,
        platform_url: str,
        plugins: LoadedPlugins,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self.plugins = plugins
        self.clock = clock
        self.link = PlatformLink(since=clock())
        self.platform_url = platform_url
        # One ordered worker for the writes and calls the GUI must not wait for: session audit
        # events, consent revocation at the end of a session.
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ws-background")
        prepare_private_dir(config.data_dir)
        prepare_private_dir(config.case_dir)
        self.cipher = FieldCipher.from_key_file(config.key_file)
        self.store = Store.open(config.effective_database_url)
        try:  # every workstation of a hall database must hold the same field keys
            check_key_fingerprint(self.store, self.cipher, key_file=config.key_file)
        except Exception:
            self.store.close()
            raise
        self.audit = AuditLog(self.store, self.cipher, config.workstation_id)
        self._raw_client = PlatformClient(
            platform_url, config.platform.client_id, config.platform.client_secret,
            timeout_s=config.platform.timeout_s,
        )
        # duck-typed: every PlatformClient method, plus link tracking
        tracking = _LinkTrackingClient(self._raw_client, self.link, clock)
        self.platform = cast(PlatformClient, tracking)
        self.consents = ConsentService(
            self.store, self.cipher, self.audit, self.platform, config.workstation_id, clock=clock,
            channel="kiosk" if config.kiosk_mode else "counter",
        )
        self.cache = LicenceCache(self.store, self.cipher, clock=clock)
        self.licences = LicenceService(
            self.platform, self.cache, self.audit, config.workstation_id, clock=clock,
            register_consent=self.consents.ensure_registered,
        )
        self.documents = IssuedDocuments(
            self.store, self.cipher, config.workstation_id,
            config.documents.verify_url or f"{platform_url.rstrip('/')}/verify", clock=clock,
        )
        self.operators = OperatorAccounts(self.store, self.audit)
        # Submissions are stored first and sent by a background thread (never the GUI's).
        self.outbox = Outbox(self.store, self.cipher, clock=clock)
        self.records = RecordService(self.store, self.cipher, clock=clock)
        self.outbox.register_sender(PLATFORM_POST, platform_post_sender(self.platform))
        self._outbox_wake = threading.Event()
        self._outbox_stop = threading.Event()
        self.link.listeners.append(lambda link: self.wake_outbox() if link.online else None)
        self._outbox_thread = threading.Thread(target=self._outbox_loop, name="ws-outbox",
                                               daemon=True)
        self._outbox_thread.start()
        self.seen_codes = SeenCodes(self.store)
        self.operator: Operator | None = None
        # The locker board, built on first use (locker_board()); for "simulated" an in-process
        # simulated board on a pseudo-terminal, whose doors tests and the demo close.
        self._locker: Any = None
        self.locker_simulator: Any = None
        self._locker_control: Any = None
        self._locker_lock = threading.Lock()

        self.matters: dict[str, Matter] = {}
        for name, matter in plugins.collect("register_matters"):
            if matter.code in self.matters:
                plugins.errors.append(
                    PluginLoadError(name, "register", f"事项编码重复：{matter.code}")
                )
                continue
            self.matters[matter.code] = matter
        self.templates = TemplateRegistry()
        for name, template in plugins.collect("register_print_templates"):
            try:
                self.templates.add(template)
            except ValueError as exc:
                plugins.errors.append(PluginLoadError(name, "register", str(exc)))
        printers = {"A4": config.printers.a4, "receipt80": config.printers.receipt}
        queue = (PrintQueue(printers, server=config.printers.cups_server)
                 if any(printers.values()) else None)
        self.printing = PrintService(
            templates=self.templates, documents=self.documents, audit=self.audit,
            store=self.store, queue=queue, issuing_unit=config.documents.issuing_unit,
            write_case_file=self.write_case_file, clock=clock,
            after_issue=self.register_documents,
        )
        self.cameras = Cameras(config.devices)
        formats = [f for _, f in plugins.collect("register_code_formats")]
        self.codes = CodeService(
            formats, TrustListStore(config.data_dir / "trust-list.json"), self.platform,
            self.seen_codes.mark, clock=clock, seen_check=self.seen_codes.seen,
        )
        self.sessions = SessionManager(
            on_started=self._session_started, on_ended=self._session_ended, clock=clock
        )
        if config.wants_demo_operator:
            self.operators.ensure_default("demo", "demo1234", display_name="演示窗口人员")

    # -- sessions -------------------------------------------------------------------------

    def _notify_plugins(self, hook: str, **kwargs: Any) -> None:
        """A notification hook: one plugin's failure is logged and audited, the rest run."""
        for name, _result, exc in self.plugins.call_each(hook, **kwargs):
            if exc is not None:
                log.warning("plugin %s failed in %s: %s", name, hook, type(exc).__name__)
                self.in_background(
                    self.audit.record, "plugin_error", operator=self.operator_name(),
                    details={"plugin": name, "hook": hook, "error": type(exc).__name__},
                )

    def in_background(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn`` on the ordered background worker; failures are logged, never raised."""

        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:  # the GUI has moved on; the log keeps the failure
                log.error("background work failed: %s", type(exc).__name__)

        self._background.submit(run)

    def register_documents(self) -> None:
        """Register issued documents with the platform, in the background (those it has not
        acknowledged yet are sent again next time)."""
        self.in_background(self.documents.register_pending, self.platform)

    def write_case_file(self, case_number: str, filename: str, data: bytes) -> Path:
        return write_case_file(self.config.case_dir, case_number, filename, data)

    def drain(self) -> None:
        """Wait until the background work submitted so far is done."""
        self._background.submit(lambda: None).result()

    def _session_started(self, session: ApplicantSession) -> None:
        applicant = session.applicant
        assert applicant is not None
        self.in_background(
            self.audit.record,
            "identification", operator=self.operator_name(), holder_id=applicant.holder_id,
            details={"method": applicant.identified_by.value, "kind": applicant.kind.value,
                     "session": session.session_id},
        )
        self._notify_plugins("session_started", session=session)

    def _session_ended(self, session: ApplicantSession, reason: str) -> None:
        self._notify_plugins("session_ended", session=session, reason=reason)
        holder = session.applicant.holder_id if session.applicant else None
        consents = list(session.consents)
        operator = self.operator_name()

        def finish() -> None:
            # A consent serves one visit: revoke it on the platform and locally as soon as the
            # applicant leaves, instead of letting it run to its expiry.
            for consent in consents:
                try:
                    self.consents.revoke(consent, operator=operator)
                except Exception as exc:  # recorded locally; the platform lets it expire
                    log.warning("consent revocation failed: %s", type(exc).__name__)
            self.audit.record(
                "session_ended", operator=operator, holder_id=holder,
                details={"reason": reason, "session": session.session_id,
                         "consents_revoked": len(consents)},
            )

        self.in_background(finish)

    def begin_session(self, applicant: Applicant) -> ApplicantSession:
        return self.sessions.begin(applicant)

    def identify_by_code(self, payload: str) -> Applicant:
        """Verify and resolve a scanned code (blocking: off the GUI thread).

        A refused code is audited with its reason (never its payload)."""
        try:
            return self.codes.identify(payload)
        except CodeRefused as exc:
            self.audit.record("refusal", operator=self.operator_name(),
                              details={"what": "code", "reason": exc.reason})
            raise

    def verify_holder(self, kind: str, holder_id: str, name: str) -> bool | None:
        """Does the name belong to the ID? None when the platform cannot be reached.

        A mismatch is audited as a refusal (holder hashed, the typed name not kept)."""
        try:
            match = bool(self.platform.verify_holder(kind, holder_id, name).match)
        except PlatformUnavailable:
            return None
        if not match:
            self.audit.record("refusal", operator=self.operator_name(), holder_id=holder_id,
                              details={"what": "holder", "reason": "name_mismatch"})
        return match

    # -- operators ------------------------------------------------------------------------

    def operator_name(self) -> str | None:
        return self.operator.username if self.operator else None

    def sign_in(self, username: str, password: str) -> Operator:
        self.operator = self.operators.authenticate(username, password)
        return self.operator

    def sign_out(self) -> None:
        if self.operator is None:
            return
        self.sessions.end("signed_out")
        self.in_background(self.audit.record, "operator_sign_out",
                           operator=self.operator.username, details={})
        self.operator = None

    # -- platform link --------------------------------------------------------------------

    def check_platform(self) -> bool:
        """One health call; updates the link state (blocking: off the GUI thread)."""
        try:
            self.platform.health()
        except PlatformUnavailable:
            return False
        except Exception:
            self.link.set(False, self.clock())
            return False
        return True

    # -- outbox ---------------------------------------------------------------------------

    def wake_outbox(self) -> None:
        """Ask the outbox thread to try now (after an enqueue, or when the link returns)."""
        self._outbox_wake.set()

    def _outbox_loop(self) -> None:
        while not self._outbox_stop.is_set():
            try:
                self.outbox.deliver_due()
            except Exception as exc:  # the database may be briefly unavailable: next round
                log.warning("outbox delivery failed: %s", type(exc).__name__)
            self._outbox_wake.wait(self.OUTBOX_RETRY_S)
            self._outbox_wake.clear()

    # -- devices --------------------------------------------------------------------------

    def locker_board(self) -> Any:
        """The configured locker board (``open_door(n)``, ``door(n)``, ``doors``), built on
        first use; None when ``devices.locker = "none"``. Blocking I/O: off the GUI thread."""
        with self._locker_lock:
            if self._locker is None:
                from workstation.devices import build_locker_board

                cfg = self.config.devices
                kind = cfg.kind("locker")
                if kind == "none":
                    return None
                port = ""
                if kind == "simulated":
                    from devices.locker.simulator import LockerControl, SimulatedLockerBoard
                    from workstation.devices import locker_state_file

                    self.locker_simulator = SimulatedLockerBoard(
                        cfg.locker_board, cfg.locker_doors, cfg.locker_open_level).start()
                    port = self.locker_simulator.port
                    # `mianzheng locker close N` (a person shutting a door in the demo)
                    self._locker_control = LockerControl(
                        self.locker_simulator, locker_state_file(self.config)).start()
                self._locker = build_locker_board(cfg, simulated_port=port)
            return self._locker

    # -- scenarios ------------------------------------------------------------------------

    def scenarios_for(self, audience: Audience) -> list[ScenarioManifest]:
        return [m for _, m in self.plugins.scenarios if audience in m.audiences]

    def context_for(self, manifest: ScenarioManifest) -> ScenarioContext:
        plugin_id = manifest.id
        audit = ScopedAudit(self.audit, plugin_id, self.operator_name)
        return ScenarioContext(
            manifest=manifest,
            licences=ScopedLicenceService(
                self.licences, manifest.licence_types, plugin_id, self.audit
            ),
            consents=self.consents,
            audit=audit,
            sessions=self.sessions,
            matters=dict(self.matters),
            templates=self.templates,
            workstation_id=self.config.workstation_id,
            mode=self.config.mode,
            case_root=self.config.case_dir,
            operator=self.operator_name,
            platform_online=lambda: self.link.online,
            verify_holder=self.verify_holder,
            clock=self.clock,
            outbox=self.outbox,
            platform=self.platform,
            wake_outbox=self.wake_outbox,
            printing=ScopedPrinting(self.printing, plugin_id, self.operator_name),
            records=self.records.scoped(plugin_id),
            settings=self.config.settings_for(plugin_id),
            locker=self.locker_board if "locker" in manifest.devices else (lambda: None),
            cameras=ScopedCameras(self.cameras, manifest.devices, plugin_id),
        )

    def close(self) -> None:
        self.sessions.end("shutdown")
        self._background.shutdown(wait=True)  # nothing queued may be lost
        self._outbox_stop.set()
        self._outbox_wake.set()
        self._outbox_thread.join(timeout=30)
        self._raw_client.close()
        if self._locker is not None:
            self._locker.stop()
        if self._locker_control is not None:
            self._locker_control.stop()
        if self.locker_simulator is not None:
            self.locker_simulator.stop()
        self.cameras.close()
        self.store.close()
