"""``mianzheng new-plugin NAME --dest DIR``: a new scenario plugin package that works at once.

The package has its own pyproject.toml with an entry point in the group ``mianzheng.plugins``, a
Qt-free logic module, a thin page, a print template with sample data, a matter in a TOML file
and its own tests (using the ``workstation.testing`` fixtures). ``pip install -e DIR`` and the
next ``mianzheng run`` shows the scenario; ``pytest`` in DIR passes.

The templates are ``string.Template`` texts (``$name``): the generated code is what the plugin
guide (docs/plugins/guide.md) walks through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from workstation.api import API_VERSION, LICENCE_TYPES, HolderKind
from workstation.manifest import Audience

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class ScaffoldError(ValueError):
    """The plugin cannot be generated; ``message`` says why (Chinese and English)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PluginSpec:
    name: str  # Python package, entry-point name and scenario id
    title: str  # Chinese, shown on the tile
    audiences: tuple[Audience, ...] = (Audience.CLERK,)
    licence_types: tuple[str, ...] = ("id_card", "household_register")
    department: str = "赤壁市政务服务中心"

    def validate(self) -> PluginSpec:
        if not _NAME_RE.match(self.name):
            raise ScaffoldError(
                f"插件名 {self.name!r} 应为小写字母开头的小写字母、数字和下划线（2-40 个字符）"
                f" / NAME must match {_NAME_RE.pattern} (it is the package and scenario id)"
            )
        if self.name in {"workstation", "plugins", "printing", "devices", "sandbox", "tests"}:
            raise ScaffoldError(f"插件名 {self.name!r} 与工作站自身的包重名 / name is taken")
        if not self.title.strip():
            raise ScaffoldError("标题不能为空 / the title is empty")
        if not self.licence_types:
            raise ScaffoldError("至少声明一种证照类型 / declare at least one licence type")
        for t in self.licence_types:
            if t not in LICENCE_TYPES:
                known = ", ".join(LICENCE_TYPES)
                raise ScaffoldError(f"未知的证照类型 {t!r}（可用：{known}）/ unknown licence type")
            if LICENCE_TYPES[t].holder_kind is not HolderKind.PERSON:
                raise ScaffoldError(
                    f"{t}: 生成的场景面向个人，企业证照请生成后再添加"
                    " / the generated scenario serves persons; add enterprise licences later"
                )
        return self

    @property
    def distribution(self) -> str:
        return "mianzheng-" + self.name.replace("_", "-")


def _installed_plugin_names() -> dict[str, str]:
    """Entry-point names of the installed scenario plugins, with their distributions."""
    import importlib.metadata

    from workstation.hookspecs import ENTRY_POINT_GROUP

    return {
        ep.name: (ep.dist.name if ep.dist is not None else ep.value)
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    }


def generate(spec: PluginSpec, dest: Path) -> list[Path]:
    """Write the package for ``spec`` into ``dest`` (new or empty); returns the files written."""
    spec.validate()
    taken = _installed_plugin_names()
    if spec.name in taken:
        raise ScaffoldError(
            f"插件名 {spec.name} 已被已安装的插件使用（{taken[spec.name]}），请换一个名称"
            f" / the plugin name {spec.name} is taken by an installed plugin ({taken[spec.name]})"
        )
    if dest.exists() and any(dest.iterdir()):
        raise ScaffoldError(f"目标目录 {dest} 不是空目录 / {dest} exists and is not empty")
    values = {
        "name": spec.name,
        "title": spec.title,
        "dist": spec.distribution,
        "department": spec.department,
        "matter_code": spec.name.upper().replace("_", "-")[:20] + "-001",
        "audiences": _tuple_body([f"Audience.{a.name}" for a in spec.audiences]),
        "licence_types": _tuple_body([f'"{t}"' for t in spec.licence_types]),
        "materials": "\n".join(
            f'  {{ name = "{LICENCE_TYPES[t].name}", licence_type = "{t}" }},'
            for t in spec.licence_types
        ),
        "api_version": str(API_VERSION),
        # a kiosk-only scenario is opened on a kiosk workstation in the generated page tests
        "open_args": (', kiosk=True, core=make_core(mode="kiosk")'
                      if Audience.CLERK not in spec.audiences else ""),
        "where": "kiosk" if Audience.CLERK not in spec.audiences else "clerk",
        # kiosk citizens sign in by code or card (the shell hands the page its applicant)
        "sign_in": ('            sign_in=("ehb_identity", "ss_card", "id_card"),'
                    '  # how citizens sign in at a kiosk\n'
                    if Audience.KIOSK in spec.audiences else ""),
    }
    files = dict(_FILES)
    if Audience.CLERK not in spec.audiences:  # a kiosk page is driven by signing in
        files["tests/test_page.py"] = _TEST_KIOSK_PAGE
    written: list[Path] = []
    for rel, text in files.items():
        path = dest / Template(rel).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values), encoding="utf-8")
        written.append(path)
    return written


