"""Demo emission reports (seed_demo), so that the verifier's and the regulator's queues are not empty:
for 2021, the first company's compliance officer has filed its report and the demo verifier has
verified it (it waits for the company's provincial regulator at /compliance/regulator/, and the
company's objection window is open); the second company's report is filed and waits for the verifier
at /compliance/verifier/. Through the services, as people would."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organization, User
from accounts.roles import Role
from allocation.models import CompliancePeriod
from compliance.models import EmissionReport
from compliance.verification import emission_report_file, emission_report_verify

# A minimal, well-formed PDF (header, one object, trailer): what the attachment check recognises.
DEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def reports_demo_seed(*, period: CompliancePeriod, companies: list[tuple[Organization, int]], verifier: Any) -> list[EmissionReport]:
    """`companies`: (company, its allocation); each reports 5 % more than it was allocated."""
    reports = []
    for index, (company, allocated) in enumerate(companies[:2]):
        officer = User.objects.get(memberships__organization=company, groups__name=Role.COMPLIANCE_OFFICER)
        emissions = allocated * 105 // 100
        report = emission_report_file(user=officer, period=period, emissions=emissions,
                                      attachment=SimpleUploadedFile(f"emission-report-{period.code}.pdf", DEMO_PDF))
        if index == 0:
            report = emission_report_verify(user=verifier, report=report, verified_emissions=emissions - 1_200,
                                            note="Meter readings and fuel invoices checked on site.")
        reports.append(report)
    return reports
