"""The compliance pages under /compliance/: the officer's surrender page and emission reports, the
verifier's queue and the provincial regulator's confirmation queue, each within its scope."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organization
from accounts.roles import Role
from compliance.models import EmissionReport, Surrender, VerifiedEmission
from compliance.verification import emission_report_object
from tests.auth import login
from tests.compliance.helpers import CSV, PDF, ccer_give, officer_of, plan_issue
from tests.factories import OrganizationFactory, user_with_role


def as_user(client, user):
    login(client, user)
    return client


def no_inline_script(html: str) -> None:
    assert "<script>" not in html and "<script " not in html.replace('<script src="', "") and " onclick=" not in html


@pytest.fixture
def allocated(period, company_a, national_regulator, second_national_regulator):
    """company_a holds 57,526 CEA21 (70 % of 100,000 MWh x 0.8218)."""
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)


# --- the compliance officer ---


def test_compliance_sends_each_role_to_its_page(client, officer, verifier, shandong_regulator, exchange_operator):
    assert as_user(client, officer).get("/compliance/").url == "/compliance/surrender/"
    assert as_user(client, verifier).get("/compliance/").url == "/compliance/verifier/"
    assert as_user(client, shandong_regulator).get("/compliance/").url == "/compliance/regulator/"
    assert as_user(client, exchange_operator).get("/compliance/").status_code == 403


def test_the_surrender_page_shows_the_obligation_and_holdings(client, allocated, verified, shandong_regulator, officer):
    from compliance.verification import emission_report_confirm

    emission_report_confirm(user=shandong_regulator, report=verified)
    response = as_user(client, officer).get("/compliance/surrender/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="obligation-2021"' in page and "68500" in page  # verified emissions = the obligation (below the cap)
    assert "57526" in page  # available CEA21
    assert 'name="client_request_id"' in page
    no_inline_script(page)


def test_a_surrender_through_the_page_retires_the_units(client, allocated, period, company_a, shandong_regulator, verified,
                                                        officer):
    from compliance.verification import emission_report_confirm

    emission_report_confirm(user=shandong_regulator, report=verified)
    body = {"period": "2021", "asset": "CEA21", "quantity": "50000", "client_request_id": "page-1"}
    response = as_user(client, officer).post("/compliance/surrender/", body)
    assert (response.status_code, response.url) == (302, "/compliance/surrender/")
    assert Surrender.objects.get().quantity == 50_000
    client.post("/compliance/surrender/", body)  # submitted twice: surrendered once
    assert Surrender.objects.count() == 1
    assert "Surrendered 50,000 t of CEA21 for 2021." in client.get("/compliance/surrender/").content.decode()


def test_a_refused_surrender_shows_the_reason_next_to_the_quantity(client, allocated, officer, company_a,
                                                                   national_regulator, verified, shandong_regulator):
    from compliance.verification import emission_report_confirm

    emission_report_confirm(user=shandong_regulator, report=verified)
    ccer_give(company_a, 10_000, national_regulator)
    response = as_user(client, officer).post("/compliance/surrender/", {
        "period": "2021", "asset": "CCER", "quantity": "5000", "client_request_id": "too-many-offsets"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["quantity"][0].startswith("Offsets may cover 3,425 t")
    assert form.has_error("quantity", code="offset_cap_exceeded")
    assert 'id="id_quantity_error"' in response.content.decode()
    assert not Surrender.objects.exists()


@pytest.mark.parametrize("role", [Role.COMPANY_TRADER, Role.AUDITOR, Role.EXCHANGE_OPERATOR])
def test_only_a_compliance_officer_has_the_surrender_page(client, company_a, role):
    assert as_user(client, user_with_role(role, company_a)).get("/compliance/surrender/").status_code == 403


def test_an_officer_files_a_report_with_an_attachment(client, period, officer, company_a):
    response = as_user(client, officer).post("/compliance/reports/new/", {
        "period": "2021", "emissions": "70000", "attachment": SimpleUploadedFile("emissions.csv", CSV)})
    report = EmissionReport.objects.get()
    assert (response.status_code, response.url) == (302, f"/compliance/reports/{report.pk}/")
    assert (report.organization, report.emissions, report.attachment_kind) == (company_a, 70_000, "csv")
    page = client.get(response.url).content.decode()
    assert "emissions.csv" in page and "Filed, awaiting verification" in page and "emission_report.file" in page
    no_inline_script(page)
    download = client.get(f"/compliance/reports/{report.pk}/file/")
    assert download["Content-Type"] == "text/csv"
    assert b"".join(download.streaming_content) == CSV
    assert 'filename="emissions.csv"' in download["Content-Disposition"]


def test_a_refused_attachment_is_named_next_to_the_field(client, period, officer):
    response = as_user(client, officer).post("/compliance/reports/new/", {
        "period": "2021", "emissions": "70000", "attachment": SimpleUploadedFile("report.pdf", b"MZ\x90\x00binary")})
    assert response.status_code == 400
    assert response.context["form"].has_error("attachment", code="attachment_type")
    assert 'id="id_attachment_error"' in response.content.decode()
    assert not EmissionReport.objects.exists()


def test_another_organizations_report_is_a_404(client, report, company_b):
    other = as_user(client, officer_of(company_b))
    assert other.get(f"/compliance/reports/{report.pk}/").status_code == 404
    assert other.get(f"/compliance/reports/{report.pk}/file/").status_code == 404
    assert other.post(f"/compliance/reports/{report.pk}/object/", {"reason": "x"}).status_code == 404


def test_the_officer_objects_from_the_report_page(client, verified, officer):
    page = as_user(client, officer).get(f"/compliance/reports/{verified.pk}/").content.decode()
    assert f'action="/compliance/reports/{verified.pk}/object/"' in page
    empty = client.post(f"/compliance/reports/{verified.pk}/object/", {"reason": ""})
    assert empty.status_code == 400 and empty.context["objection"].errors["reason"]
    response = client.post(f"/compliance/reports/{verified.pk}/object/", {"reason": "Unit 2 was shut down"})
    assert response.status_code == 302
    verified.refresh_from_db()
    assert (verified.status, verified.objection_reason) == ("objected", "Unit 2 was shut down")
    assert "/object/" not in client.get(f"/compliance/reports/{verified.pk}/").content.decode()  # once only


# --- the verifier ---


def test_the_verifier_sees_its_assigned_units_and_verifies_one(client, report, verifier, company_a):
    page = as_user(client, verifier).get("/compliance/verifier/").content.decode()
    assert company_a.name in page and f"/compliance/verifier/reports/{report.pk}/verify/" in page
    no_inline_script(page)
    assert client.get(f"/compliance/reports/{report.pk}/").status_code == 200
    response = client.post(f"/compliance/verifier/reports/{report.pk}/verify/",
                           {f"r{report.pk}-verified_emissions": "68500", f"r{report.pk}-note": "Meters checked"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.verified_emissions, report.verified_by) == ("verified", 68_500, verifier)


def test_a_bad_verified_figure_is_shown_next_to_its_field(client, report, verifier):
    response = as_user(client, verifier).post(f"/compliance/verifier/reports/{report.pk}/verify/",
                                              {f"r{report.pk}-verified_emissions": "-5"})
    assert response.status_code == 400
    assert f'id="id_r{report.pk}-verified_emissions_error"' in response.content.decode()
    report.refresh_from_db()
    assert report.status == "filed"


def test_a_verifier_not_assigned_to_the_unit_gets_404(client, report, verifier_body):
    stranger = as_user(client, user_with_role(Role.VERIFIER, verifier_body))
    assert report.organization.name not in stranger.get("/compliance/verifier/").content.decode()
    assert stranger.get(f"/compliance/reports/{report.pk}/").status_code == 404
    response = stranger.post(f"/compliance/verifier/reports/{report.pk}/verify/", {f"r{report.pk}-verified_emissions": "1"})
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == "filed"


def test_the_verifier_page_is_for_verifiers(client, officer):
    assert as_user(client, officer).get("/compliance/verifier/").status_code == 403


# --- the provincial regulator ---


def test_the_regulator_confirms_from_its_queue(client, verified, shandong_regulator, company_a, period):
    page = as_user(client, shandong_regulator).get("/compliance/regulator/").content.decode()
    assert company_a.name in page and f"/compliance/regulator/reports/{verified.pk}/confirm/" in page
    no_inline_script(page)
    response = client.post(f"/compliance/regulator/reports/{verified.pk}/confirm/")
    assert response.status_code == 302
    assert VerifiedEmission.objects.get(organization=company_a, period=period).tonnes == 68_500
    assert f"/reports/{verified.pk}/confirm/" not in client.get("/compliance/regulator/").content.decode()  # done


def test_a_refused_confirmation_says_why_on_the_queue(client, verified, officer, shandong_regulator, period, company_a):
    from tests.compliance.helpers import verify

    verify(period, shandong_regulator, {company_a: 1_000})  # already recorded by a file
    response = as_user(client, shandong_regulator).post(f"/compliance/regulator/reports/{verified.pk}/confirm/")
    assert response.status_code == 400
    assert "already has verified emissions" in response.content.decode()


def test_the_regulator_decides_an_objection_from_its_queue(client, verified, officer, shandong_regulator):
    emission_report_object(user=officer, report=verified, reason="Too high")
    page = as_user(client, shandong_regulator).get("/compliance/regulator/").content.decode()
    assert f"/compliance/regulator/reports/{verified.pk}/decide/" in page and "Too high" in page
    missing = client.post(f"/compliance/regulator/reports/{verified.pk}/decide/", {f"r{verified.pk}-decision": "upheld"})
    assert missing.status_code == 400
    assert f'id="id_r{verified.pk}-corrected_emissions_error"' in missing.content.decode()
    response = client.post(f"/compliance/regulator/reports/{verified.pk}/decide/",
                           {f"r{verified.pk}-decision": "upheld", f"r{verified.pk}-corrected_emissions": "60000"})
    assert response.status_code == 302
    verified.refresh_from_db()
    assert (verified.status, verified.verified_emissions) == ("verified", 60_000)


def test_a_regulator_of_another_province_sees_nothing_and_gets_404(client, verified):
    jiangsu = OrganizationFactory(name="Jiangsu DEE", kind=Organization.Kind.INSTITUTION, sector="government", province="32")
    other = as_user(client, user_with_role(Role.PROVINCIAL_REGULATOR, jiangsu))
    assert verified.organization.name not in other.get("/compliance/regulator/").content.decode()
    assert other.post(f"/compliance/regulator/reports/{verified.pk}/confirm/").status_code == 404
    assert not VerifiedEmission.objects.exists()


@pytest.mark.parametrize("who", ["officer", "verifier"])
def test_the_regulator_page_is_not_for_companies_or_verifiers(client, verified, request, who):
    user = as_user(client, request.getfixturevalue(who))
    assert user.get("/compliance/regulator/").status_code == 403
    assert user.post(f"/compliance/regulator/reports/{verified.pk}/confirm/").status_code == 403


@pytest.mark.parametrize("who", ["auditor", "national_regulator"])
def test_the_national_regulator_and_auditors_follow_the_queue_without_acting(client, verified, officer, request, who):
    """RULEBOOK: they see every province; confirming is the provincial regulator's."""
    emission_report_object(user=officer, report=verified, reason="Too high")
    user = as_user(client, request.getfixturevalue(who))
    assert user.get("/compliance/").url == "/compliance/regulator/"
    page = user.get("/compliance/regulator/").content.decode()
    assert verified.organization.name in page and "Too high" in page and "You follow the queue" in page
    assert "/confirm/" not in page and "/decide/" not in page and "<form method=\"post\" action=\"/compliance" not in page
    assert user.post(f"/compliance/regulator/reports/{verified.pk}/confirm/").status_code == 403
    assert user.post(f"/compliance/regulator/reports/{verified.pk}/decide/",
                     {f"r{verified.pk}-decision": "upheld", f"r{verified.pk}-corrected_emissions": "1"}).status_code == 403
    verified.refresh_from_db()
    assert verified.status == EmissionReport.Status.OBJECTED


