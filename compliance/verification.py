"""Emission reports and their verification (RULEBOOK.md: Compliance cycle, steps 1 and 2).

A unit's compliance officer files the period's emissions with an attachment; the verifier a
regulator assigned to the unit enters the verified emissions; the provincial regulator of the
unit's province confirms them (never the verifier itself), which records the VerifiedEmission the
obligations are worked out from. From verification on, the company may object within
COMPLIANCE_OBJECTION_WORKING_DAYS working days; the regulator decides within
COMPLIANCE_DECISION_WORKING_DAYS, upholding (with a corrected figure) or rejecting it.

Every write here is a service: atomic, audited, refusing with a coded DomainError.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.roles import Role
from accounts.selectors import organization_in_scope, user_roles
from allocation.formula import DEFAULT_UNIT_CODE
from allocation.models import CompliancePeriod, EmittingUnit, Sector
from allocation.units import units_by_organization, units_ensure
from compliance import errors
from compliance.models import ComplianceResult, EmissionReport, VerifiedEmission, VerifierAssignment
from compliance.services import officer_unit, unit_label, verified_emission_refusal
from core.audit import audit_record
from core.errors import InvalidInput, NotEligible, NotFound, PermissionDenied
from core.http import safe_filename
from core.numbers import parse_quantity
from registry.services import MAX_AMOUNT


def working_days_after(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (Monday to Friday, not a market holiday)."""
    from trading.clock import is_trading_day  # the market's holiday calendar is the country's

    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if is_trading_day(day):
            days -= 1
    return day


def _whole_tonnes(value: Any, field: str) -> int:
    """Whole tonnes, >= 0, by the platform's one number rule (core.numbers)."""
    return parse_quantity(value, field=field, minimum=0, maximum=MAX_AMOUNT)


def _period_open(period: CompliancePeriod) -> None:
    if ComplianceResult.objects.filter(period=period).exists():
        raise errors.PeriodClosed(_("The %(period)s deadline has been processed.") % {"period": period})


def _locked(report: EmissionReport) -> EmissionReport:
    return EmissionReport.objects.select_for_update(of=("self",)).select_related("period", "organization", "unit").get(pk=report.pk)


def _audit(report: EmissionReport, actor: Any, action: str, before: str, **after: Any) -> None:
    audit_record(actor=actor, action=f"emission_report.{action}", obj=report, before={"status": before},
                 after={"status": report.status, **after})


# --- attachments ---


# Markup a browser would render or run: a tag, a comment, a doctype, an XML declaration.
_MARKUP = re.compile(rb"<\s*(?:[a-z!?/])", re.IGNORECASE)
# An XLSX's parts, uncompressed, at most this many times the attachment limit (a zip bomb is refused).
_XLSX_EXPANSION = 20


def attachment_kind(content: bytes) -> str | None:
    """PDF, XLSX or CSV, recognised strictly by the content (never by the name); None for anything
    else. A PDF starts with its header and ends with its trailer; an XLSX is a workbook openpyxl opens
    (not any zip holding an xl/ folder, not a macro workbook); a CSV is text, without markup, that
    parses as CSV with a header of at least two columns and every row as wide."""
    if content.startswith(b"%PDF-"):
        return EmissionReport.AttachmentKind.PDF if _is_pdf(content) else None
    if content.startswith(b"PK\x03\x04"):
        return EmissionReport.AttachmentKind.XLSX if _is_xlsx(content) else None
    return EmissionReport.AttachmentKind.CSV if _is_csv(content) else None


def _is_pdf(content: bytes) -> bool:
    return re.match(rb"%PDF-[12]\.[0-9]", content) is not None and b"%%EOF" in content[-1024:]


def _is_xlsx(content: bytes) -> bool:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
            names = {part.filename for part in parts}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                return False
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return False  # macros
            if sum(part.file_size for part in parts) > _XLSX_EXPANSION * settings.COMPLIANCE_REPORT_MAX_BYTES:
                return False
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - zipfile and openpyxl raise many kinds for a file that is not a workbook
        return False
    try:
        return bool(workbook.worksheets)
    finally:
        workbook.close()


