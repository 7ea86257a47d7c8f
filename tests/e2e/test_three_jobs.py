"""Issue 16's three jobs, done in the browser as the people who do them work:

1. a national regulator imports a plan from a CSV that Excel saved in Chinese (GB18030) with one bad
   row: the preview shows the error first, highlighted, with the column's human name; the regulator
   filters the errors, downloads the error file, uploads the corrected file and submits the plan with
   a reason;
2. a second national regulator reviews the plan's totals on its review page and approves it;
3. the auditor opens the compliance table at 1366x768 and downloads the CSV, the XLSX and the PDF,
   which the test opens and checks.

The screenshots of the preview (with its error) and of the review page are the README's
(docs/screenshots/)."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.roles import Role
from allocation.formula import allocation_for, issue_share
from allocation.services import period_create
from core.models import AuditEvent
from registry.models import Asset, SealBlock
from registry.seal import ledger_seal
from tests.e2e.test_allocation_flow import admin_login
from tests.e2e.test_login_and_holdings import login
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HEADER = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor,单位名称\n"


def plan_file(path: Path, rows: list[str]) -> Path:
    """A CSV as Excel saves it on a Chinese Windows ("CSV (逗号分隔)"): GB18030, CRLF."""
    path.write_bytes((HEADER + "".join(row + "\n" for row in rows)).replace("\n", "\r\n").encode("gb18030"))
    return path


def preview(page, live_server, path: Path) -> None:
    page.goto(f"{live_server.url}/admin/allocation/allocationplan/import/")
    page.select_option("select[name=period]", label="2021")
    page.select_option("select[name=vintage]", label="CEA21")
    page.set_input_files("input[name=file]", str(path))
    page.click("input[value=Preview]")


def test_a_plan_from_a_chinese_csv_is_fixed_approved_and_reported(
    browser, live_server, screenshot, tmp_path, company_a, company_b, auditor
):
    maker = user_with_role(Role.NATIONAL_REGULATOR, is_staff=True)
    checker = user_with_role(Role.NATIONAL_REGULATOR, is_staff=True)
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           actor=maker)
    benchmarks = {b.unit_category: b for b in period.benchmarks.all()}
    good_a = f"{company_a.uscc},coal_gt300,1000000,50000,1,华能济南电厂"
    bad_b = f"{company_b.uscc},gas,-300000,20000,1,大唐南京热电"  # row 3: a negative output
    fixed_b = f"{company_b.uscc},gas,300000,20000,1,大唐南京热电"

    # 1. The maker previews the file: the error first, highlighted, in words a person reads.
    page = admin_login(browser, live_server, maker)
    page.context.set_default_timeout(15_000)
    preview(page, live_server, plan_file(tmp_path / "配额方案-2021.csv", [good_a, bad_b]))
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("1 row has errors")
    expect(errors).to_contain_text("Row 3: Electricity (MWh): must not be negative")
    expect(errors).not_to_contain_text("electricity_mwh")
    table = page.locator("#preview")
    assert errors.bounding_box()["y"] < table.bounding_box()["y"]  # the errors come before the table
    expect(table.locator("thead th").nth(1)).to_have_text("Errors")  # the column beside the row number
    expect(table.locator("tbody tr").nth(0)).to_have_id("row-2")  # the rows in file order
    bad_row = page.locator("#row-3")
    expect(bad_row).to_have_class(re.compile(r"\bimport-error\b"))
    expect(page.locator("#row-2")).not_to_have_class(re.compile(r"\bimport-error\b"))
    background = bad_row.locator("td").first.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background  # highlighted
    expect(bad_row).to_contain_text("Electricity (MWh): must not be negative")
    expect(page.locator("input[name=confirm]")).to_have_count(0)  # nothing to save while a row is wrong
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import-preview-errors.png"), full_page=True)

    page.get_by_label("Show only the rows with errors").check()
    expect(page.locator("#row-2")).to_be_hidden()
    expect(bad_row).to_be_visible()
    page.get_by_label("Show only the rows with errors").uncheck()
    expect(page.locator("#row-2")).to_be_visible()

    with page.expect_download() as download_info:
        page.locator("#error-file").click()
    error_file = download_info.value
    assert error_file.suggested_filename.endswith("-errors.csv")
    rows = list(csv.reader(io.StringIO(Path(error_file.path()).read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["uscc", "unit_category", "electricity_mwh", "heat_gj", "correction_factor", "单位名称", "errors"]
    assert [row[0] for row in rows[1:]] == [company_a.uscc, company_b.uscc]  # every row, in file order
    assert rows[1][-1] == "" and rows[2][-1] == "Electricity (MWh): must not be negative"
    assert rows[2][5] == "大唐南京热电"  # the Chinese read right from GB18030

    # ... fixes the row, uploads the corrected file, saves the draft and submits it with a reason.
    preview(page, live_server, plan_file(tmp_path / "配额方案-2021-改.csv", [good_a, fixed_b]))
    expect(page.locator("#import-errors")).to_have_count(0)
    issue = {
        unit.uscc: issue_share(allocation_for(electricity_mwh=Decimal(mwh), heat_gj=Decimal(gj), correction_factor=Decimal(1),
                                              electricity_benchmark=benchmarks[category].electricity,
                                              heat_benchmark=benchmarks[category].heat), Decimal(70))
        for unit, category, mwh, gj in ((company_a, "coal_gt300", 1_000_000, 50_000), (company_b, "gas", 300_000, 20_000))
    }
    total = sum(issue.values())
    assert issue[company_a.uscc] == 579_128
    expect(page.locator("#content")).to_contain_text(f"this plan issues {total:,} t")
    page.click("input[name=confirm]")
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    expect(page.locator("#content")).to_contain_text("2 units saved in plan")
    page.click("text=Open it")
    page.locator("a", has_text="Review the plan").first.click()
    page.fill("textarea[name=reason]", "Pre-allocation 2021 from the provinces' GB18030 returns")
    page.locator("button[name=decision][value=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("submitted for approval")

    # 2. The checker reviews the totals on the plan's review page, then approves.
    page = admin_login(browser, live_server, checker)
    page.goto(f"{live_server.url}/admin/allocation/allocationplan/")
    page.locator("#result_list").get_by_role("link", name="Review the plan").first.click()
    expect(page.locator("#plan-totals")).to_contain_text(f"{total:,}")
    expect(page.locator("#plan-facts")).to_contain_text("GB18030 returns")  # the maker's reason
    lines = page.locator("#plan-lines tbody tr")
    expect(lines.nth(0)).to_contain_text(company_a.uscc)  # the file's order (Huaneng, then Datang), not by name
    expect(lines.nth(1)).to_contain_text(company_b.uscc)
    page.screenshot(path=str(SCREENSHOTS / "allocation-plan-review.png"), full_page=True)
    page.fill("textarea[name=reason]", "Totals checked against the benchmark table")
    page.get_by_role("button", name=f"Approve and issue {total:,} t to 2 units").click()
    expect(page.locator(".messagelist")).to_contain_text(f"{total:,} t issued to 2 units")
    ledger_seal()  # the scheduled sealing job: the reports name the head of the chain
    head = SealBlock.objects.order_by("-height").first()
    assert head is not None

    # 3. The auditor opens the compliance table at 1366x768 and downloads the three formats.
    page = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True).new_page()
    login(page, live_server, auditor.username)
    page.goto(f"{live_server.url}/reports/compliance/2021/")
    expect(page.get_by_role("heading", name="Compliance 2021")).to_be_visible()
    expect(page.locator("#compliance-table tbody tr")).to_have_count(2)
    widths = page.locator("section.compliance").evaluate("card => [card.scrollWidth, card.clientWidth]")
    assert widths[0] <= widths[1], widths  # every column in view at 1366 px
    screenshot(page, "three-jobs-compliance")

    def download(name):
        with page.expect_download() as info:
            page.get_by_role("link", name=name, exact=True).click()
        return Path(info.value.path()).read_bytes()

    body = download("CSV")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Unit", "USCC", "Province", "Allocated (t)"]
    assert sorted((row[1], int(row[3])) for row in rows[1:]) == sorted(issue.items())  # plain data:
    assert not any(row[0].startswith("Total") for row in rows)  # no totals row

    workbook = openpyxl.load_workbook(io.BytesIO(download("XLSX")))
    sheet = workbook.worksheets[0]
    assert sheet.auto_filter.ref == "A1:L3"  # the data range: the header and the two companies (the last column: their units)
    # Tonnes grouped, the USCC as text (the period is open: no verified emissions nor fines yet).
    assert [sheet[f"{column}2"].number_format for column in "BDFGH"] == ["@", "#,##0", "#,##0", "#,##0", "#,##0"]
    assert isinstance(sheet["D2"].value, int)
    assert all(cell.value is None for cell in sheet[4])  # a blank row, then the totals outside the data
    assert sheet["A5"].value == "Total (2 units)" and sheet["D5"].value == total and sheet["D5"].number_format == "#,##0"

    reader = PdfReader(io.BytesIO(download("PDF")))
    text = "\n".join(pdf_page.extract_text() for pdf_page in reader.pages)
    export = AuditEvent.objects.filter(action="report.export", after__format="pdf").latest("id")
    assert f"NCR-2021-{export.pk:08d}" in text  # the report identifier: its export's audit event
    assert head.block_hash in re.sub(r"\s+", "", text)  # the seal chain's head (wrapping aside)
