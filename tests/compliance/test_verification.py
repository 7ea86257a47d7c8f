"""Emission reports and their verification (compliance.verification): filing with an attachment
recognised by its content, verification by the assigned verifier, the objection window, the
regulator's decision and confirmation into the verified emissions the obligations use."""

import datetime as dt
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import Organization
from accounts.roles import Role
from compliance.models import EmissionReport, VerifiedEmission, VerifierAssignment
from compliance.selectors import obligation_of, report_history
from compliance.services import compliance_deadline_run
from compliance.verification import (
    attachment_kind,
    emission_report_confirm,
    emission_report_decide,
    emission_report_file,
    emission_report_object,
    emission_report_verify,
    verifier_assign,
    working_days_after,
)
from core.errors import DomainError
from core.models import AuditEvent
from tests.compliance.helpers import CSV, PDF, officer_of, plan_issue, upload, verify, xlsx_bytes
from tests.factories import OrganizationFactory, UserFactory, user_with_role
from trading.models import Holiday


def refused(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        call(**kwargs)
    return error.value


# --- filing ---


def test_an_officer_files_a_report_whose_attachment_is_stored_and_audited(report, company_a, officer):
    report.refresh_from_db()
    assert (report.organization, report.emissions, report.status, report.filed_by) == (company_a, 70_000, "filed", officer)
    assert (report.attachment_name, report.attachment_kind, report.attachment_size) == ("report-2021.pdf", "pdf", len(PDF))
    with default_storage.open(report.attachment.name) as stored:
        assert stored.read() == PDF
    # A generated name: the period's id, a uuid, the recognised kind; nothing the uploader typed.
    assert re.fullmatch(rf"emission-reports/{report.period_id}/[0-9a-f]{{32}}\.pdf", report.attachment.name)
    event = AuditEvent.objects.get(action="emission_report.file")
    assert (event.actor, event.object_id, event.after["emissions"]) == (officer, str(report.pk), 70_000)


@pytest.mark.parametrize("content, name, kind", [
    (PDF, "whatever.csv", "pdf"), (xlsx_bytes(), "report.pdf", "xlsx"), (CSV, "report", "csv"),
    ("单位,排放量\n一号机组,52000\n".encode("gb18030"), "report.txt", "csv"),
], ids=["pdf-named-csv", "xlsx-named-pdf", "csv-without-extension", "csv-in-gb18030"])
def test_the_attachment_kind_comes_from_the_content_not_the_name(period, company_a, officer, content, name, kind):
    report = emission_report_file(user=officer, period=period, emissions=1, attachment=upload(content, name))
    assert report.attachment_kind == kind


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", b"PK\x03\x04not really a zip", b"just one line without delimiters",
    b"", b"a,b\n\x00\x01\x02,c\n",
], ids=["executable", "broken-zip", "plain-text", "empty", "binary-in-text"])
def test_an_attachment_that_is_not_pdf_xlsx_or_csv_is_refused(period, company_a, officer, content):
    error = refused(emission_report_file, user=officer, period=period, emissions=1, attachment=upload(content, "r.pdf"))
    assert (error.code, error.field) == ("attachment_type", "attachment")
    assert not EmissionReport.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_not_xlsx():
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert attachment_kind(out.getvalue()) is None


def test_an_attachment_over_the_size_limit_is_refused_and_nothing_is_stored(period, company_a, officer, settings):
    settings.COMPLIANCE_REPORT_MAX_BYTES = len(PDF) - 1
    before = AuditEvent.objects.count()
    error = refused(emission_report_file, user=officer, period=period, emissions=1, attachment=upload())
    assert (error.code, error.field) == ("attachment_too_large", "attachment")
    assert not EmissionReport.objects.exists() and AuditEvent.objects.count() == before


def test_a_unit_files_one_report_per_period(report, period, officer):
    error = refused(emission_report_file, user=officer, period=period, emissions=1, attachment=upload())
    assert (error.code, error.field) == ("report_exists", "period")
    assert EmissionReport.objects.count() == 1


