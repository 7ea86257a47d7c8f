"""An auditor opens the compliance table of a period in which a company has three units of two sectors:
the company's row breaks its obligation down by unit (in the browser, at 1366x768, no serious axe
violation)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from allocation.services import period_create
from registry.models import Asset
from tests.compliance.test_units_cycle import three_units_allocated
from tests.e2e.axe import serious_violations
from tests.e2e.test_login_and_holdings import login
from tests.factories import OrganizationFactory, make_uscc

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_compliance_table_breaks_a_company_down_by_unit(browser, live_server, screenshot, auditor, national_regulator,
                                                            second_national_regulator):
    period = period_create(code="2024", first_year=2024, last_year=2024, vintages=[Asset.objects.get(code="CEA24")],
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=30), actor=national_regulator)
    company = OrganizationFactory(name="Hunan Power & Aluminium Co., Ltd.", province="43", uscc=make_uscc("43"))
    three_units_allocated(period, company, national_regulator, second_national_regulator)

    page = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()  # (to inject axe)
    login(page, live_server, auditor.username)
    page.goto(f"{live_server.url}/reports/compliance/2024/")
    row = page.locator("#compliance-table tbody tr").filter(has_text=company.uscc)
    expect(row).to_contain_text("257,700")  # verified emissions: the sum of its units
    units = row.locator("details.units")
    expect(units.locator("summary")).to_have_text("3 emitting units")
    expect(units.locator("li").first).not_to_be_visible()
    units.locator("summary").click()
    expect(units.locator("li")).to_have_text([
        "A1 (Aluminium): allocated 117,700 t, verified 117,700 t, obligation 117,700 t",
        "P1 (Power): allocated 81,770 t, verified 90,000 t, obligation 90,000 t",
        "P2 (Power): allocated 39,010 t, verified 50,000 t, obligation 39,010 t",
    ])
    screenshot(page, "reports-compliance-units")
    assert serious_violations(page) == []