def _tuple_body(items: list[str]) -> str:
    """The inside of a tuple literal: ``"a",`` for one item, ``"a", "b"`` for more."""
    return ", ".join(items) + ("," if len(items) == 1 else "")


# ---------------------------------------------------------------------------------------------
# Templates. ``$$`` is a literal dollar sign.
# ---------------------------------------------------------------------------------------------

_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "免证办工作台场景插件：$title"
requires-python = ">=3.11"
dependencies = ["mianzheng-workstation"]

[project.optional-dependencies]
test = ["pytest>=8", "pytest-qt>=4.4", "pypdf>=4"]

# The workstation finds the plugin through this entry point (its name is the plugin's name).
[project.entry-points."mianzheng.plugins"]
$name = "$name"

[tool.setuptools]
packages = ["$name"]

[tool.setuptools.package-data]
$name = ["*.toml"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--strict-markers -ra"
qt_api = "pyqt6"

[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF"]
ignore = ["RUF001", "RUF002", "RUF003"]  # Chinese full-width punctuation in UI text
isort.known-first-party = ["$name"]
'''

_README = '''\
# $title（$name）

免证办工作台的场景插件，由 `mianzheng new-plugin` 生成。A scenario plugin for the 免证办
workstation, generated by `mianzheng new-plugin`.

```sh
pip install -e .          # into the workstation's environment (e.g. .venv/bin/pip)
mianzheng plugins         # lists "$name"
mianzheng run             # the tile "$title" is on the launcher
python -m pytest          # this package's tests (fixtures from workstation.testing)
```

| file | what |
|---|---|
| `$name/__init__.py` | hooks: the manifest, the matter, the print template |
| `$name/logic.py` | the rules, Qt-free (tested without a window) |
| `$name/page.py` | the thin page: input, services off the GUI thread, results |
| `$name/printout.py` | the print template and its sample data |
| `$name/matters.toml` | the matter (事项) and its materials |
| `tests/` | logic, print template, plugin registration, the page driven by pytest-qt |

Guide: `docs/plugins/guide.md` in the workstation's repository.
'''

_INIT = '''\
"""$title: a scenario plugin for the 免证办 workstation.

The workstation loads this module through the entry point in pyproject.toml and calls the hooks
below once at start-up. Import only from ``workstation.api`` (the stable plugin API).
"""

from __future__ import annotations

from workstation.api import (
    Audience,
    Matter,
    PrintTemplate,
    ScenarioManifest,
    hookimpl,
    load_matters,
)

SCENARIO_ID = "$name"
MATTER_CODE = "$matter_code"
SHEET_TEMPLATE = "$name.sheet"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="$title",
            audiences=($audiences),
            page="$name.page:build_page",  # imported only when the page is opened
            # The only licence types this plugin's services may fetch (others are refused).
            licence_types=($licence_types),
            devices=("printer_a4",),
            description="经申请人授权调取电子证照，核验申请材料，打印核验单",
$sign_in            api_version=$api_version,  # the plugin API this plugin was written for
        )
    ]


@hookimpl
def register_matters() -> list[Matter]:
    return load_matters(__name__, "matters.toml")


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    from $name.printout import render_sheet, sample_sheet  # ReportLab: only when used

    return [PrintTemplate(key=SHEET_TEMPLATE, title="证照核验单", render=render_sheet,
                          sample=sample_sheet)]