@pytest.mark.parametrize("emissions", [-1, "12.5", "lots", "\u00b2", 10**16])
def test_emissions_must_be_whole_tonnes_the_registry_can_store(period, company_a, officer, emissions):
    error = refused(emission_report_file, user=officer, period=period, emissions=emissions, attachment=upload())
    assert (error.code, error.field) == ("invalid", "emissions")


@pytest.mark.parametrize("role", [Role.COMPANY_TRADER, Role.VERIFIER, Role.AUDITOR])
def test_only_a_compliance_officer_files(period, company_a, role):
    error = refused(emission_report_file, user=user_with_role(role, company_a), period=period, emissions=1,
                    attachment=upload())
    assert error.code == "not_eligible"


def test_no_report_is_filed_once_the_deadline_job_ran(period, company_a, officer, national_regulator,
                                                     second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 1_000)], maker=national_regulator, checker=second_national_regulator)
    assert compliance_deadline_run(period=period) == {"A": 0, "B": 0, "C": 1}
    error = refused(emission_report_file, user=officer, period=period, emissions=1, attachment=upload())
    assert error.code == "period_closed"


# --- verifier assignment ---


def test_a_regulator_assigns_a_verifier_and_may_replace_it_until_verification(assigned, period, company_a, verifier_body,
                                                                             shandong_regulator, verifier):
    other = user_with_role(Role.VERIFIER, verifier_body)
    verifier_assign(period=period, organization=company_a, verifier=other, actor=shandong_regulator)
    assert VerifierAssignment.objects.get().verifier == other
    event = AuditEvent.objects.filter(action="verifier.assign").latest("id")
    assert (event.before, event.after["verifier"]) == ({"verifier": verifier.username}, other.username)


def test_a_provincial_regulator_assigns_only_within_its_province(period, company_b, verifier, shandong_regulator):
    error = refused(verifier_assign, period=period, organization=company_b, verifier=verifier, actor=shandong_regulator)
    assert error.code == "permission_denied"
    assert not VerifierAssignment.objects.exists()


def test_only_a_verifier_can_be_assigned(period, company_a, shandong_regulator, auditor):
    error = refused(verifier_assign, period=period, organization=company_a, verifier=auditor, actor=shandong_regulator)
    assert (error.code, error.field) == ("invalid", "verifier")


def test_the_verifier_stays_once_the_report_is_verified(verified, period, company_a, verifier_body, national_regulator):
    error = refused(verifier_assign, period=period, organization=company_a,
                    verifier=user_with_role(Role.VERIFIER, verifier_body), actor=national_regulator)
    assert error.code == "invalid_transition"


# --- verification ---


def test_the_assigned_verifier_verifies_and_the_objection_window_opens(verified, verifier):
    verified.refresh_from_db()
    assert (verified.status, verified.verified_emissions, verified.verified_by) == ("verified", 68_500, verifier)
    assert verified.objection_due == working_days_after(timezone.localdate(), 7)
    assert verified.objection_due >= timezone.localdate() + dt.timedelta(days=9)  # 7 working days span a weekend
    event = AuditEvent.objects.get(action="emission_report.verify")
    assert (event.before, event.after["status"], event.after["verified_emissions"]) == ({"status": "filed"}, "verified", 68_500)


def test_a_verifier_not_assigned_to_the_unit_cannot_verify(report, verifier_body):
    stranger = user_with_role(Role.VERIFIER, verifier_body)
    error = refused(emission_report_verify, user=stranger, report=report, verified_emissions=1)
    assert (error.code, error.status) == ("not_assigned", 404)
    report.refresh_from_db()
    assert report.status == "filed"


def test_an_officer_cannot_verify_its_own_report(report, officer):
    assert refused(emission_report_verify, user=officer, report=report, verified_emissions=1).code == "permission_denied"


def test_a_report_is_verified_once(verified, verifier):
    assert refused(emission_report_verify, user=verifier, report=verified, verified_emissions=1).code == "invalid_transition"


def test_verified_emissions_must_be_whole_tonnes(report, verifier):
    error = refused(emission_report_verify, user=verifier, report=report, verified_emissions="-3")
    assert (error.code, error.field) == ("invalid", "verified_emissions")


# --- confirmation ---