def _is_csv(content: bytes) -> bool:
    if not content.strip() or _MARKUP.search(content):
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return False
    first = text.lstrip().splitlines()[0]
    delimiter = max(",;\t", key=first.count)
    if not first.count(delimiter):
        return False
    try:
        lines = [line for line in csv.reader(io.StringIO(text.lstrip()), delimiter=delimiter) if any(cell.strip() for cell in line)]
    except csv.Error:
        return False
    width = len(lines[0])
    return width >= 2 and all(len(line) == width for line in lines)


# --- verifier assignment ---


def verifier_assign(*, period: CompliancePeriod, organization: Organization, verifier: Any, actor: Any) -> VerifierAssignment:
    """A regulator assigns a verifier to a unit of its scope for a period (or replaces the verifier
    while the unit's report is not verified yet)."""
    if not actor.has_perm("compliance.add_verifierassignment") or not organization_in_scope(actor, organization):
        raise PermissionDenied(_("You may assign verifiers only to units within your scope."))
    if organization.kind != Organization.Kind.KEY_EMITTING_UNIT:
        raise InvalidInput(_("%(name)s is not a key emitting unit.") % {"name": organization.name}, field="organization")
    if Role.VERIFIER not in user_roles(verifier):
        raise InvalidInput(_("%(name)s is not a verifier.") % {"name": verifier.get_username()}, field="verifier")
    with transaction.atomic():
        reports = EmissionReport.objects.select_for_update().filter(period=period, organization=organization)
        if any(report.status != EmissionReport.Status.FILED for report in reports):
            raise errors.InvalidTransition(_("The unit's report is already verified; its verifier stays."), field="verifier")
        existing = VerifierAssignment.objects.select_for_update().filter(period=period, organization=organization).first()
        before = {"verifier": existing.verifier.get_username()} if existing else None
        assignment, _created = VerifierAssignment.objects.update_or_create(
            period=period, organization=organization, defaults={"verifier": verifier, "assigned_by": actor})
        audit_record(actor=actor, action="verifier.assign", obj=assignment, before=before,
                     after={"verifier": verifier.get_username(), "period": period.code, "uscc": organization.uscc})
    return assignment


# --- the report's life ---


def _filing_unit(organization: Organization, code: Any) -> EmittingUnit | None:
    """The unit a report is filed for: the company's unit of that code; no code, its one unit, or None
    for a company without units (its default unit, power, is created with the report). A company with
    several units names the unit."""
    units = units_by_organization([organization.pk]).get(organization.pk, {})
    code = str(code or "").strip().upper()
    if code:
        if code not in units:
            raise errors.UnknownUnit(_("%(name)s has no unit %(code)s; its units: %(codes)s.") % {
                "name": organization.name, "code": repr(code[:32]), "codes": ", ".join(units) or "-"}, field="unit")
        return units[code]
    if len(units) > 1:
        raise errors.SeveralUnits(_("%(name)s has %(count)s units (%(codes)s): name the unit the report is for.") % {
            "name": organization.name, "count": len(units), "codes": ", ".join(units)}, field="unit")
    return next(iter(units.values()), None)


