"""S5 智能审批 (24-hour self-service area): face login against the ID photo, materials
photographed with the document camera and read by OCR, the application form filled from them,
every check of the matter's rules (``rules.toml``) listed with its evidence, and then either the
result certificate printed at the kiosk (自助出证) or the case queued for a clerk, who sees the
queue in clerk mode."""

from __future__ import annotations

from typing import Any

from workstation.api import (
    ApplicantSession,
    Audience,
    PrintTemplate,
    ScenarioManifest,
    hookimpl,
)

SCENARIO_ID = "smart_review"
CLEANUP_KEY = "smart_review.cleanup"  # session.scratch: wipes the captured images at the end


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="智能审批 · 自助出证",
            audiences=(Audience.KIOSK, Audience.CLERK),
            page="plugins.smart_review.page:build_page",
            licence_types=("id_card", "marriage_cert", "household_register"),
            devices=("face_camera", "document_camera", "printer_a4"),
            sign_in=("face", "ehb_identity", "ss_card"),
            description="人脸识别登录，高拍仪拍摄材料，自动识别填表，逐项智能审查，"
                        "符合条件自助出证，否则转窗口人工审核",
            icon="审",
            order=35,
            api_version=2,
        )
    ]


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    from plugins.smart_review import printout

    return [
        PrintTemplate(printout.REPORT_KEY, "智能审批报告", printout.render_report,
                      printout.sample_report, description="逐项审查结果及依据"),
        PrintTemplate(printout.CERTIFICATE_KEY, "审批结果通知书（自助出证）",
                      printout.render_certificate, printout.sample_certificate,
                      description="智能审批通过后自助打印，带核验码"),
    ]


@hookimpl
def session_ended(session: ApplicantSession, reason: str) -> None:
    """The applicant left (idle, finished, another applicant): wipe what the page captured,
    unless the case went to the clerk queue."""
    cleanup: Any = session.scratch.pop(CLEANUP_KEY, None)
    if callable(cleanup):
        cleanup(reason)