def test_the_provincial_regulator_confirms_and_the_obligation_uses_the_verified_figure(
    verified, period, company_a, shandong_regulator, national_regulator, second_national_regulator
):
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)
    assert obligation_of(period, company_a).verified_emissions is None
    report = emission_report_confirm(user=shandong_regulator, report=verified)
    record = VerifiedEmission.objects.get(organization=company_a, period=period)
    assert (record.tonnes, record.confirmed_by, report.verified_emission) == (68_500, shandong_regulator, record)
    assert (report.status, report.confirmed_by) == ("confirmed", shandong_regulator)
    assert obligation_of(period, company_a).verified_emissions == 68_500
    assert [e.action for e in report_history(report)] == [
        "emission_report.file", "emission_report.verify", "emission_report.confirm"]


def test_no_confirmation_before_verification(report, shandong_regulator):
    assert refused(emission_report_confirm, user=shandong_regulator, report=report).code == "invalid_transition"
    assert not VerifiedEmission.objects.exists()


def test_the_verifier_cannot_confirm_its_own_verification(period, company_a, officer, shandong_regulator):
    bureau = OrganizationFactory(name="Shandong Verification Office", kind=Organization.Kind.INSTITUTION,
                                 sector="government", province="37")
    both = UserFactory(roles=[Role.VERIFIER, Role.PROVINCIAL_REGULATOR], organization=bureau)
    verifier_assign(period=period, organization=company_a, verifier=both, actor=shandong_regulator)
    report = emission_report_file(user=officer, period=period, emissions=70_000, attachment=upload())
    emission_report_verify(user=both, report=report, verified_emissions=70_000)
    error = refused(emission_report_confirm, user=both, report=report)
    assert error.code == "same_verifier"
    assert not VerifiedEmission.objects.exists()


def test_a_regulator_of_another_province_does_not_find_the_report(verified, company_b):
    jiangsu = OrganizationFactory(name="Jiangsu DEE", kind=Organization.Kind.INSTITUTION, sector="government", province="32")
    error = refused(emission_report_confirm, user=user_with_role(Role.PROVINCIAL_REGULATOR, jiangsu), report=verified)
    assert (error.code, error.status) == ("not_found", 404)


@pytest.mark.parametrize("who", ["national_regulator", "auditor", "verifier", "officer"])
def test_only_a_provincial_regulator_confirms(verified, request, who):
    assert refused(emission_report_confirm, user=request.getfixturevalue(who), report=verified).code == "permission_denied"


def test_a_report_is_confirmed_once(verified, shandong_regulator):
    emission_report_confirm(user=shandong_regulator, report=verified)
    assert refused(emission_report_confirm, user=shandong_regulator, report=verified).code == "invalid_transition"
    assert VerifiedEmission.objects.count() == 1


def test_a_unit_whose_verified_emissions_were_imported_is_not_confirmed_twice(verified, period, company_a,
                                                                              shandong_regulator):
    verify(period, shandong_regulator, {company_a: 1_000})
    assert refused(emission_report_confirm, user=shandong_regulator, report=verified).code == "already_recorded"
    assert VerifiedEmission.objects.get().tonnes == 1_000


# --- objections ---


def test_the_company_objects_within_the_window_and_confirmation_waits(verified, officer, shandong_regulator):
    report = emission_report_object(user=officer, report=verified, reason="Unit 2 was shut down in March")
    assert (report.status, report.objected_by, report.objection_reason) == ("objected", officer, "Unit 2 was shut down in March")
    assert report.decision_due == working_days_after(timezone.localdate(), 10)
    assert refused(emission_report_confirm, user=shandong_regulator, report=report).code == "objection_pending"


def test_an_objection_after_the_window_is_refused(verified, officer):
    EmissionReport.objects.filter(pk=verified.pk).update(objection_due=timezone.localdate() - dt.timedelta(days=1))
    error = refused(emission_report_object, user=officer, report=verified, reason="Late")
    assert error.code == "objection_window_closed"
    verified.refresh_from_db()
    assert verified.status == "verified" and verified.objected_at is None


