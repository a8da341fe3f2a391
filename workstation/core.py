"""The workstation core: configuration, services, plugins, session and operator (Qt-free).

The shell (workstation/ui) shows it; tests drive it directly. Built by `Workstation.open()`,
which may block (database migrations, key file): call it off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from printing.templates import TemplateRegistry
from workstation.config import Config
from workstation.context import ScenarioContext, ScopedAudit
from workstation.manifest import Audience, ScenarioManifest
from workstation.plugins import LoadedPlugins, PluginLoadError
from workstation.services.audit import AuditLog
from workstation.services.codes import CodeService, TrustListStore
from workstation.services.consent import ConsentService
from workstation.services.crypto import FieldCipher
from workstation.services.licences import LicenceCache, LicenceService, ScopedLicenceService
from workstation.services.model import CHINA_TZ, Applicant, Matter
from workstation.services.operators import Operator, OperatorAccounts
from workstation.services.platform import PlatformClient, PlatformUnavailable
from workstation.services.replay import SeenCodes
from workstation.services.session import ApplicantSession, SessionManager
from workstation.services.store import Store

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
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.cipher = FieldCipher.from_key_file(config.key_file)
        self.store = Store.open(config.effective_database_url)
        self.audit = AuditLog(self.store, self.cipher, config.workstation_id)
        self._raw_client = PlatformClient(
            platform_url, config.platform.client_id, config.platform.client_secret,
            timeout_s=config.platform.timeout_s,
        )
        # duck-typed: every PlatformClient method, plus link tracking
        tracking = _LinkTrackingClient(self._raw_client, self.link, clock)
        self.platform = cast(PlatformClient, tracking)
        self.consents = ConsentService(
            self.store, self.cipher, self.audit, self.platform, config.workstation_id, clock=clock
        )
        self.cache = LicenceCache(self.store, self.cipher, clock=clock)
        self.licences = LicenceService(
            self.platform, self.cache, self.audit, config.workstation_id, clock=clock,
            register_consent=self.consents.ensure_registered,
        )
        self.operators = OperatorAccounts(self.store, self.audit)
        self.seen_codes = SeenCodes(self.store)
        self.operator: Operator | None = None

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
        formats = [f for _, f in plugins.collect("register_code_formats")]
        self.codes = CodeService(
            formats, TrustListStore(config.data_dir / "trust-list.json"), self.platform,
            self.seen_codes.mark, clock=clock,
        )
        self.sessions = SessionManager(
            on_started=self._session_started, on_ended=self._session_ended, clock=clock
        )
        if config.wants_demo_operator:
            self.operators.ensure_default("demo", "demo1234", display_name="演示窗口人员")

    # -- sessions -------------------------------------------------------------------------

    def _notify_plugins(self, hook: str, **kwargs: Any) -> None:
        for name, plugin in self.plugins.manager.list_name_plugin():
            impl = getattr(plugin, hook, None)
            if impl is None or not hasattr(impl, "mianzheng_impl"):
                continue
            try:
                impl(**kwargs)
            except Exception as exc:  # one plugin's failure must not stop the others
                log.warning("plugin %s failed in %s: %s", name, hook, type(exc).__name__)
                self.audit.record(
                    "plugin_error", operator=self.operator_name(),
                    details={"plugin": name, "hook": hook, "error": type(exc).__name__},
                )

    def _session_started(self, session: ApplicantSession) -> None:
        applicant = session.applicant
        assert applicant is not None
        self.audit.record(
            "identification", operator=self.operator_name(), holder_id=applicant.holder_id,
            details={"method": applicant.identified_by.value, "kind": applicant.kind.value,
                     "session": session.session_id},
        )
        self._notify_plugins("session_started", session=session)

    def _session_ended(self, session: ApplicantSession, reason: str) -> None:
        self._notify_plugins("session_ended", session=session, reason=reason)
        holder = session.applicant.holder_id if session.applicant else None
        self.audit.record(
            "session_ended", operator=self.operator_name(), holder_id=holder,
            details={"reason": reason, "session": session.session_id},
        )

    def begin_session(self, applicant: Applicant) -> ApplicantSession:
        return self.sessions.begin(applicant)

    def identify_by_code(self, payload: str) -> Applicant:
        """Verify and resolve a scanned code (blocking: off the GUI thread)."""
        return self.codes.identify(payload)

    def verify_holder(self, kind: str, holder_id: str, name: str) -> bool | None:
        """Does the name belong to the ID? None when the platform cannot be reached."""
        try:
            return bool(self.platform.verify_holder(kind, holder_id, name).match)
        except PlatformUnavailable:
            return None

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
        self.audit.record("operator_sign_out", operator=self.operator.username, details={})
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
        )

    def close(self) -> None:
        self.sessions.end("shutdown")
        self._raw_client.close()
        self.store.close()