def test_pages_need_a_login(client, report):
    for url in ("/compliance/", "/compliance/surrender/", "/compliance/reports/new/", f"/compliance/reports/{report.pk}/",
                "/compliance/verifier/", "/compliance/regulator/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), url


def test_an_auditor_reads_a_report_but_cannot_act(client, verified, auditor):
    page = as_user(client, auditor).get(f"/compliance/reports/{verified.pk}/").content.decode()
    assert "68500" in page and "/object/" not in page


def test_a_pdf_attachment_downloads_as_pdf(client, report, officer):
    download = as_user(client, officer).get(f"/compliance/reports/{report.pk}/file/")
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF


def test_the_compliance_pages_speak_chinese(client, officer, verifier, report):
    page = as_user(client, officer).get("/compliance/surrender/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "履约义务" in page and "可用持仓" in page and "提交排放报告" in page and "Obligations" not in page
    assert "或 CCER 抵销（不超过履约义务的 5%）" in page
    queue = as_user(client, verifier).get("/compliance/verifier/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待核查" in queue and "核查排放量（吨二氧化碳当量）" in queue


def test_the_surrender_forms_offset_share_is_the_configured_one(client, officer, settings):
    """The share is a setting, and the text a python-format entry ("%(share)s%%"): a bare "5 %" reads
    to gettext as a format, and the entry would drop from the catalogue."""
    settings.COMPLIANCE_OFFSET_SHARE = Decimal("0.025")
    page = as_user(client, officer).get("/compliance/surrender/").content.decode()
    assert "or CCER offsets (at most 2.5% of the obligation)" in page
    page = as_user(client, officer).get("/compliance/surrender/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "或 CCER 抵销（不超过履约义务的 2.5%）" in page
