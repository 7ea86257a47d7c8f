"""The enforcement pages: proposing with a refusal shown next to its field, the second regulator's
approval, a company's own decisions (another's are a 404), the disclosure from the company's form to
the public page, and the archive job's zip."""

import io
import json
import zipfile

import pytest

from accounts.roles import Role
from core.models import AuditEvent
from enforcement.models import Decision, Disclosure, FraudCase
from enforcement.services import case_open, decision_approve, decision_propose
from reports.models import ExportJob
from tests.compliance.helpers import officer_of
from tests.enforcement.conftest import FINE_LOW
from tests.enforcement.test_decisions import BASIS
from tests.factories import user_with_role


def propose_fine(client, closed, company_b, amount_yuan):
    return client.post("/enforcement/decisions/new/", {
        "kind": "non_surrender_fine", "organization": company_b.pk, "period": closed.pk, "legal_basis": BASIS,
        "amount": amount_yuan})


def test_a_fine_out_of_range_is_refused_next_to_the_amount(closed, company_b, national_regulator, client_for):
    response = propose_fine(client_for(national_regulator), closed, company_b, "1,000.00")
    assert response.status_code == 400
    assert "8,257,800.00" in response.content.decode() and not Decision.objects.exists()


def test_a_regulator_proposes_and_another_approves_on_the_pages(closed, company_b, national_regulator,
                                                                second_national_regulator, client_for):
    response = propose_fine(client_for(national_regulator), closed, company_b, f"{FINE_LOW // 100}.00")
    decision = Decision.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/enforcement/decisions/{decision.pk}/"
    own = client_for(national_regulator).get(response["Location"]).content.decode()
    assert 'id="approve"' not in own and 'id="awaiting-checker"' in own
    checker = client_for(second_national_regulator)
    assert 'id="approve"' in checker.get(response["Location"]).content.decode()
    assert checker.post(f"/enforcement/decisions/{decision.pk}/approve/", {"note": "Agreed"}).status_code == 302
    assert Decision.objects.get().status == "approved"


def test_the_proposer_posting_approve_is_refused(closed, company_b, national_regulator, client_for):
    decision = decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed,
                                legal_basis=BASIS)
    assert client_for(national_regulator).post(f"/enforcement/decisions/{decision.pk}/approve/").status_code == 403
    assert Decision.objects.get().status == "proposed"


def test_a_halt_is_lifted_by_two_regulators_through_the_pages(closed, company_b, national_regulator,
                                                              second_national_regulator, client_for):
    decision = decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed,
                                legal_basis=BASIS)
    decision_approve(actor=second_national_regulator, decision=decision)
    page = f"/enforcement/decisions/{decision.pk}/"
    maker = client_for(second_national_regulator)
    assert 'id="lift"' in maker.get(page).content.decode()
    refused = maker.post(f"{page}lift/", {"note": ""})
    assert refused.status_code == 400 and 'id="decision-error"' in refused.content.decode()
    assert maker.post(f"{page}lift/", {"note": "Surrendered the shortfall"}).status_code == 302
    own = maker.get(page).content.decode()
    assert 'id="lift-approve"' not in own and 'id="awaiting-checker"' in own and "Surrendered the shortfall" in own
    waiting = f"Approve or reject lifting the production halt {decision.reference}"
    assert waiting not in maker.get("/regulator/").content.decode()
    assert waiting in client_for(national_regulator).get("/regulator/").content.decode()
    assert maker.post(f"{page}lift/approve/").status_code == 403  # the lift's proposer
    assert Decision.objects.get().status == "lifting"
    checker = client_for(national_regulator)
    assert 'id="lift-approve"' in checker.get(page).content.decode()
    assert checker.post(f"{page}lift/approve/", {"note": "Checked"}).status_code == 302
    assert Decision.objects.get().status == "lifted"
    assert 'id="halt-notice"' not in client_for(officer_of(company_b)).get("/enforcement/").content.decode()


def test_a_company_sees_its_own_decisions_and_halt_and_not_anothers(closed, company_a, company_b, national_regulator,
                                                                     second_national_regulator, client_for):
    decision = decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed,
                                legal_basis=BASIS)
    decision_approve(actor=second_national_regulator, decision=decision)
    own = client_for(officer_of(company_b)).get("/enforcement/")
    assert decision.reference in own.content.decode() and 'id="halt-notice"' in own.content.decode()
    other = client_for(officer_of(company_a))
    assert decision.reference not in other.get("/enforcement/").content.decode()
    assert other.get(f"/enforcement/decisions/{decision.pk}/").status_code == 404


def test_the_halt_is_flagged_in_the_regulators_compliance_table(closed, company_b, national_regulator,
                                                                second_national_regulator, client_for):
    decision = decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed,
                                legal_basis=BASIS)
    page = client_for(national_regulator).get("/reports/compliance/2021/").content.decode()
    assert "halt-flag" not in page
    decision_approve(actor=second_national_regulator, decision=decision)
    page = client_for(national_regulator).get("/reports/compliance/2021/").content.decode()
    assert page.count("halt-flag") == 1


