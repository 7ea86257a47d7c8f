"""The admin's import preview (issue 16, item 3), for allocation plans and verified emissions: the
rows in file order with the rows in error listed first and highlighted, each error once with the
column's human name (English and Chinese), both rows of a duplicate pair flagged, an errors-only
filter, the error file and the templates to download."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.validators import validate_uscc
from allocation import admin as allocation_admin
from allocation.importing import UNIT_COLUMNS, read_rows
from allocation.services import allocation_preview
from compliance import admin as compliance_admin
from core.import_preview import messages_by_row
from core.imports import RowError
from tests.allocation.conftest import csv_bytes
from tests.auth import login

URL = "admin:allocation_allocationplan_import"
VE_URL = "admin:compliance_verifiedemission_import"


@pytest.fixture
def staff(national_regulator):
    national_regulator.is_staff = True
    national_regulator.save()
    return national_regulator


@pytest.fixture
def regulator_client(client, staff):
    login(client, staff)
    return client


def preview(client, period, cea21, content: bytes, filename: str = "plan.csv", **headers):
    return client.post(reverse(URL), {"kind": "pre_allocation", "period": period.pk, "vintage": cea21.pk, "issue_percent": "70",
                                      "file": SimpleUploadedFile(filename, content)}, **headers)


def table_rows(body: str) -> list[str]:
    """The preview table's row ids (row-N), in the page's order."""
    table = body.split('id="preview"', 1)[1]
    return re.findall(r'<tr id="row-(\d+)"', table)


def error_list(body: str) -> str:
    return body.split('id="import-errors"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def units(company_a, company_b, shandong_units):
    # Names out of alphabetical order in the file, so that an order by name would show.
    return [shandong_units[2], company_a, shandong_units[0], company_b]


def test_the_rows_come_in_file_order_and_the_errors_first(regulator_client, period_2021, cea21, units):
    rows = [[unit.uscc, "coal_gt300", "1000", "0", "1"] for unit in units]
    rows[2][2] = "-5"  # row 4
    body = preview(regulator_client, period_2021, cea21, csv_bytes(rows)).content.decode()
    assert table_rows(body) == ["2", "3", "4", "5"]
    assert body.index('id="import-errors"') < body.index('id="preview"')  # the errors before the table
    assert re.findall(r'href="#row-(\d+)"', error_list(body)) == ["4"]
    assert '<tr id="row-4" class="import-error">' in body and '<tr id="row-2">' in body  # highlighted: the bad row only
    head = body.split('id="preview"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r"<th[^>]*>([^<]+)</th>", head)[:3] == ["Row", "Errors", "USCC"]  # errors beside the row number


def test_a_saved_plans_lines_keep_the_file_order_on_its_review_page(regulator_client, period_2021, cea21, units, staff):
    from allocation.selectors import plan_lines
    from tests.allocation.conftest import import_csv

    plan = import_csv(period=period_2021, vintage=cea21, rows=[[u.uscc, "gas", "1000", "0", "1"] for u in units], actor=staff)
    assert [line.organization.uscc for line in plan_lines(plan)] == [unit.uscc for unit in units]
    page = regulator_client.get(reverse("admin:allocation_allocationplan_review", args=[plan.pk])).content.decode()
    lines = page.split('id="plan-lines"', 1)[1]
    assert [lines.index(unit.uscc) for unit in units] == sorted(lines.index(unit.uscc) for unit in units)


def test_each_error_of_a_row_is_shown_once(regulator_client, period_2021, cea21, company_a, company_b):
    rows = [[company_a.uscc + "\x00", "coal_gt300", "1000", "0", "1"], [company_b.uscc, "gas", "-1", "-1", "1"]]
    body = preview(regulator_client, period_2021, cea21, csv_bytes(rows)).content.decode()
    errors = error_list(body)
    assert errors.count("USCC: contains a NUL character") == 1  # the reader's error, not the service's "missing" too
    assert "missing" not in errors
    assert errors.count("Electricity (MWh): must not be negative") == 1 and errors.count("Heat (GJ): must not be negative") == 1
    row_3 = body.split('<tr id="row-3"', 1)[1].split("</tr>", 1)[0]
    assert row_3.count("must not be negative") == 2
    # The same error found twice (by two checks) is listed once.
    twice = [RowError(3, "uscc", "missing"), RowError(3, "uscc", "missing"), RowError(3, "heat_gj", "missing")]
    assert messages_by_row(twice) == {3: ["USCC: missing", "Heat (GJ): missing"]}


def test_both_rows_of_a_duplicate_pair_are_errors_and_neither_shows_an_allocation(
    staff, period_2021, cea21, company_a, company_b
):
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"], [company_b.uscc, "gas", "1000", "0", "1"],
            [company_a.uscc.lower(), "coal_gt300", "2000", "0", "1"]]
    read = read_rows(io.BytesIO(csv_bytes(rows)), "plan.csv")
    result = allocation_preview(period=period_2021, rows=read, issue_percent=Decimal(70), actor=staff)
    assert [(error.row, error.field, error.message) for error in result.errors] == [
        (2, "uscc", "duplicate unit: also on row 4"), (4, "uscc", "duplicate unit: also on row 2")]
    assert [line.computed_allocation is None for line in result.lines] == [True, False, True]
    assert result.total_issue == result.lines[1].issue_amount


def test_a_unit_three_times_names_the_other_two_rows(staff, period_2021, cea21, company_a):
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"]] * 3
    result = allocation_preview(period=period_2021, rows=read_rows(io.BytesIO(csv_bytes(rows)), "p.csv"),
                                issue_percent=Decimal(70), actor=staff)
    assert [error.message for error in result.errors] == [
        "duplicate unit: also on rows 3, 4", "duplicate unit: also on rows 2, 4", "duplicate unit: also on rows 2, 3"]


def test_the_errors_name_the_columns_in_english_and_in_chinese(regulator_client, period_2021, cea21, company_a):
    content = csv_bytes([[company_a.uscc, "coal_gt300", "-5", "0", "3"]])
    english = error_list(preview(regulator_client, period_2021, cea21, content).content.decode())
    assert "Electricity (MWh): must not be negative" in english and "Correction factor: must be above 0" in english
    assert "electricity_mwh" not in english and "correction_factor" not in english
    chinese = preview(regulator_client, period_2021, cea21, content, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    errors = error_list(chinese)
    assert "供电量（兆瓦时）：不能为负数" in errors and "修正系数：必须大于 0 且不超过 2" in errors
    assert "electricity_mwh" not in errors and "Electricity" not in errors
    assert "仅显示有错误的行" in chinese  # the filter, in Chinese too


def test_the_errors_come_in_the_language_of_the_users_profile(regulator_client, staff, period_2021, cea21, company_a):
    staff.language = "zh-hans"
    staff.save(update_fields=["language"])
    body = preview(regulator_client, period_2021, cea21, csv_bytes([[company_a.uscc, "coal_gt300", "-5", "0", "1"]]))
    assert "供电量（兆瓦时）：不能为负数" in error_list(body.content.decode())


def test_the_errors_only_filter_hides_the_good_rows(regulator_client, period_2021, cea21, company_a, company_b):
    content = csv_bytes([[company_a.uscc, "coal_gt300", "1000", "0", "1"], [company_b.uscc, "gas", "x", "0", "1"]])
    body = preview(regulator_client, period_2021, cea21, content).content.decode()
    assert '<input type="checkbox" id="errors-only">' in body
    # Checked, it hides every row of the table that is not an error row (a rule of the page; the browser
    # test clicks it).
    assert "form:has(#errors-only:checked) #preview tbody tr:not(.import-error) { display: none; }" in body
    assert '<tr id="row-2">' in body and '<tr id="row-3" class="import-error">' in body
    good = preview(regulator_client, period_2021, cea21, csv_bytes([[company_a.uscc, "coal_gt300", "1", "0", "1"]]))
    assert 'id="errors-only"' not in good.content.decode()  # nothing to filter without errors


def test_the_error_file_is_the_uploaded_rows_with_their_errors(client, regulator_client, period_2021, cea21, company_a,
                                                               company_b, second_national_regulator):
    content = ("uscc,unit_category,electricity_mwh,heat_gj,correction_factor,备注\n"
               f"{company_a.uscc},coal_gt300,1000,0,1,华能\n{company_b.uscc},gas,-5,0,9,大唐\n").encode("gb18030")
    page = preview(regulator_client, period_2021, cea21, content, filename="方案.csv")
    url = page.context["error_file_url"]
    download = regulator_client.get(url)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "-errors.csv" in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        ["uscc", "unit_category", "electricity_mwh", "heat_gj", "correction_factor", "备注", "errors"],
        [company_a.uscc, "coal_gt300", "1000", "0", "1", "华能", ""],
        [company_b.uscc, "gas", "-5", "0", "9", "大唐",
         "Electricity (MWh): must not be negative; Correction factor: must be above 0 and at most 2"],
    ]
    # The error file, fixed, imports as it is (the errors column is one no import reads).
    fixed = body.decode("utf-8-sig").replace(",-5,0,9,", ",5,0,1,").encode("utf-8-sig")
    again = preview(regulator_client, period_2021, cea21, fixed, filename="方案-errors.csv").content.decode()
    assert 'id="import-errors"' not in again and 'name="confirm"' in again
    # Only the session that previewed the file downloads it.
    other = client.__class__()
    second_national_regulator.is_staff = True
    second_national_regulator.save()
    login(other, second_national_regulator)
    assert other.get(url).status_code == 404
    name = url.split("/errors/", 1)[1].split("/", 1)[0]
    for other_name in ("0" * 32 + ".errors.csv", name.replace(".errors", "")):  # not made here; an upload
        assert regulator_client.get(url.replace(name, other_name)).status_code == 404


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_templates_have_the_header_and_an_example_row_that_imports_cleanly(regulator_client, period_2021, cea21,
                                                                               company_a, file_format):
    response = regulator_client.get(reverse("admin:allocation_allocationplan_import_template", args=[file_format]))
    assert response.status_code == 200
    assert f'filename="allocation-plan-template.{file_format}"' in response["Content-Disposition"]
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        rows = [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        assert sheet["A2"].number_format == "@"  # the USCC stays text
    assert rows[0] == UNIT_COLUMNS and len(rows) == 2
    assert rows[1][0] == company_a.uscc  # a unit this regulator may allocate to
    page = preview(regulator_client, period_2021, cea21, response.content, filename=f"template.{file_format}").content.decode()
    assert 'id="import-errors"' not in page and 'name="confirm"' in page


def test_without_a_unit_the_template_example_is_still_a_well_formed_uscc(regulator_client):
    validate_uscc(allocation_admin.EXAMPLE_USCC)
    validate_uscc(compliance_admin.EXAMPLE_USCC)
    response = regulator_client.get(reverse("admin:allocation_allocationplan_import_template", args=["csv"]))
    assert allocation_admin.EXAMPLE_USCC in response.content.decode()
    assert regulator_client.get(reverse("admin:allocation_allocationplan_import_template", args=["pdf"])).status_code == 404


# --- the verified-emissions import shares the preview ---


def test_the_verified_emissions_preview_has_the_same_errors_first_and_error_file(regulator_client, period_2021, company_a,
                                                                                 company_b):
    content = f"uscc,verified_emissions\n{company_a.uscc},100\n{company_b.uscc},-5\n{company_a.uscc},7\n".encode("gbk")
    page = regulator_client.post(reverse(VE_URL), {"period": period_2021.pk, "file": SimpleUploadedFile("v.csv", content)})
    body = page.content.decode()
    assert table_rows(body) == ["2", "3", "4"]
    assert re.findall(r'href="#row-(\d+)"', error_list(body)) == ["2", "3", "4"]  # both rows of the pair, and row 3
    assert "Verified emissions (t): &#x27;-5&#x27; is below the minimum, 0." in error_list(body)
    assert "USCC: duplicate unit: also on row 4" in error_list(body)
    rows = list(csv.reader(io.StringIO(b"".join(regulator_client.get(page.context["error_file_url"]).streaming_content)
                                       .decode("utf-8-sig"))))
    assert [row[-1] != "" for row in rows[1:]] == [True, True, True] and rows[0][-1] == "errors"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_verified_emissions_template_imports_cleanly(regulator_client, period_2021, company_a, file_format):
    response = regulator_client.get(reverse("admin:compliance_verifiedemission_import_template", args=[file_format]))
    assert response.status_code == 200
    page = regulator_client.post(reverse(VE_URL), {"period": period_2021.pk,
                                                   "file": SimpleUploadedFile(f"t.{file_format}", response.content)})
    body = page.content.decode()
    assert 'id="import-errors"' not in body and 'name="confirm"' in body and company_a.uscc in body


def test_the_list_above_the_table_names_the_first_hundred_rows_in_error(regulator_client, period_2021, cea21):
    rows = [["", "coal_gt300", "1", "0", "1"]] * 105
    body = preview(regulator_client, period_2021, cea21, csv_bytes(rows)).content.decode()
    assert len(re.findall(r'href="#row-(\d+)"', error_list(body))) == 100
    assert "… and 5 more rows with errors" in error_list(body)
    assert len(table_rows(body)) == 105  # the table has them all
