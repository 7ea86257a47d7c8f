"""An officer files an emission report with its attachment (for one of its company's two units), the
assigned verifier verifies it, the provincial regulator confirms it, the obligation shows the verified
figure, and the officer surrenders through the page (submitted with the keyboard)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Organization
from accounts.roles import Role
from allocation.models import Sector
from allocation.services import period_create
from allocation.units import units_ensure
from compliance.models import EmissionReport, Surrender
from compliance.verification import verifier_assign
from registry.models import Asset
from tests.auth import browser_login
from tests.compliance.helpers import PDF, officer_of, plan_issue
from tests.factories import OrganizationFactory, user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def logged_in(browser, live_server, user):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    browser_login(page, live_server.url, user.username)
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_a_report_is_filed_verified_confirmed_and_the_obligation_surrendered(
    browser, live_server, screenshot, tmp_path, company_a, shandong_regulator, national_regulator, second_national_regulator
):
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)
    verifier = user_with_role(Role.VERIFIER, OrganizationFactory(
        name="China Quality Certification Centre", kind=Organization.Kind.INSTITUTION, sector="services"))
    verifier_assign(period=period, organization=company_a, verifier=verifier, actor=shandong_regulator)
    units_ensure([(company_a, "K1", Sector.CEMENT, "")])  # a clinker line beside the power unit U1 the plan made
    officer = officer_of(company_a)
    attachment = tmp_path / "emissions-2021.pdf"
    attachment.write_bytes(PDF)

    # The compliance officer files the report.
    page = logged_in(browser, live_server, officer)
    page.goto(f"{live_server.url}/compliance/reports/new/")
    page.get_by_label("Compliance period").select_option("2021")
    page.get_by_label("Unit").select_option("U1")
    page.get_by_label("Emissions (tCO2e)").fill("70000")
    page.get_by_label("Attachment").set_input_files(str(attachment))
    screenshot(page, "compliance-report-new")
    page.get_by_role("button", name="File the report").click()
    expect(page.locator("#report-status")).to_have_text("Filed, awaiting verification")
    expect(page.get_by_role("link", name="emissions-2021.pdf")).to_be_visible()
    report = EmissionReport.objects.get()
    assert report.unit.code == "U1"

    # The assigned verifier verifies it.
    checker = logged_in(browser, live_server, verifier)
    checker.goto(f"{live_server.url}/compliance/verifier/")
    checker.get_by_label("Verified emissions (tCO2e)").fill("68500")
    screenshot(checker, "compliance-verifier-queue")
    checker.get_by_role("button", name=f"Verify {company_a.name}").click()
    expect(checker.locator(".messages")).to_contain_text(f"Verified emissions of {company_a.name}, unit U1 entered.")

    # The provincial regulator confirms it.
    regulator = logged_in(browser, live_server, shandong_regulator)
    regulator.goto(f"{live_server.url}/compliance/regulator/")
    expect(regulator.locator(f"#report-{report.pk}")).to_contain_text("68500")
    screenshot(regulator, "compliance-regulator-queue")
    regulator.get_by_role("button", name=f"Confirm {company_a.name}").click()
    expect(regulator.locator(".messages")).to_contain_text(f"Verified emissions of {company_a.name}, unit U1 confirmed.")

    # The officer sees the verified figure in its obligation, and surrenders with the keyboard.
    page.goto(f"{live_server.url}/compliance/reports/{report.pk}/")
    expect(page.locator("#report-status")).to_have_text("Confirmed")
    page.goto(f"{live_server.url}/compliance/surrender/")
    expect(page.locator("#obligation-2021 .verified")).to_have_text("68500")
    page.get_by_label("Compliance period").select_option("2021")
    page.get_by_label("Asset").select_option("CEA21")
    quantity = page.get_by_label("Quantity (t)")
    quantity.focus()
    page.keyboard.type("50000")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Surrendered 50,000 t of CEA21 for 2021.")
    expect(page.locator("#obligation-2021")).to_contain_text("18500")  # shortfall: 68,500 - 50,000
    screenshot(page, "compliance-surrender")
    assert Surrender.objects.get().quantity == 50_000


def test_a_refused_surrender_shows_its_reason_next_to_the_field(browser, live_server, company_a, national_regulator):
    period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                  surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)
    page = logged_in(browser, live_server, officer_of(company_a))
    page.goto(f"{live_server.url}/compliance/surrender/")
    page.get_by_label("Quantity (t)").fill("10")
    page.get_by_role("button", name="Surrender").click()
    expect(page.locator("#id_period_error")).to_contain_text("no verified emissions")
    expect(page.get_by_label("Compliance period")).to_have_attribute("aria-invalid", "true")
    assert not Surrender.objects.exists()