def test_a_disclosure_is_published_once_a_regulator_confirms_it(closed, company_b, national_regulator, client_for, client):
    officer = client_for(officer_of(company_b))
    body = {"period": closed.pk, "emissions": "100000", "facilities": "Unit 1, 600 MW coal", "methods": "Calculation, measured carbon content"}
    assert officer.post("/enforcement/disclosure/", {**body, "facilities": ""}).status_code == 400
    assert officer.post("/enforcement/disclosure/", body).status_code == 302
    disclosure = Disclosure.objects.get()
    assert "Unit 1, 600 MW coal" not in client.get("/disclosure/2021/").content.decode()
    regulator = client_for(national_regulator)
    assert regulator.post(f"/enforcement/disclosures/{disclosure.pk}/confirm/").status_code == 302
    assert "Unit 1, 600 MW coal" in client.get("/disclosure/2021/").content.decode()
    page = officer.post("/enforcement/disclosure/", body)
    assert page.status_code == 400 and "published and final" in page.content.decode()


def test_a_returned_disclosure_can_be_corrected(closed, company_b, national_regulator, client_for):
    officer = client_for(officer_of(company_b))
    body = {"period": closed.pk, "emissions": "100000", "facilities": "Unit 1", "methods": "Calculation"}
    officer.post("/enforcement/disclosure/", body)
    disclosure = Disclosure.objects.get()
    client_for(national_regulator).post(f"/enforcement/disclosures/{disclosure.pk}/return/", {"note": "Name the boilers"})
    assert Disclosure.objects.get().status == "returned"
    officer.post("/enforcement/disclosure/", {**body, "facilities": "Unit 1, boilers B1 and B2"})
    assert (Disclosure.objects.get().status, Disclosure.objects.get().facilities) == ("submitted", "Unit 1, boilers B1 and B2")


def test_the_archive_zip_holds_the_periods_records(closed, company_b, national_regulator, auditor, client_for):
    decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed, legal_basis=BASIS)
    response = client_for(auditor).post("/enforcement/archive/", {"period": "2021"})
    job = ExportJob.objects.get(report="archive")
    assert response.status_code == 302 and response["Location"] == f"/reports/exports/{job.pk}/"
    assert job.status == "done"  # the task ran in-process
    download = client_for(auditor).get(f"/reports/exports/{job.pk}/download/")
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    files = {entry["name"]: entry for entry in manifest["files"]}
    assert files["compliance_results.csv"]["rows"] == 2 and files["surrenders.csv"]["rows"] == 2
    assert files["enforcement_decisions.csv"]["rows"] == 1
    assert "production_halt" in archive.read("enforcement_decisions.csv").decode("utf-8-sig")


@pytest.mark.parametrize("role", ["company_trader", "verifier"])
def test_other_roles_cannot_propose(closed, company_a, client_for, role):
    user = user_with_role(Role(role), company_a)
    assert client_for(user).get("/enforcement/decisions/new/").status_code == 403


def test_the_regulators_home_lists_the_decisions_another_regulator_proposed(closed, company_b, national_regulator,
                                                                             second_national_regulator, client_for):
    decision = decision_propose(actor=national_regulator, kind="production_halt", organization=company_b, period=closed,
                                legal_basis=BASIS)
    assert decision.reference not in client_for(national_regulator).get("/regulator/").content.decode()
    assert f"Approve or reject decision {decision.reference}" in client_for(second_national_regulator).get("/regulator/").content.decode()


def test_a_case_is_closed_by_another_regulator_with_a_reason_and_then_takes_no_more_decisions(
        closed, company_b, national_regulator, second_national_regulator, client_for):
    case = case_open(actor=national_regulator, organization=company_b, subject="company", period=closed, summary="x")
    regulator = client_for(national_regulator)
    page = regulator.get(f"/enforcement/cases/{case.pk}/").content.decode()
    assert 'id="close-case"' not in page and 'id="close-by-another"' in page
    assert regulator.post(f"/enforcement/cases/{case.pk}/close/", {"note": "Mine"}).status_code == 403  # the opener
    other = client_for(second_national_regulator)
    assert 'id="close-case"' in other.get(f"/enforcement/cases/{case.pk}/").content.decode()
    refused = other.post(f"/enforcement/cases/{case.pk}/close/", {"note": " "}, follow=True)
    assert "Give the reason the case is closed." in refused.content.decode()
    assert FraudCase.objects.get().status == "open" and not AuditEvent.objects.filter(action="fraud_case.close").exists()
    assert other.post(f"/enforcement/cases/{case.pk}/close/", {"note": "Corrected"}).status_code == 302
    assert FraudCase.objects.get().status == "closed"
    event = AuditEvent.objects.get(action="fraud_case.close")
    assert (event.after["note"], event.actor) == ("Corrected", second_national_regulator)
    response = regulator.post("/enforcement/decisions/new/", {
        "kind": "fraud_fine", "organization": company_b.pk, "period": closed.pk, "case": case.pk, "legal_basis": BASIS,
        "amount": "600000.00"})
    assert response.status_code == 400 and not Decision.objects.exists()  # the case is no longer offered


def test_a_provincial_regulators_archive_holds_its_province_only(closed, company_a, company_b, shandong_regulator,
                                                                  client_for):
    client_for(shandong_regulator).post("/enforcement/archive/", {"period": "2021"})
    job = ExportJob.objects.get(report="archive")
    assert (job.province, job.status) == ("37", "done")
    download = client_for(shandong_regulator).get(f"/reports/exports/{job.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    results = archive.read("compliance_results.csv").decode("utf-8-sig")
    assert company_a.uscc in results and company_b.uscc not in results
