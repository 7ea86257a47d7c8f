"""An auditor opens the compliance table in the browser at 1366x768, sorts and filters it, and
downloads the CSV, the XLSX and the PDF, which the test opens and checks."""

import csv
import io

import openpyxl
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.axe import serious_violations
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


def test_an_auditor_filters_the_compliance_table_and_downloads_the_three_formats(
    browser, live_server, screenshot, auditor, closed_period, company_a, company_b, formula_unit  # noqa: F811
):
    page = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True).new_page()
    login(page, live_server, auditor.username)
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Open the compliance table").click()
    expect(page.get_by_role("heading", name="Compliance 2021")).to_be_visible()
    table = page.locator("#compliance-table tbody")
    expect(table.locator("tr")).to_have_count(4)
    expect(table).to_contain_text(company_b.uscc)
    # At 1366 px every column is in view: the table is no wider than its card.
    widths = page.locator("section.compliance").evaluate("card => [card.scrollWidth, card.clientWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, "reports-compliance")

    page.get_by_role("link", name="Shortfall (t)").click()  # the largest shortfall first
    expect(table.locator("tr").first).to_contain_text(company_b.uscc)
    page.get_by_label("Status", exact=True).select_option("B")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tr")).to_have_count(1)
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_label("Province").select_option("37")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="Compliance 2021 · Shandong")).to_be_visible()
    expect(table.locator("tr")).to_have_count(2)
    expect(table).not_to_contain_text(company_b.uscc)
    expect(page.locator("#compliance-table tfoot")).to_contain_text("115,052")
    screenshot(page, "reports-compliance-shandong")

    def download(name):
        with page.expect_download() as download_info:
            page.get_by_role("link", name=name).click()
        return download_info.value

    csv_file = download("CSV")
    assert csv_file.suggested_filename == "compliance-2021-37.csv"
    body = open(csv_file.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert {row[1] for row in rows[1:]} == {company_a.uscc, formula_unit.uscc}  # data only, no totals row
    assert ["'" + FORMULA_NAME] == [row[0] for row in rows if row[1] == formula_unit.uscc]

    workbook = openpyxl.load_workbook(io.BytesIO(open(download("XLSX").path(), "rb").read()))
    sheet = workbook.worksheets[0]
    assert sheet.auto_filter.ref == "A1:L3" and sheet.freeze_panes == "A2"  # L: the units
    assert sheet["D2"].number_format == "#,##0" and sheet["J2"].number_format == "#,##0.00"
    assert sheet["A4"].value is None and sheet["A5"].value == "Total (2 units)" and sheet["D5"].value == 115_052
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert about["Report identifier"].startswith("NCR-2021-")

    reader = PdfReader(download("PDF").path())
    text = "\n".join(pdf_page.extract_text() for pdf_page in reader.pages)
    assert about["Report identifier"].replace("-", "") != "" and "NCR-2021-" in text
    assert "National Carbon Allowance Registry" in text and "Page 1 of" in text


@pytest.mark.parametrize(("viewport", "language"), [({"width": 1366, "height": 768}, "en"), ({"width": 390, "height": 844}, "zh-hans")])
def test_a_regulator_lands_on_its_home_with_the_work_and_the_market(
    browser, live_server, screenshot, shandong_regulator, closed_period, company_a, viewport, language  # noqa: F811
):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    login(page, live_server, shandong_regulator.username)
    page.wait_for_url(f"{live_server.url}/regulator/")
    if language != "en":
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.reload()
    expect(page.locator("#progress")).to_contain_text("Shandong" if language == "en" else "山东")
    expect(page.locator("#allowances")).to_contain_text(f"{2 * 57_526:,}")  # the province's two units
    expect(page.locator("#waiting")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page scrolls sideways: {width}px"
    screenshot(page, f"regulator-home-{viewport['width']}-{language}")


def test_a_large_pdf_is_made_by_a_job_whose_page_offers_the_download(
    browser, live_server, screenshot, auditor, closed_period, company_b, settings  # noqa: F811
):
    settings.REPORTS_PDF_JOB_ROWS = 1  # the closed period's 4 rows make a job (run in-process here)
    page = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True,
                               bypass_csp=True).new_page()  # (bypass_csp: to inject axe)
    login(page, live_server, auditor.username)
    page.goto(f"{live_server.url}/reports/compliance/2021/")
    page.get_by_role("link", name="PDF").click()
    page.wait_for_url(f"{live_server.url}/reports/exports/*/")
    expect(page.locator("#export-job")).to_have_attribute("data-status", "done")
    expect(page.locator("#export-job")).to_contain_text("4 rows, 1 page.")
    screenshot(page, "reports-export-job")
    assert not serious_violations(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "compliance-2021.pdf"
    text = "\n".join(pdf_page.extract_text() for pdf_page in PdfReader(download.path()).pages)
    assert company_b.uscc in text and "Page 1 of 1" in text and "NCR-2021-" in text
    page.get_by_role("link", name="Reports").first.click()  # the reports page lists it, to come back to
    expect(page.locator("#export-jobs")).to_contain_text("compliance-2021.pdf")