'''

_MATTERS = '''\
# The matters (事项) this scenario handles. A material with `licence_type` is 免提交 when the
# applicant holds a valid electronic licence of that type; the others are handed in on paper.
# Matter codes are unique across all plugins.

[[matter]]
code = "$matter_code"
name = "$title"
department = "$department"
holder_kind = "person"
materials = [
$materials
  { name = "申请表（窗口现场填写）" },
]
'''

_LOGIC = '''\
"""The rules of $title, Qt-free: what is asked, what the licences prove, what is printed.

Everything here is plain data in, plain data out, so it is tested without a window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workstation.api import (
    CHINA_TZ,
    LICENCE_TYPES,
    Applicant,
    ConsentRequest,
    FetchResult,
    HolderKind,
    IdentifiedBy,
    IdentityError,
    Matter,
    validate_id_number,
    validate_person_name,
)


class InputErrors(ValueError):
    """Errors per form field, e.g. {"name": "...", "id_number": "..."} (Chinese)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def applicant_from_input(name: str, id_number: str) -> Applicant:
    """The applicant a clerk typed in; raises InputErrors naming every bad field at once."""
    errors: dict[str, str] = {}
    try:
        name = validate_person_name(name)
    except IdentityError as exc:
        errors["name"] = exc.message
    try:
        id_number = validate_id_number(id_number)
    except IdentityError as exc:
        errors["id_number"] = exc.message
    if errors:
        raise InputErrors(errors)
    return Applicant(HolderKind.PERSON, id_number, name, IdentifiedBy.CLERK)


def consent_request(applicant: Applicant, matter: Matter, scenario: str) -> ConsentRequest:
    """What the applicant is asked to agree to before anything is fetched."""
    return ConsentRequest(
        applicant=applicant,
        purpose=f"核验“{matter.name}”的申请材料",
        matter_code=matter.code,
        matter_name=matter.name,
        licence_types=matter.licence_types,
        scenario=scenario,
    )


@dataclass(frozen=True)
class Finding:
    """One material of the matter and what became of it."""

    material: str
    provided: bool  # True: an electronic licence replaces it (免提交)
    detail: str  # Chinese: the licence used, or why the paper is still needed


def assess(matter: Matter, result: FetchResult | None, today: dt.date) -> list[Finding]:
    """Per material: is there a valid electronic licence for it? ``result`` None: declined."""
    findings: list[Finding] = []
    for m in matter.materials:
        if m.licence_type is None:
            findings.append(Finding(m.name, False, m.note or "需提交纸质材料"))
            continue
        type_name = LICENCE_TYPES[m.licence_type].name
        if result is None:
            findings.append(Finding(m.name, False, "申请人未授权调取，需提交纸质材料"))
            continue
        valid = [lic for lic in result.of_type(m.licence_type) if lic.status == "valid"
                 and (lic.valid_until is None or lic.valid_until >= today)]
        if valid:
            findings.append(Finding(m.name, True, f"{type_name}已核验（{valid[0].licence_id}）"))
        else:
            reason = result.reason_for(m.licence_type) or f"未查到有效的{type_name}"
            findings.append(Finding(m.name, False, f"{reason}，需提交纸质材料"))
    return findings


@dataclass(frozen=True)
class Sheet:
    """The printed 核验单: only masked personal data goes on paper."""

    matter_name: str
    department: str
    applicant_name: str  # masked
    applicant_id: str  # masked
    findings: tuple[Finding, ...]
    case_number: str
    workstation_id: str
    generated_at: dt.datetime
    offline_note: str = ""


def make_sheet(applicant: Applicant, matter: Matter, findings: list[Finding], *,
               case_number: str, workstation_id: str, generated_at: dt.datetime,
               result: FetchResult | None) -> Sheet:
    offline_note = ""
    if result is not None and result.offline and result.as_of is not None:
        as_of = result.as_of.astimezone(CHINA_TZ)
        offline_note = f"平台离线，证照数据截至 {as_of:%Y-%m-%d %H:%M}"
    return Sheet(
        matter_name=matter.name, department=matter.department,
        applicant_name=applicant.masked_name, applicant_id=applicant.masked_id,
        findings=tuple(findings), case_number=case_number, workstation_id=workstation_id,
        generated_at=generated_at.astimezone(CHINA_TZ), offline_note=offline_note,
    )
