"""An auditor opens the compliance table in the browser, filters it to a province and downloads the CSV."""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.test_login_and_holdings import login
from tests.reports.conftest import (  # noqa: F401 (fixtures)
    FORMULA_NAME,
    closed_period,
    company_c,
    formula_unit,
    period,
    surrendered,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_auditor_filters_the_compliance_table_and_downloads_the_csv(
    page, live_server, screenshot, auditor, closed_period, company_a, company_b, formula_unit  # noqa: F811
):
    login(page, live_server, auditor.username)
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Open the compliance table").click()
    expect(page.get_by_role("heading", name="Compliance 2021")).to_be_visible()
    table = page.locator("#compliance-table tbody")
    expect(table.locator("tr")).to_have_count(4)
    expect(table).to_contain_text(company_b.uscc)

    page.get_by_label("Province").select_option("37")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="Compliance 2021 · Shandong")).to_be_visible()
    expect(table.locator("tr")).to_have_count(2)
    expect(table).not_to_contain_text(company_b.uscc)
    expect(page.locator("#compliance-table tfoot")).to_contain_text("115,052")
    screenshot(page, "reports-compliance-shandong")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename == "compliance-2021-37.csv"
    body = open(download.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert {row[1] for row in rows[1:-1]} == {company_a.uscc, formula_unit.uscc}
    assert ["'" + FORMULA_NAME] == [row[0] for row in rows if row[1] == formula_unit.uscc]
    assert rows[-1][0] == "Total (2 units)"
