"""The offset registry in the browser: two national regulators register a project and issue its credits
(maker-checker); the company cancels chosen serials and gets a certificate; anyone verifies it."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.compliance.helpers import officer_of
from tests.e2e.test_login_and_holdings import login
from tests.factories import user_with_role
from tests.offsets.helpers import ccer_issue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def page_for(browser, live_server, user=None):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    if user is not None:
        login(page, live_server, user.username)
    return page


def test_two_regulators_register_a_project_and_issue_its_credits(browser, live_server, screenshot, company_a):
    maker = user_with_role(Role.NATIONAL_REGULATOR)
    checker = user_with_role(Role.NATIONAL_REGULATOR)
    page = page_for(browser, live_server, maker)
    page.goto(f"{live_server.url}/offsets/regulator/")
    expect(page.get_by_role("heading", name="Offset registry: regulator")).to_be_visible()

    page.get_by_text("Add a methodology").click()
    page.fill("#id_methodology-code", "CCER-14-002-V01")
    page.fill("#id_methodology-name", "Mangrove restoration")
    page.fill("#id_methodology-sector", "forestry")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Methodology CCER-14-002-V01 added.")

    page.get_by_text("Register a project").click()
    page.fill("#id_project-identifier", "CCER-2024-0007")
    page.fill("#id_project-name", "Zhanjiang mangroves")
    page.select_option("#id_project-owner", label=str(company_a))
    page.select_option("#id_project-province", value="44")
    page.select_option("#id_project-methodology", label="CCER-14-002-V01 Mangrove restoration")
    page.fill("#id_project-crediting_start", "2024-01-01")
    page.fill("#id_project-crediting_end", "2043-12-31")
    page.fill("#id_project-registration_date", "2024-03-01")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Project CCER-2024-0007 registered.")

    page.select_option("#id_issuance-project", label="CCER-2024-0007 Zhanjiang mangroves")
    page.fill("#id_issuance-vintage", "2024")
    page.fill("#id_issuance-monitoring_start", "2024-01-01")
    page.fill("#id_issuance-monitoring_end", "2024-12-31")
    page.fill("#id_issuance-quantity", "12,000")
    page.get_by_role("button", name="Propose", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("another regulator must approve it")
    # The maker's own approval is refused, next to the decision.
    page.locator("#pending").get_by_role("button", name="Approve and issue").click()
    expect(page.get_by_role("alert")).to_contain_text("other than the one who proposed it")
    screenshot(page, "offsets-regulator-maker")

    page = page_for(browser, live_server, checker)
    page.goto(f"{live_server.url}/offsets/regulator/")
    page.locator("#pending").get_by_role("button", name="Approve and issue").click()
    expect(page.locator(".messages")).to_contain_text("approved and issued")
    expect(page.locator("#issued")).to_contain_text("000000000001–000000012000")
    expect(page.locator("#pending")).to_contain_text("Nothing awaits approval.")
    screenshot(page, "offsets-regulator-checker")

    public = page_for(browser, live_server)
    public.goto(f"{live_server.url}/offsets/")
    public.get_by_role("link", name="CCER-2024-0007").click()
    expect(public.locator("#figures .issued")).to_have_text("12000")
    expect(public.locator("#figures .remaining")).to_have_text("12000")


def test_a_company_cancels_chosen_serials_and_anyone_verifies_the_certificate(browser, live_server, screenshot, company_a,
                                                                               national_regulator):
    issuance = ccer_issue(company_a, 1_000, national_regulator)
    officer = officer_of(company_a)
    page = page_for(browser, live_server, officer)
    page.get_by_role("link", name="Offsets").click()
    expect(page.get_by_role("heading", name="My projects and credits")).to_be_visible()
    expect(page.locator("#blocks")).to_contain_text("000000000001–000000001000")
    expect(page.locator("#my-projects")).to_contain_text(issuance.project.identifier)

    page.select_option("#id_asset", "CCER")
    page.fill("#id_quantity", "100")
    page.fill("#id_purpose", "Carbon-neutral annual meeting 2026")
    page.fill("#id_blocks", "201-250, 601-650")
    page.get_by_role("button", name="Cancel and issue the certificate").click()
    expect(page.get_by_role("heading", name="Cancellation certificate")).to_be_visible()
    number = page.locator("#certificate-number").inner_text()
    expect(page.locator("#ranges")).to_contain_text("000000000201–000000000250")
    expect(page.locator("#ranges")).to_contain_text("000000000601–000000000650")
    screenshot(page, "offsets-certificate")

    page.goto(f"{live_server.url}/offsets/mine/")
    expect(page.locator("#blocks")).to_contain_text("000000000251–000000000600")
    page.select_option("#id_asset", "CCER")
    page.fill("#id_quantity", "10")
    page.fill("#id_purpose", "A product")
    page.fill("#id_blocks", "201-210")  # already cancelled
    page.get_by_role("button", name="Cancel and issue the certificate").click()
    expect(page.locator(".error, .errorlist")).to_contain_text("does not hold serial numbers 000000000201 to 000000000210")

    visitor = page_for(browser, live_server)
    visitor.goto(f"{live_server.url}/offsets/certificates/{number}/")
    expect(visitor.get_by_role("heading", name="Verified: this cancellation is recorded in the national registry")).to_be_visible()
    expect(visitor.locator(".purpose")).to_have_text("Carbon-neutral annual meeting 2026")
    expect(visitor.locator(".quantity")).to_have_text("100 t")
    visitor.goto(f"{live_server.url}/offsets/serials/?serial=222")
    expect(visitor.locator(".holder")).to_have_text("Voluntary cancellation account")
    screenshot(visitor, "offsets-serial-search")