'''

_PRINTOUT = '''\
"""The print template of $title: the 证照核验单, rendered from a logic.Sheet."""

from __future__ import annotations

import datetime as dt

from workstation.api import CHINA_TZ
from workstation.api.printing import DocumentStamp, SimpleDocument, render_simple_document

from $name.logic import Finding, Sheet


def render_sheet(sheet: Sheet, stamp: DocumentStamp | None = None) -> bytes:
    """PDF bytes of the 核验单 (A4, fonts embedded; the verification code when issued)."""
    notes = ["标注“免提交”的材料已经申请人授权调取电子证照核验，无需再提交实体证照或复印件。"]
    if sheet.offline_note:
        notes.append(sheet.offline_note)
    return render_simple_document(SimpleDocument(
        title="证照核验单",
        issuing_unit=sheet.department,
        fields=[("办理事项", sheet.matter_name), ("申请人", sheet.applicant_name),
                ("证件号码", sheet.applicant_id)],
        table_header=["材料名称", "提交方式", "说明"],
        table_rows=[[f.material, "免提交" if f.provided else "需提交", f.detail]
                    for f in sheet.findings],
        notes=notes,
        generated_at=sheet.generated_at,
        case_number=sheet.case_number,
        workstation_id=sheet.workstation_id,
        seal_label="业务专用章（电子）",
    ), stamp)


def sample_sheet() -> Sheet:
    """Synthetic data for previews and tests (no real person)."""
    return Sheet(
        matter_name="$title",
        department="$department",
        applicant_name="张*",
        applicant_id="421281********0018",
        findings=(
            Finding("居民身份证", True, "居民身份证已核验"),
            Finding("申请表（窗口现场填写）", False, "需提交纸质材料"),
        ),
        case_number="TEST-01-20250303-093000-000",
        workstation_id="TEST-01",
        generated_at=dt.datetime(2025, 3, 3, 9, 30, tzinfo=CHINA_TZ),
    )
