"""The public plugin API: the one module scenario plugins import from.

Everything a plugin author needs is re-exported here, Qt-free; the widgets and helpers for pages
live in :mod:`workstation.api.ui` (imports PyQt6) and the PDF helpers for print templates in
:mod:`workstation.api.printing` (imports ReportLab). Any other module of the workstation is
private and may change without notice.

The API is versioned by :data:`API_VERSION`. It grows by adding names; a name is removed or
changed incompatibly only with a new version. A plugin says which version it needs in its
manifest (``ScenarioManifest(api_version=...)``) or, for a plugin without scenarios, by calling
:func:`require_api_version` at import. Either way a workstation that is too old refuses the
plugin with a clear message (a failed tile and a line in ``mianzheng plugins``) instead of
failing later.

Version history:

1. hooks ``register_scenarios``, ``register_code_formats``, ``register_print_templates``,
   ``register_matters``, ``session_started``, ``session_ended``; this module, ``api.ui``,
   ``api.printing`` and the ``workstation.testing`` pytest plugin.
2. ``ScenarioManifest.sign_in`` with ``SIGN_IN_METHODS`` and ``sign_in_method``;
   ``ScenarioPage.applicant_ready`` / ``sign_in_prompt`` and ``api.ui.SignInPrompt``;
   ``ctx.records`` (``Record``, ``RecordConflict``, ``RecordExists``, ``ScopedRecords``).
"""

from __future__ import annotations

from devices.locker.protocol import BoardNotAnswering, DoorJammed, DoorState, LockerError
from printing.templates import PrintTemplate
from workstation.context import ScenarioContext, ScopedAudit
from workstation.hookspecs import ENTRY_POINT_GROUP, hookimpl
from workstation.manifest import (
    KNOWN_DEVICES,
    SIGN_IN_METHODS,
    Audience,
    ManifestError,
    ScenarioManifest,
)
from workstation.services.codes import CodeFormat, CodeRefused, ParsedCode, TrustedKey, TrustList
from workstation.services.consent import (
    Consent,
    ConsentError,
    ConsentRequest,
    ConsentRequired,
    ConsentScopeError,
)
from workstation.services.enterprise import (
    ARCHIVE_FILES,
    ARCHIVE_MANIFESTS,
    POLICY_APPLICATIONS,
    EnterprisePlatform,
)
from workstation.services.identity import (
    CreditCodeInfo,
    IdentityError,
    IdNumberInfo,
    mask_id_number,
    mask_name,
    mask_phone,
    parse_credit_code,
    parse_id_number,
    validate_credit_code,
    validate_enterprise_name,
    validate_id_number,
    validate_person_name,
)
from workstation.services.licences import FetchFailure, FetchResult, LicencesUnavailable, ScopeError
from workstation.services.matters import MatterDataError, load_matters, parse_matters
from workstation.services.model import (
    CHINA_TZ,
    LICENCE_TYPES,
    Applicant,
    HolderKind,
    IdentifiedBy,
    Licence,
    LicenceType,
    Material,
    Matter,
    licence_type,
)
from workstation.services.outbox import PLATFORM_POST, platform_post
from workstation.services.platform import PlatformClient, PlatformError, PlatformUnavailable
from workstation.services.records import Record, RecordConflict, RecordExists, ScopedRecords
from workstation.services.session import ApplicantSession, sign_in_method

#: The plugin API this workstation offers. Bumped when a name is added (plugins that use it
#: declare the new version) or changed incompatibly.
API_VERSION = 2


class ApiVersionError(ImportError):
    """A plugin needs a newer plugin API than this workstation offers; ``message`` is shown."""

    def __init__(self, needed: int, offered: int = API_VERSION, who: str = "") -> None:
        self.needed = needed
        self.offered = offered
        self.message = api_version_message(needed, offered, who)
        super().__init__(self.message)


def api_version_message(needed: int, offered: int = API_VERSION, who: str = "") -> str:
    """The message shown when a plugin needs API ``needed`` and the workstation has ``offered``."""
    prefix = f"{who}: " if who else ""
    return (
        f"{prefix}需要插件接口版本 {needed}，本工作站提供版本 {offered}，请升级工作站"
        f" / needs plugin API {needed}, this workstation offers {offered}: upgrade the workstation"
    )


def require_api_version(version: int, who: str = "") -> None:
    """Refuse to load (raise :class:`ApiVersionError`) unless the API is at least ``version``.

    Call it at the top of a plugin module that declares no scenario (a code-format-only
    plugin); scenario plugins set ``api_version`` in their manifest instead.
    """
    if version > API_VERSION:
        raise ApiVersionError(version, API_VERSION, who)


__all__ = [
    "API_VERSION",
    "ARCHIVE_FILES",
    "ARCHIVE_MANIFESTS",
    "CHINA_TZ",
    "ENTRY_POINT_GROUP",
    "KNOWN_DEVICES",
    "LICENCE_TYPES",
    "PLATFORM_POST",
    "POLICY_APPLICATIONS",
    "SIGN_IN_METHODS",
    "ApiVersionError",
    "Applicant",
    "ApplicantSession",
    "Audience",
    "BoardNotAnswering",
    "CodeFormat",
    "CodeRefused",
    "Consent",
    "ConsentError",
    "ConsentRequest",
    "ConsentRequired",
    "ConsentScopeError",
    "CreditCodeInfo",
    "DoorJammed",
    "DoorState",
    "EnterprisePlatform",
    "FetchFailure",
    "FetchResult",
    "HolderKind",
    "IdNumberInfo",
    "IdentifiedBy",
    "IdentityError",
    "Licence",
    "LicenceType",
    "LicencesUnavailable",
    "LockerError",
    "ManifestError",
    "Material",
    "Matter",
    "MatterDataError",
    "ParsedCode",
    "PlatformClient",
    "PlatformError",
    "PlatformUnavailable",
    "PrintTemplate",
    "Record",
    "RecordConflict",
    "RecordExists",
    "ScenarioContext",
    "ScenarioManifest",
    "ScopeError",
    "ScopedAudit",
    "ScopedRecords",
    "TrustList",
    "TrustedKey",
    "api_version_message",
    "hookimpl",
    "licence_type",
    "load_matters",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "parse_credit_code",
    "parse_id_number",
    "parse_matters",
    "platform_post",
    "require_api_version",
    "sign_in_method",
    "validate_credit_code",
    "validate_enterprise_name",
    "validate_id_number",
    "validate_person_name",
]

