"""Enforcement in the browser: a regulator proposes a forced surrender (a quantity above the shortfall is
refused next to its field), a second regulator approves it on the decision's page and the surrenders
appear; the company sees the decision in its history. A compliance officer submits its annual
disclosure, a regulator confirms it, and it appears on the public disclosure page. axe finds no
serious violation on the regulator's enforcement page."""

import pytest
from playwright.sync_api import expect

from compliance.models import Surrender
from enforcement.models import Decision
from tests.auth import browser_login
from tests.compliance.helpers import officer_of
from tests.e2e.axe import serious_violations
from tests.enforcement.conftest import SHORTFALL, closed, next_period, period  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def logged_in(browser, live_server, user):
    # bypass_csp: the test injects axe-core into the page.
    page = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True).new_page()
    browser_login(page, live_server.url, user.username)
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_a_forced_surrender_is_proposed_approved_and_shown_to_the_company(
    browser, live_server, screenshot, closed, company_b, national_regulator, second_national_regulator  # noqa: F811
):
    maker = logged_in(browser, live_server, national_regulator)
    maker.goto(f"{live_server.url}/enforcement/")
    maker.get_by_role("link", name="Propose a decision").click()
    maker.locator("#id_kind").select_option("forced_surrender")
    maker.locator("#id_organization").select_option(str(company_b.pk))
    maker.locator("#id_period").select_option(str(closed.pk))
    maker.get_by_label("Legal basis").fill("Interim Regulations, Art. 21")
    maker.get_by_label("Quantity (t)").fill(str(SHORTFALL + 1))
    maker.get_by_role("button", name="Propose").click()
    expect(maker.locator("#decision-form")).to_contain_text("at most the shortfall, 27,526 t")
    assert not Decision.objects.exists()
    maker.get_by_label("Quantity (t)").fill("9000")
    screenshot(maker, "enforcement-propose")
    maker.get_by_role("button", name="Propose").click()
    expect(maker.locator("#decision-status")).to_have_text("Proposed, awaiting approval")
    expect(maker.locator("#awaiting-checker")).to_be_visible()
    decision = Decision.objects.get()

    checker = logged_in(browser, live_server, second_national_regulator)
    checker.goto(f"{live_server.url}/enforcement/decisions/{decision.pk}/")
    checker.get_by_label("Note (optional)").fill("Holdings confirmed")
    checker.get_by_role("button", name="Approve and carry out").click()
    expect(checker.locator("#decision-status")).to_have_text("Approved")
    expect(checker.locator("#forced-surrenders")).to_contain_text("CEA21")
    expect(checker.locator("#forced-surrenders")).to_contain_text("7,526")
    screenshot(checker, "enforcement-decision-approved")
    assert sum(Surrender.objects.filter(client_request_id__startswith=decision.reference).values_list("quantity", flat=True)) == 9_000

    company = logged_in(browser, live_server, officer_of(company_b))
    company.goto(f"{live_server.url}/enforcement/")
    expect(company.locator(f"#decision-{decision.pk}")).to_contain_text("Forced surrender")
    expect(company.locator(f"#decision-{decision.pk}")).to_contain_text("9,000 t")


def test_a_disclosure_is_submitted_confirmed_and_published(
    browser, live_server, screenshot, closed, company_b, national_regulator  # noqa: F811
):
    officer = logged_in(browser, live_server, officer_of(company_b))
    officer.goto(f"{live_server.url}/enforcement/disclosure/")
    officer.get_by_label("Compliance period").select_option(str(closed.pk))
    officer.get_by_label("Emissions (tCO2e)").fill("100000")
    officer.get_by_label("Emitting facilities").fill("Unit 1, 600 MW supercritical coal")
    officer.get_by_label("Methods").fill("Fuel consumption x measured carbon content")
    officer.get_by_role("button", name="Submit the disclosure").click()
    expect(officer.locator("#my-disclosures")).to_contain_text("Submitted, awaiting confirmation")

    regulator = logged_in(browser, live_server, national_regulator)
    regulator.goto(f"{live_server.url}/enforcement/")
    assert serious_violations(regulator) == []
    screenshot(regulator, "enforcement-index")
    regulator.get_by_role("button", name="Confirm and publish").click()
    expect(regulator.locator(".messages")).to_contain_text("is published")

    public = browser.new_context().new_page()
    public.goto(f"{live_server.url}/disclosure/2021/")
    expect(public.locator("#art11-table")).to_contain_text("Unit 1, 600 MW supercritical coal")
    expect(public.locator("#art11-table")).to_contain_text("100,000")