'''

_PAGE = '''\
"""The page of $title: thin widgets over $name.logic and the context's services.

Slots gather input, call the logic, and run every blocking service call off the GUI thread
through ``run_busy``. The shell destroys the page when the applicant's session ends.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QWidget
from workstation.api import CHINA_TZ, Applicant, ConsentRequest, FetchResult, ScenarioContext
from workstation.api.ui import ConsentPanel, FieldRow, ScenarioPage, primary_button

from $name import MATTER_CODE, SHEET_TEMPLATE
from $name.logic import (
    Finding,
    InputErrors,
    applicant_from_input,
    assess,
    consent_request,
    make_sheet,
)


def build_page(ctx: ScenarioContext) -> QWidget:
    """The factory named in the manifest: called when the page is opened."""
    return Page(ctx)


class Page(ScenarioPage):
    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, title="$title")
        self.matter = ctx.matters[MATTER_CODE]
        self.applicant: Applicant | None = None
        self.request: ConsentRequest | None = None
        self.result: FetchResult | None = None
        self.findings: list[Finding] = []
        self.document_path: str | None = None

        # On a kiosk the citizen signs in by code or card (the manifest's sign_in) and nobody
        # types an ID number; at a window the clerk types the applicant in.
        self.prompt = self.sign_in_prompt()
        self.prompt.setVisible(ctx.kiosk and bool(self.sign_in_methods))
        self.layout_.addWidget(self.prompt)
        row = QHBoxLayout()
        self.name_field = FieldRow("姓名", "与身份证一致")
        self.id_field = FieldRow("公民身份号码", "18 位身份证号码")
        row.addWidget(self.name_field, 1)
        row.addWidget(self.id_field, 1)
        self.layout_.addLayout(row)
        self.start_button = primary_button("申请授权并核验材料")
        self.layout_.addWidget(self.start_button)
        self.consent_panel = ConsentPanel(kiosk=ctx.kiosk)
        self.consent_panel.hide()
        self.layout_.addWidget(self.consent_panel)
        if ctx.kiosk:
            for widget in (self.name_field, self.id_field, self.start_button):
                widget.hide()
        self.findings_label = QLabel()
        self.findings_label.setWordWrap(True)
        self.layout_.addWidget(self.findings_label)
        self.print_button = primary_button("打印核验单")
        self.print_button.hide()
        self.layout_.addWidget(self.print_button)
        self.layout_.addStretch(1)

        self.start_button.clicked.connect(self.ask_consent)
        self.consent_panel.accepted.connect(self.fetch)
        self.consent_panel.declined.connect(self.decline)
        self.print_button.clicked.connect(self.print_sheet)
        current = ctx.sessions.applicant  # identified by card or code before the page opened
        if current is not None:
            self.name_field.edit.setText(current.name)
            self.id_field.edit.setText(current.holder_id)

    def applicant_ready(self, applicant: Applicant) -> None:
        """The citizen signed in by code or card (called by the shell): on a kiosk, ask for
        their consent at once; at a window, fill the fields for the clerk."""
        self.prompt.hide()
        self.name_field.edit.setText(applicant.name)
        self.id_field.edit.setText(applicant.holder_id)
        if self.ctx.kiosk:
            self.applicant = applicant
            self.request = consent_request(applicant, self.matter, self.ctx.manifest.id)
            self.consent_panel.show_preview(self.request.preview_lines())

    def ask_consent(self) -> None:
        self.notice.clear_message()
        try:
            applicant = applicant_from_input(self.name_field.text(), self.id_field.text())
        except InputErrors as exc:
            self.name_field.set_error(exc.errors.get("name"))
            self.id_field.set_error(exc.errors.get("id_number"))
            return
        current = self.ctx.sessions.applicant
        if current is not None and current.holder_id == applicant.holder_id:
            applicant = current  # keep how they were identified (card, code)
        else:
            self.ctx.sessions.begin(applicant)
        self.applicant = applicant
        self.request = consent_request(applicant, self.matter, self.ctx.manifest.id)
        self.consent_panel.show_preview(self.request.preview_lines())

    def fetch(self) -> None:
        request, operator = self.request, self.ctx.operator()
        assert request is not None
        self.consent_panel.hide()

        def work() -> tuple[Any, FetchResult]:  # off the GUI thread
            consent = self.ctx.consents.grant(request, operator=operator)
            # Name the types: one the manifest does not declare raises ScopeError (audited)
            # instead of being skipped.
            result = self.ctx.licences.fetch(
                consent, self.matter.licence_types,
                reason=f"办理“{self.matter.name}”核验申请材料", operator=operator)
            return consent, result

        def done(outcome: tuple[Any, FetchResult]) -> None:
            consent, self.result = outcome
            self.ctx.sessions.add_consent(consent)  # revoked when the session ends
            self.show_findings()

        self.run_busy("正在调取电子证照…", work, done)

    def decline(self) -> None:
        request, operator = self.request, self.ctx.operator()
        assert request is not None
        self.consent_panel.hide()
        self.result = None

        def done(_: Any) -> None:
            self.notice.show_message("申请人未同意调取电子证照，未调取任何证照。")
            self.show_findings()

        self.run_busy("正在记录…", lambda: self.ctx.consents.decline(request, operator=operator),
                      done)

    def show_findings(self) -> None:
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        self.findings = assess(self.matter, self.result, today)
        lines = [f"{'✔ 免提交' if f.provided else '✘ 需提交'}　{f.material}：{f.detail}"
                 for f in self.findings]
        if self.result is not None and self.result.offline:
            lines.insert(0, "离线：电子证照平台暂时无法连接，以下为本机缓存数据")
        self.findings_label.setText("\\n".join(lines))
        self.print_button.show()

    def print_sheet(self) -> None:
        applicant = self.applicant
        assert applicant is not None
        case_number = self.ctx.new_case_number()
        sheet = make_sheet(applicant, self.matter, self.findings, case_number=case_number,
                           workstation_id=self.ctx.workstation_id,
                           generated_at=self.ctx.clock(), result=self.result)
        template = self.ctx.templates.get(SHEET_TEMPLATE)

        def work() -> str:  # off the GUI thread: render, save privately, audit
            pdf = template.render(sheet)
            path = self.ctx.write_case_file(case_number, "证照核验单.pdf", pdf)
            self.ctx.audit.record("print", holder_id=applicant.holder_id,
                                  document=SHEET_TEMPLATE, case=case_number, bytes=len(pdf))
            return str(path)

        def done(path: str) -> None:
            self.document_path = path
            self.notice.show_message(f"核验单已生成：{path}")

        self.run_busy("正在生成核验单…", work, done)
'''

_TEST_LOGIC = '''\
"""The rules, without a window: plain functions, and the scoped services on the sandbox."""

from __future__ import annotations

import datetime as dt

import pytest
from workstation.api import ScopeError

from $name import MATTER_CODE, SCENARIO_ID
from $name.logic import InputErrors, applicant_from_input, assess, consent_request

TODAY = dt.date(2025, 3, 3)


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(InputErrors) as err:
        applicant_from_input("", "110105194912310021")  # wrong check character
    assert set(err.value.errors) == {"name", "id_number"}
    assert "校验位" in err.value.errors["id_number"]


def test_declined_consent_leaves_every_licence_material_on_paper(core):
    matter = core.matters[MATTER_CODE]
    findings = assess(matter, None, TODAY)
    assert findings and not any(f.provided for f in findings)


def test_licences_replace_materials_for_a_citizen_who_holds_them(scenario_context, applicant):
    """GIVEN a sandbox citizen who holds every licence WHEN they consent and the scenario's
    scoped services fetch THEN every licence material is 免提交 and the form is not."""
    ctx = scenario_context(SCENARIO_ID)
    matter = ctx.matters[MATTER_CODE]
    consent = ctx.consents.grant(consent_request(applicant, matter, SCENARIO_ID), operator="t")
    result = ctx.licences.fetch(consent, matter.licence_types, reason="测试核验", operator="t")
    findings = {f.material: f for f in assess(matter, result, TODAY)}
    for material in matter.materials:
        assert findings[material.name].provided is (material.licence_type is not None)


def test_undeclared_licence_types_are_refused(scenario_context, applicant):
    ctx = scenario_context(SCENARIO_ID)
    matter = ctx.matters[MATTER_CODE]
    consent = ctx.consents.grant(consent_request(applicant, matter, SCENARIO_ID), operator="t")
    with pytest.raises(ScopeError):
        ctx.licences.fetch(consent, ["business_licence"], reason="测试越权", operator="t")
'''

_TEST_PRINTOUT = '''\
"""The print template renders its sample data; the text reads back out of the PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from $name import SHEET_TEMPLATE


