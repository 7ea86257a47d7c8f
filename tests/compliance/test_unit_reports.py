"""A company with several emitting units files one emission report per unit (a cement company with a
captive power unit, a steel works): the officer names the unit, the assigned verifier verifies each
report, the provincial regulator confirms each, and each confirmation records that unit's verified
emissions, from which the company's obligation is worked out unit by unit.

By hand (period 2021): company_a has P1 (power) and K1 (a clinker line, cement). It files P1 70,000 t
and K1 30,000 t; the verifier finds 68,500 t and 31,200 t; confirmed, the company's verified emissions
are 68,500 + 31,200 = 99,700 t."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from allocation.models import Sector
from allocation.units import units_ensure
from compliance.errors import AlreadyRecorded, ReportExists, SeveralUnits, UnknownUnit
from compliance.models import EmissionReport, VerifiedEmission
from compliance.selectors import obligation_of
from compliance.verification import emission_report_confirm, emission_report_file, emission_report_verify
from tests.compliance.helpers import CSV, api_as, officer_of, state, upload
from tests.compliance.test_units_cycle import GASES, verify


@pytest.fixture
def two_units(company_a):
    units = units_ensure([(company_a, "P1", Sector.POWER, "coal_gt300"), (company_a, "K1", Sector.CEMENT, "")])
    return units[(company_a.pk, "P1")], units[(company_a.pk, "K1")]


def test_each_unit_of_a_company_is_filed_verified_and_confirmed_on_its_own(
    two_units, assigned, officer, verifier, shandong_regulator, period, company_a,
):
    power, clinker = two_units
    p1 = emission_report_file(user=officer, period=period, unit="P1", emissions=70_000, attachment=upload())
    k1 = emission_report_file(user=officer, period=period, unit=" k1 ", emissions=30_000, attachment=upload())
    assert (p1.unit, k1.unit) == (power, clinker)

    for report, tonnes in ((p1, 68_500), (k1, 31_200)):
        emission_report_verify(user=verifier, report=report, verified_emissions=tonnes)
        emission_report_confirm(user=shandong_regulator, report=report)

    recorded = {ve.unit.code: ve.tonnes for ve in VerifiedEmission.objects.filter(period=period, organization=company_a)}
    assert recorded == {"P1": 68_500, "K1": 31_200}
    assert set(EmissionReport.objects.values_list("unit__code", "status")) == {("P1", "confirmed"), ("K1", "confirmed")}
    obligation = obligation_of(period, company_a)
    assert obligation.verified_emissions == 68_500 + 31_200 == 99_700
    assert {unit.code: unit.verified_emissions for unit in obligation.units} == {"K1": 31_200, "P1": 68_500}


@pytest.mark.parametrize(("unit", "refusal", "code"), [
    pytest.param("", SeveralUnits, "several_units", id="no-unit-named"),
    pytest.param("Z9", UnknownUnit, "unknown_unit", id="unknown-unit"),
    pytest.param("B1", UnknownUnit, "unknown_unit", id="another-companys-unit"),
])
def test_a_company_with_several_units_must_name_one_of_its_own(two_units, officer, period, company_b, unit, refusal, code):
    units_ensure([(company_b, "B1", Sector.POWER, "")])
    before = state()
    with pytest.raises(refusal) as refused:
        emission_report_file(user=officer, period=period, unit=unit, emissions=1, attachment=upload())
    assert (refused.value.code, refused.value.field) == (code, "unit")
    assert "K1, P1" in refused.value.message
    assert state() == before and not EmissionReport.objects.exists()


def test_a_unit_reports_once_per_period_and_its_sister_unit_still_can(two_units, officer, period):
    emission_report_file(user=officer, period=period, unit="P1", emissions=70_000, attachment=upload())
    with pytest.raises(ReportExists) as refused:
        emission_report_file(user=officer, period=period, unit="P1", emissions=1, attachment=upload())
    assert "unit P1" in refused.value.message
    emission_report_file(user=officer, period=period, unit="K1", emissions=30_000, attachment=upload())
    assert EmissionReport.objects.count() == 2


def test_a_unit_already_recorded_by_a_file_is_not_confirmed_again_but_its_sister_is(
    two_units, assigned, officer, verifier, shandong_regulator, national_regulator, period, company_a,
):
    verify(period, GASES + f"{company_a.uscc},P1,power,50000,,,\n", national_regulator)
    p1 = emission_report_file(user=officer, period=period, unit="P1", emissions=70_000, attachment=upload())
    k1 = emission_report_file(user=officer, period=period, unit="K1", emissions=30_000, attachment=upload())
    for report in (p1, k1):
        emission_report_verify(user=verifier, report=report, verified_emissions=1_000)
    with pytest.raises(AlreadyRecorded) as refused:
        emission_report_confirm(user=shandong_regulator, report=p1)
    assert "unit P1" in refused.value.message
    emission_report_confirm(user=shandong_regulator, report=k1)
    assert dict(VerifiedEmission.objects.values_list("unit__code", "tonnes")) == {"P1": 50_000, "K1": 1_000}


def test_a_company_without_units_files_for_its_default_power_unit(officer, period, company_a):
    report = emission_report_file(user=officer, period=period, emissions=70_000, attachment=upload())
    assert (report.unit.organization, report.unit.code, report.unit.sector) == (company_a, "U1", "power")
    assert report.unit.emission_reports.get() == report


def test_the_api_takes_the_unit_and_answers_a_missing_one_with_a_coded_400(two_units, officer, period):
    client = api_as(officer)
    missing = client.post("/api/v1/emission-reports/", {"period": "2021", "emissions": 1,
                                                         "attachment": SimpleUploadedFile("e.csv", CSV)}, format="multipart")
    assert (missing.status_code, missing.json()["code"], missing.json()["field"]) == (400, "several_units", "unit")
    filed = client.post("/api/v1/emission-reports/", {"period": "2021", "unit": "K1", "emissions": 30_000,
                                                       "attachment": SimpleUploadedFile("e.csv", CSV)}, format="multipart")
    assert filed.status_code == 201, filed.json()
    assert (filed.json()["unit"], filed.json()["emissions"]) == ("K1", 30_000)
    listed = client.get("/api/v1/emission-reports/").json()["results"]
    assert [(row["unit"], row["status"]) for row in listed] == [("K1", "filed")]


def test_the_filing_page_offers_the_units_only_to_a_company_that_has_several(two_units, period, company_a, company_b, client):
    client.force_login(officer_of(company_a))
    page = client.get("/compliance/reports/new/")
    assert page.status_code == 200
    assert b'name="unit"' in page.content and b'value="K1"' in page.content and b'value="P1"' in page.content
    refused = client.post("/compliance/reports/new/", {"period": "2021", "unit": "", "emissions": "1",
                                                       "attachment": SimpleUploadedFile("e.csv", CSV)})
    assert refused.status_code == 400 and not EmissionReport.objects.exists()
    filed = client.post("/compliance/reports/new/", {"period": "2021", "unit": "K1", "emissions": "30000",
                                                     "attachment": SimpleUploadedFile("e.csv", CSV)})
    assert filed.status_code == 302
    assert EmissionReport.objects.get().unit.code == "K1"

    client.force_login(officer_of(company_b))  # one unit or none: nothing to choose
    assert b'name="unit"' not in client.get("/compliance/reports/new/").content


@pytest.mark.django_db(transaction=True)
def test_racing_filings_make_one_report_per_unit_and_leave_no_stray_attachment(company_a, national_regulator, settings):
    """Eight filings at once, six for P1 and two for K1: one report each; the others are refused
    `report_exists`, and their attachments, written before the row, are removed again."""
    import threading
    from pathlib import Path

    from django.db import connection

    from allocation.services import period_create
    from registry.models import Asset

    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           actor=national_regulator)
    units_ensure([(company_a, "P1", Sector.POWER, "coal_gt300"), (company_a, "K1", Sector.CEMENT, "")])
    officer = officer_of(company_a)
    start, outcomes, lock = threading.Barrier(8), [], threading.Lock()

    def file(unit: str) -> None:
        try:
            start.wait(timeout=30)
            emission_report_file(user=officer, period=period, unit=unit, emissions=1_000, attachment=upload())
            outcome = "filed"
        except ReportExists:
            outcome = "report_exists"
        finally:
            connection.close()
        with lock:
            outcomes.append((unit, outcome))

    threads = [threading.Thread(target=file, args=("P1" if n < 6 else "K1",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == sorted([("P1", "filed"), *[("P1", "report_exists")] * 5, ("K1", "filed"), ("K1", "report_exists")])
    assert sorted(EmissionReport.objects.values_list("unit__code", flat=True)) == ["K1", "P1"]
    stored = [path for path in Path(settings.MEDIA_ROOT, "emission-reports", str(period.pk)).iterdir() if path.is_file()]
    assert sorted(path.name for path in stored) == sorted(Path(report.attachment.name).name for report in EmissionReport.objects.all())


def test_the_officer_and_the_verifier_see_which_units_have_not_filed(two_units, assigned, officer, verifier, period, client):
    from compliance.selectors import units_to_report, verifier_queue

    assert units_to_report(officer.memberships.get().organization) == [(period, ["K1", "P1"])]
    emission_report_file(user=officer, period=period, unit="P1", emissions=70_000, attachment=upload())
    organization = officer.memberships.get().organization
    assert units_to_report(organization) == [(period, ["K1"])]
    ((assignment, reports, missing),) = verifier_queue(verifier)
    assert ([report.unit.code for report in reports], missing) == (["P1"], ["K1"])

    client.force_login(officer)
    assert "Still to file for 2021: unit K1." in client.get("/compliance/surrender/").content.decode()
    client.force_login(verifier)
    assert "No report yet for unit K1." in client.get("/compliance/verifier/").content.decode()
    emission_report_file(user=officer, period=period, unit="K1", emissions=30_000, attachment=upload())
    assert units_to_report(organization) == [] and verifier_queue(verifier)[0][2] == []