def test_an_objection_is_filed_once(verified, officer, shandong_regulator):
    emission_report_object(user=officer, report=verified, reason="Too high")
    emission_report_decide(user=shandong_regulator, report=verified, decision="rejected", note="Meters are right")
    assert refused(emission_report_object, user=officer, report=verified, reason="Again").code == "objection_already_filed"


def test_no_objection_before_verification_nor_without_a_reason(report, verified, officer):
    verified.refresh_from_db()
    error = refused(emission_report_object, user=officer, report=verified, reason="  ")
    assert (error.code, error.field) == ("invalid", "reason")


def test_the_workflows_refusals_speak_the_users_language(report, verified, officer, verifier):
    from django.utils import translation

    verified.refresh_from_db()
    with translation.override("zh-hans"):
        assert refused(emission_report_object, user=officer, report=verified, reason=" ").message == "请说明对核查排放量提出异议的理由。"
        again = refused(emission_report_verify, user=verifier, report=verified, verified_emissions=1)
    assert again.message == "该报告状态为已核查，待确认；只有已提交的报告才能核查。"
    assert refused(emission_report_object, user=officer, report=verified, reason=" ").message == (
        "Say why you object to the verified emissions."
    )


def test_an_objection_to_a_filed_report_is_refused(report, officer):
    assert refused(emission_report_object, user=officer, report=report, reason="Why").code == "invalid_transition"


def test_another_companys_officer_cannot_object(verified, company_b):
    assert refused(emission_report_object, user=officer_of(company_b), report=verified, reason="x").code == "not_found"


def test_an_upheld_objection_corrects_the_figure_before_confirmation(verified, officer, shandong_regulator, company_a,
                                                                    period):
    emission_report_object(user=officer, report=verified, reason="Unit 2 was shut down")
    report = emission_report_decide(user=shandong_regulator, report=verified, decision="upheld", corrected_emissions=60_000)
    assert (report.status, report.decision, report.verified_emissions) == ("verified", "upheld", 60_000)
    emission_report_confirm(user=shandong_regulator, report=report)
    assert VerifiedEmission.objects.get(organization=company_a, period=period).tonnes == 60_000
    event = AuditEvent.objects.get(action="emission_report.decide")
    assert (event.after["verified_emissions_before"], event.after["verified_emissions"]) == (68_500, 60_000)


def test_an_objection_after_confirmation_upheld_corrects_the_confirmed_record(verified, officer, shandong_regulator,
                                                                             company_a, period):
    emission_report_confirm(user=shandong_regulator, report=verified)
    emission_report_object(user=officer, report=verified, reason="Unit 2 was shut down")
    report = emission_report_decide(user=shandong_regulator, report=verified, decision="upheld", corrected_emissions=60_000)
    assert report.status == "confirmed"
    assert VerifiedEmission.objects.get(organization=company_a, period=period).tonnes == 60_000


def test_a_rejected_objection_leaves_the_figure(verified, officer, shandong_regulator):
    emission_report_object(user=officer, report=verified, reason="Too high")
    report = emission_report_decide(user=shandong_regulator, report=verified, decision="rejected")
    assert (report.status, report.verified_emissions, report.decided_by) == ("verified", 68_500, shandong_regulator)


def test_an_upheld_objection_needs_the_corrected_figure(verified, officer, shandong_regulator):
    emission_report_object(user=officer, report=verified, reason="Too high")
    error = refused(emission_report_decide, user=shandong_regulator, report=verified, decision="upheld")
    assert (error.code, error.field) == ("invalid", "corrected_emissions")
    assert refused(emission_report_decide, user=shandong_regulator, report=verified, decision="maybe").field == "decision"


def test_there_is_nothing_to_decide_without_an_objection(verified, shandong_regulator):
    error = refused(emission_report_decide, user=shandong_regulator, report=verified, decision="rejected")
    assert error.code == "invalid_transition"


# --- the calendar ---


def test_working_days_skip_weekends_and_holidays(db):
    friday = dt.date(2026, 9, 25)
    assert working_days_after(friday, 1) == dt.date(2026, 9, 28)  # Monday
    Holiday.objects.create(day=dt.date(2026, 10, 1), name="National Day")
    assert working_days_after(friday, 7) == dt.date(2026, 10, 7)