def test_sample_renders_with_masked_data_only(core):
    pdf = core.templates.render_sample(SHEET_TEMPLATE)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "证照核验单" in text
    assert "421281********0018" in text
'''

_TEST_PLUGIN = '''\
"""The package plugs in: found through its entry point, manifest valid, contributions there."""

from __future__ import annotations

from $name import MATTER_CODE, SCENARIO_ID, SHEET_TEMPLATE


def test_discovered_through_the_entry_point(core):
    assert core.plugins.plugin_of(SCENARIO_ID) == "$name"
    assert not [e for e in core.plugins.errors if e.plugin == "$name"]
    manifest = core.plugins.scenario(SCENARIO_ID)
    assert manifest.validate() is manifest


def test_manifest_declares_every_licence_type_of_its_matter(core):
    """The services fetch only the manifest's licence types: a material whose type is not
    declared would never be 免提交."""
    declared = core.plugins.scenario(SCENARIO_ID).licence_types
    needed = core.matters[MATTER_CODE].licence_types
    missing = sorted(set(needed) - set(declared))
    assert missing == [], f"add {missing} to the manifest's licence_types"


def test_matter_and_template_are_registered(core):
    assert MATTER_CODE in core.matters
    assert core.templates.get(SHEET_TEMPLATE).title == "证照核验单"