def emission_report_file(*, user: Any, period: CompliancePeriod, emissions: Any, attachment: Any,
                         unit: Any = "") -> EmissionReport:
    """The company's compliance officer files a unit's emissions for a period with one attachment
    (PDF, XLSX or CSV, at most COMPLIANCE_REPORT_MAX_BYTES). One report per unit and period: a
    company with several units names the `unit` (its code) and files one report for each."""
    organization = officer_unit(user, "compliance.add_emissionreport", _("file an emission report"))
    tonnes = _whole_tonnes(emissions, "emissions")
    filing_unit = _filing_unit(organization, unit)
    if attachment is None:
        raise InvalidInput(_("Attach the emission report (PDF, XLSX or CSV)."), field="attachment")
    limit = settings.COMPLIANCE_REPORT_MAX_BYTES
    if attachment.size > limit:
        raise errors.AttachmentTooLarge(
            _("The attachment is %(size)s bytes; at most %(limit)s are allowed.") % {"size": f"{attachment.size:,}", "limit": f"{limit:,}"},
            field="attachment",
        )
    content = attachment.read()
    kind = attachment_kind(content)
    if kind is None:
        raise errors.AttachmentType(field="attachment")
    _period_open(period)
    if filing_unit is not None and EmissionReport.objects.filter(period=period, unit=filing_unit).exists():
        raise errors.ReportExists(_("The report of %(unit)s for %(period)s is already filed.") % {
            "unit": unit_label(filing_unit), "period": period.code}, field="period")
    report = EmissionReport(
        period=period, organization=organization, unit=filing_unit, emissions=tonnes,
        attachment_name=safe_filename(attachment.name, extension=kind)[:200],  # shown and offered, never a path
        attachment_kind=kind, attachment_size=len(content), attachment_sha256=hashlib.sha256(content).hexdigest(),
        filed_by=user,
    )
    # The file is written first; if the row then cannot be saved, the file is removed again.
    report.attachment.save("report", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            if report.unit_id is None:
                report.unit = units_ensure([(organization, DEFAULT_UNIT_CODE, Sector.POWER, "")])[(organization.pk, DEFAULT_UNIT_CODE)]
            report.save()
            audit_record(actor=user, action="emission_report.file", obj=report, after={
                "status": report.status, "period": period.code, "uscc": organization.uscc, "unit": report.unit.code,
                "emissions": tonnes,
                "attachment": report.attachment_name, "kind": kind, "sha256": report.attachment_sha256})
    except IntegrityError:
        report.attachment.delete(save=False)
        raise errors.ReportExists(field="period") from None
    except BaseException:
        report.attachment.delete(save=False)
        raise
    return report


def verifier_may_verify(user: Any, report: EmissionReport) -> None:
    """Refuses anyone but the verifier assigned to the report's company for its period."""
    if not user.has_perm("compliance.verify_emissionreport"):
        raise PermissionDenied(_("Only verifiers enter verified emissions."))
    if not VerifierAssignment.objects.filter(period_id=report.period_id, organization_id=report.organization_id,
                                             verifier=user).exists():
        raise errors.NotAssigned()


def emission_report_verify(*, user: Any, report: EmissionReport, verified_emissions: Any, note: str = "") -> EmissionReport:
    """The verifier assigned to the unit enters the verified emissions; the objection window opens."""
    verifier_may_verify(user, report)
    tonnes = _whole_tonnes(verified_emissions, "verified_emissions")
    with transaction.atomic():
        report = _locked(report)
        if report.status != EmissionReport.Status.FILED:
            raise errors.InvalidTransition(
                _("The report is %(status)s; only a filed report is verified.") % {"status": report.get_status_display().lower()}
            )
        _period_open(report.period)
        now = timezone.now()
        report.status = EmissionReport.Status.VERIFIED
        report.verified_emissions, report.verification_note = tonnes, (note or "").strip()
        report.verified_by, report.verified_at = user, now
        report.objection_due = working_days_after(timezone.localdate(now), settings.COMPLIANCE_OBJECTION_WORKING_DAYS)
        report.save()
        _audit(report, user, "verify", EmissionReport.Status.FILED, verified_emissions=tonnes,
               objection_due=report.objection_due.isoformat())
    return report


def officer_may_object(user: Any, report: EmissionReport) -> None:
    """Refuses anyone but a compliance officer of the report's company."""
    organization = officer_unit(user, "compliance.add_emissionreport", _("object to a verification"))
    if organization.pk != report.organization_id:
        raise NotFound(_("No such emission report."))


def emission_report_object(*, user: Any, report: EmissionReport, reason: str) -> EmissionReport:
    """The unit's compliance officer objects to the verified figure, once, within the window."""
    officer_may_object(user, report)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why you object to the verified emissions."), field="reason")
    with transaction.atomic():
        report = _locked(report)
        if report.objected_at is not None:
            raise errors.ObjectionAlreadyFiled()
        if report.status not in (EmissionReport.Status.VERIFIED, EmissionReport.Status.CONFIRMED):
            raise errors.InvalidTransition(_("Only a verified report can be objected to."))
        today = timezone.localdate()
        if today > report.objection_due:
            raise errors.ObjectionWindowClosed(_("Objections were possible until %(date)s.") % {"date": report.objection_due})
        _period_open(report.period)
        before = report.status
        report.status = EmissionReport.Status.OBJECTED
        report.objection_reason, report.objected_by, report.objected_at = reason, user, timezone.now()
        report.decision_due = working_days_after(today, settings.COMPLIANCE_DECISION_WORKING_DAYS)
        report.save()
        _audit(report, user, "object", before, reason=reason, decision_due=report.decision_due.isoformat())
    return report


def regulator_may_decide(user: Any, report: EmissionReport) -> None:
    """Refuses anyone but a provincial regulator of the report's province (confirmations, objections)."""
    if not user.has_perm("compliance.confirm_emissionreport"):
        raise PermissionDenied(_("Only the provincial regulator of the unit's province confirms verified emissions."))
    if not organization_in_scope(user, report.organization):
        raise NotFound(_("No such emission report."))


def emission_report_decide(*, user: Any, report: EmissionReport, decision: str, corrected_emissions: Any = None,
                           note: str = "") -> EmissionReport:
    """The regulator decides an objection: upheld (the verified figure becomes `corrected_emissions`,
    also in the confirmed record if there is one) or rejected (the figure stands)."""
    regulator_may_decide(user, report)
    if decision not in EmissionReport.Decision.values:
        raise InvalidInput(_("Decide upheld or rejected."), field="decision")
    corrected = None
    if decision == EmissionReport.Decision.UPHELD:
        if corrected_emissions in (None, ""):
            raise InvalidInput(_("Give the corrected verified emissions."), field="corrected_emissions")
        corrected = _whole_tonnes(corrected_emissions, "corrected_emissions")
    with transaction.atomic():
        report = _locked(report)
        if report.status != EmissionReport.Status.OBJECTED:
            raise errors.InvalidTransition(_("There is no objection to decide."))
        if user.pk == report.verified_by_id:
            raise errors.SameVerifier(_("The verifier of a report cannot decide an objection to it."))
        _period_open(report.period)
        previous = report.verified_emissions
        if corrected is not None:
            report.verified_emissions = corrected
            if report.verified_emission_id:
                # The confirmed record the obligations use is corrected in place: an audited act.
                VerifiedEmission.objects.filter(pk=report.verified_emission_id).update(tonnes=corrected)
        report.status = EmissionReport.Status.CONFIRMED if report.confirmed_at else EmissionReport.Status.VERIFIED
        report.decision, report.decision_note = decision, (note or "").strip()
        report.decided_by, report.decided_at = user, timezone.now()
        report.save()
        _audit(report, user, "decide", EmissionReport.Status.OBJECTED, decision=decision,
               verified_emissions_before=previous, verified_emissions=report.verified_emissions)
    return report


def emission_report_confirm(*, user: Any, report: EmissionReport) -> EmissionReport:
    """The provincial regulator confirms the verified emissions (a different person from the
    verifier): this records the unit's VerifiedEmission, from which its obligation is worked out."""
    regulator_may_decide(user, report)
    with transaction.atomic():
        report = _locked(report)
        if report.status == EmissionReport.Status.OBJECTED:
            raise errors.ObjectionPending()
        if report.status != EmissionReport.Status.VERIFIED:
            raise errors.InvalidTransition(
                _("The report is %(status)s; only a verified report is confirmed.") % {"status": report.get_status_display().lower()}
            )
        if user.pk == report.verified_by_id:
            raise errors.SameVerifier()
        _period_open(report.period)
        recorded = VerifiedEmission.objects.filter(period_id=report.period_id, unit_id=report.unit_id).exists()
        refusal = verified_emission_refusal(report.organization, report.period, in_scope=True, recorded=recorded,
                                            unit=report.unit)
        if refusal:
            raise (errors.AlreadyRecorded if recorded else NotEligible)(_("%(problem)s.") % {"problem": refusal})
        try:
            with transaction.atomic():  # a file import recording the unit at the same moment loses or wins here
                report.verified_emission = VerifiedEmission.objects.create(
                    period_id=report.period_id, organization_id=report.organization_id, unit_id=report.unit_id,
                    tonnes=report.verified_emissions, confirmed_by=user, source=f"emission report {report.pk}")
        except IntegrityError:
            raise errors.AlreadyRecorded() from None
        report.status = EmissionReport.Status.CONFIRMED
        report.confirmed_by, report.confirmed_at = user, timezone.now()
        report.save()
        _audit(report, user, "confirm", EmissionReport.Status.VERIFIED, verified_emissions=report.verified_emissions)
    return report
