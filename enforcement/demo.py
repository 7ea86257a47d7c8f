"""Demo enforcement data (seed_demo): after the 2019-2020 deadline job, the unit found short gets a
fine for not surrendering (at the low end of its range) and a production-halt order, both proposed by
regulator1 and approved by regulator2; the unit without verified emissions faces a data-fraud case
with a fine proposed and awaiting a second regulator; the first units' 2019-2020 disclosures are
published (up to three) and one more waits for confirmation. Fines move no ledger value, so the ledger's proof holds."""

from __future__ import annotations

from typing import Any

from accounts.roles import Role
from allocation.models import CompliancePeriod
from compliance.models import ComplianceResult
from enforcement.services import case_open, decision_approve, decision_propose, disclosure_confirm, disclosure_submit

INTERIM_REGULATIONS = "Interim Regulations on the Administration of Carbon Emission Trading (2024)"
PUBLISHED_DISCLOSURES = 3


def enforcement_demo_seed(*, period: CompliancePeriod, users: dict[str, Any]) -> None:
    maker, checker = users["regulator1"], users["regulator2"]
    results = list(ComplianceResult.objects.filter(period=period).select_related("organization").order_by("organization__name"))
    for result in results:
        if result.status == ComplianceResult.Status.B and result.fine_basis_high:
            fine = decision_propose(actor=maker, kind="non_surrender_fine", organization=result.organization, period=period,
                                    legal_basis=f"{INTERIM_REGULATIONS}, Art. 21", amount=result.fine_basis_low,
                                    facts=f"Shortfall of {result.shortfall:,} t at the {period} deadline.")
            decision_approve(actor=checker, decision=fine, note="Five times the average price, the first offence.")
            halt = decision_propose(actor=maker, kind="production_halt", organization=result.organization, period=period,
                                    legal_basis=f"{INTERIM_REGULATIONS}, Art. 21",
                                    facts="Production halted until the shortfall is surrendered.")
            decision_approve(actor=checker, decision=halt)
        elif result.status == ComplianceResult.Status.C:
            case = case_open(actor=maker, organization=result.organization, subject="company", period=period,
                             summary="Emission report withheld; coal consumption records found altered.", gains=0)
            decision_propose(actor=maker, kind="fraud_fine", organization=result.organization, period=period,
                             legal_basis=f"{INTERIM_REGULATIONS}, Art. 22", case=case, amount=500_000_00)
    reported = [r for r in results if r.verified_emissions is not None]
    chosen = reported[:PUBLISHED_DISCLOSURES + 1]
    for index, result in enumerate(chosen):
        officer = result.organization.memberships.filter(user__groups__name=Role.COMPLIANCE_OFFICER).first().user
        disclosure = disclosure_submit(user=officer, period=period, emissions=result.verified_emissions,
                                       facilities="Unit 1: 600 MW supercritical coal; auxiliary boiler 75 t/h",
                                       methods="Calculation: fuel consumption x measured carbon content (daily samples)")
        if index < len(chosen) - 1:  # the last one waits for a regulator's confirmation
            disclosure_confirm(actor=maker, disclosure=disclosure)