'''

_TEST_PAGE = '''\
"""The page driven like a person would, in the real shell, against the sandbox over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from $name import SCENARIO_ID


@pytest.fixture
def driver(open_page, make_core):
    """The page, opened from its tile on a $where workstation."""
    return open_page(SCENARIO_ID$open_args)


def test_consent_fetch_and_print(driver, applicant):
    driver.fill("name_field", applicant.name)
    driver.fill("id_field", applicant.holder_id)
    driver.click("start_button")
    assert driver.page.consent_panel.isVisible()  # nothing fetched before the applicant agrees
    driver.click(driver.page.consent_panel.accept_button)
    driver.wait_idle()
    assert "免提交" in driver.page.findings_label.text()
    driver.click("print_button")
    driver.wait_idle()
    assert Path(driver.page.document_path).read_bytes().startswith(b"%PDF")


def test_bad_id_number_is_shown_at_the_field(driver):
    driver.fill("name_field", "张三")
    driver.fill("id_field", "110105194912310021")
    driver.click("start_button")
    assert "校验位" in driver.page.id_field.error_text()
    assert not driver.page.consent_panel.isVisible()


def test_declined_consent_fetches_nothing(driver, applicant, sandbox):
    driver.fill("name_field", applicant.name)
    driver.fill("id_field", applicant.holder_id)
    driver.click("start_button")
    driver.click(driver.page.consent_panel.decline_button)
    driver.wait_idle()
    assert "未同意" in driver.page.notice.text()
    assert [e for e in sandbox.access_log if e.holder_id == applicant.holder_id] == []
'''

_TEST_KIOSK_PAGE = '''\
"""The kiosk page driven like a citizen would: sign in with a code, agree, print."""

from __future__ import annotations

from pathlib import Path

import pytest

from $name import SCENARIO_ID


@pytest.fixture
def driver(open_page, make_core):
    """The page, opened from its tile on a $where workstation."""
    return open_page(SCENARIO_ID$open_args)


def test_the_page_asks_the_citizen_to_sign_in(driver):
    assert driver.page.prompt.isVisible()
    assert not driver.page.id_field.isVisible()  # nobody types an ID number at a kiosk


def test_sign_in_consent_fetch_and_print(driver, applicant, sandbox):
    code, _expires = sandbox.issue_code(applicant.holder_id)  # the 鄂汇办 identity code
    driver.scan(code)  # the page starts afresh for the citizen who signed in
    driver.wait_until(lambda: driver.page.consent_panel.isVisible())
    assert [e for e in sandbox.access_log if e.holder_id == applicant.holder_id] == []
    driver.click(driver.page.consent_panel.accept_button)
    driver.wait_idle()
    assert "免提交" in driver.page.findings_label.text()
    driver.click("print_button")
    driver.wait_idle()
    assert Path(driver.page.document_path).read_bytes().startswith(b"%PDF")


def test_declined_consent_fetches_nothing(driver, applicant, sandbox):
    code, _expires = sandbox.issue_code(applicant.holder_id)
    driver.scan(code)
    driver.wait_until(lambda: driver.page.consent_panel.isVisible())
    driver.click(driver.page.consent_panel.decline_button)
    driver.wait_idle()
    assert "未同意" in driver.page.notice.text()
    assert [e for e in sandbox.access_log if e.holder_id == applicant.holder_id] == []
'''

_GITIGNORE = '''\
__pycache__/
*.egg-info/
build/
.pytest_cache/
'''

_FILES: dict[str, str] = {
    "pyproject.toml": _PYPROJECT,
    "README.md": _README,
    ".gitignore": _GITIGNORE,
    "$name/__init__.py": _INIT,
    "$name/matters.toml": _MATTERS,
    "$name/logic.py": _LOGIC,
    "$name/printout.py": _PRINTOUT,
    "$name/page.py": _PAGE,
    "tests/test_logic.py": _TEST_LOGIC,
    "tests/test_printout.py": _TEST_PRINTOUT,
    "tests/test_plugin.py": _TEST_PLUGIN,
    "tests/test_page.py": _TEST_PAGE,
}
