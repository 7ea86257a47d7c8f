"""The auditors' compliance table (/reports/compliance/<period>/): rows, totals, the three export
formats opened by the libraries a reader would use, formula injection, scope and the audit trail."""

import csv
import io

import openpyxl
import pytest
from pypdf import PdfReader

from core.models import AuditEvent
from tests.auth import login
from tests.reports.conftest import FINE_B, FORMULA_NAME, SHORTFALL_B


def get(client, user, period="2021", **query):
    login(client, user)
    return client.get(f"/reports/compliance/{period}/", query)


def download(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    body = download(response)
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- the page ---


def test_the_auditor_sees_every_unit_with_status_and_fine_basis(client, auditor, closed_period):
    response = get(client, auditor)
    assert response.status_code == 200
    table = response.context["table"]
    # By name: the formula-named unit ("=...") sorts first.
    assert [(row.uscc[2:4], row.status, row.shortfall) for row in table.rows] == [
        ("37", "C", 0), ("32", "B", SHORTFALL_B), ("44", "C", 0), ("37", "A", 0)]
    assert table.totals["allocated"] == 4 * 57_526 and table.totals["verified_emissions"] == 150_000
    assert table.totals["fine_basis_low"] == FINE_B[0]
    assert b"7,439,962.10" in response.content  # 5 x 24,526 t x 60.67 CNY


def test_before_the_deadline_the_table_shows_live_obligations(client, auditor, surrendered):
    table = get(client, auditor).context["table"]
    assert not table.final
    assert {row.status for row in table.rows} == {"open"}
    assert {row.uscc[2:4]: row.surrendered_allowances for row in table.rows if row.surrendered_allowances} == {"37": 48_000, "32": 50_000}


def test_the_province_filter_narrows_the_table(client, national_regulator, closed_period, company_a, formula_unit):
    table = get(client, national_regulator, province="37").context["table"]
    assert {row.uscc for row in table.rows} == {company_a.uscc, formula_unit.uscc}
    assert table.totals["surrendered_allowances"] == 48_000


def test_an_unknown_period_or_province_is_a_404(client, auditor, closed_period):
    assert get(client, auditor, period="1999").status_code == 404
    assert get(client, auditor, province="99").status_code == 404


def test_an_unknown_format_is_refused_with_the_reason(client, auditor, closed_period):
    response = get(client, auditor, format="docx")
    assert response.status_code == 400
    assert b"csv, xlsx, pdf" in response.content


# --- scope ---


def test_a_provincial_regulator_sees_only_its_province(client, shandong_regulator, closed_period, company_a, formula_unit):
    response = get(client, shandong_regulator)
    assert {row.uscc for row in response.context["table"].rows} == {company_a.uscc, formula_unit.uscc}
    assert {row.uscc for row in response.context["table"].rows} == {
        row[1] for row in csv_rows(get(client, shandong_regulator, format="csv"))[1:]}


def test_a_provincial_regulator_may_not_ask_for_another_province(client, shandong_regulator, closed_period):
    assert get(client, shandong_regulator, province="32").status_code == 403
    assert get(client, shandong_regulator, province="32", format="csv").status_code == 403


@pytest.mark.parametrize("who", ["trader_a", "officer", "exchange_operator"])
def test_companies_and_the_exchange_may_not_read_the_table(client, request, who, closed_period, company_a):
    from tests.compliance.helpers import officer_of

    user = officer_of(company_a) if who == "officer" else request.getfixturevalue(who)
    for file_format in ("html", "csv", "xlsx", "pdf"):
        assert get(client, user, format=file_format).status_code == 403
    assert not AuditEvent.objects.filter(action="report.export").exists()


def test_anonymous_visitors_are_sent_to_log_in(client, closed_period):
    response = client.get("/reports/compliance/2021/?format=csv")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- CSV ---


def test_the_csv_is_plain_data_every_row_and_no_totals(client, auditor, closed_period, company_b):
    rows = csv_rows(get(client, auditor, format="csv"))
    assert rows[0][:4] == ["Unit", "USCC", "Province", "Allocated (t)"]
    assert len(rows) == 1 + 4  # the header and the four units: a CSV is data, its totals are the reader's
    jiangsu = next(row for row in rows if row[1] == company_b.uscc)
    assert jiangsu[2:] == ["Jiangsu", "57526", "100000", "50000", "3000", str(SHORTFALL_B), "B",
                           f"{FINE_B[0] / 100:.2f}", f"{FINE_B[1] / 100:.2f}",
                           "U1 (Power): allocated 57,526 t, verified 100,000 t, obligation 77,526 t"]
    assert not any(row[0].startswith("Total") for row in rows)


@pytest.mark.parametrize("payload", [FORMULA_NAME, "+86 cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd", "\tTab Power",
                                     "\rCarriage Power"])
def test_formula_injection_in_an_organization_name_is_neutralised(client, auditor, closed_period, formula_unit, payload):
    type(formula_unit).objects.filter(pk=formula_unit.pk).update(name=payload)
    rows = csv_rows(get(client, auditor, format="csv"))
    cell = next(row[0] for row in rows if row[1] == formula_unit.uscc)
    assert cell == "'" + payload
    # Numbers are data, not text: they keep their sign and form.
    assert all(row[3].isdigit() for row in rows[1:])


def test_the_csv_export_is_audited(client, shandong_regulator, closed_period):
    get(client, shandong_regulator, format="csv")
    event = AuditEvent.objects.get(action="report.export")
    assert event.actor == shandong_regulator
    assert (event.object_type, event.object_id) == ("report.compliance", "2021")
    assert event.after == {"format": "csv", "rows": 2, "filters": {"province": "37"}}


# --- XLSX ---


def test_the_xlsx_opens_with_the_rows_the_totals_and_the_snapshot(client, auditor, closed_period, company_a, formula_unit):
    response = get(client, auditor, format="xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="compliance-2021.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Unit" and len(rows) == 1 + 4 + 2
    shandong = next(row for row in rows if row[1] == company_a.uscc)
    assert shandong[3:9] == (57_526, 50_000, 48_000, 2_000, 0, "A")
    # The totals stand apart: below a blank row, outside the autofilter's range, so sorting never moves them.
    assert sheet.auto_filter.ref == "A1:L5" and rows[5] == (None,) * 12  # the last column: the units
    assert rows[6][0] == "Total (4 units)" and rows[6][3] == 4 * 57_526 and rows[6][4] == 150_000
    assert float(rows[6][9]) == FINE_B[0] / 100 and rows[6][8] == "A 1, B 1, C 2"
    assert sheet["D2"].number_format == "#,##0" and sheet["J2"].number_format == "#,##0.00"
    assert sheet.column_dimensions["A"].width == 40 and sheet.freeze_panes == "A2"
    # The formula in the name stays text: stored as a string cell, never as a formula.
    formula_cell = next(row for row in sheet.iter_rows() if row[1].value == formula_unit.uscc)[0]
    assert (formula_cell.value, formula_cell.data_type) == (FORMULA_NAME, "s")
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert about["Data as of transfer"] > 0 and about["Generated at"] is not None
    event = AuditEvent.objects.get(action="report.export")
    assert about["Report identifier"] == f"NCR-2021-{event.pk:08d}"  # the export's audit event
    assert AuditEvent.objects.get(action="report.export").after["format"] == "xlsx"


# --- PDF ---


def test_the_pdf_has_every_row_totals_page_numbers_and_the_snapshot(client, auditor, closed_period, company_b):
    from registry.models import Transfer

    response = get(client, auditor, format="pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert company_b.uscc in text and "Guangdong Coal Power" in text
    assert "24,526" in text and "7,439,962.10" in text  # B's shortfall and fine basis
    assert "Total (4 units)" in text and "230,104" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert f"transfer #{Transfer.objects.order_by('-id').first().pk}" in text
    assert "Generated" in text
    assert AuditEvent.objects.get(action="report.export").after == {"format": "pdf", "rows": 4, "filters": {"province": ""}}


def test_the_pdf_names_its_issuer_its_identifier_and_the_seal_chains_head(client, auditor, closed_period):
    """An auditor ties the report to the ledger: the head of the seal chain when it was made."""
    from registry.models import SealBlock
    from registry.seal import ledger_seal

    ledger_seal()
    head = SealBlock.objects.order_by("-height").first()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(get(client, auditor, format="pdf").content)).pages)
    event = AuditEvent.objects.get(action="report.export")
    assert "National Carbon Allowance Registry" in text and f"NCR-2021-{event.pk:08d}" in text
    assert head.block_hash in text.replace("\n", "") and f"height {head.height}" in text


# --- sorting and filtering ---


def test_the_table_filters_by_status_and_sorts_by_shortfall(client, auditor, closed_period, company_b):
    table = get(client, auditor, status="C").context["table"]
    assert {row.status for row in table.rows} == {"C"} and len(table.rows) == 2
    assert table.status_counts == {"C": 2}
    by_shortfall = get(client, auditor, sort="shortfall").context["table"].rows
    assert by_shortfall[0].uscc == company_b.uscc  # the only shortfall, first
    assert [row.shortfall for row in by_shortfall] == sorted((row.shortfall for row in by_shortfall), reverse=True)
    rows = csv_rows(get(client, auditor, format="csv", status="B"))
    assert [row[1] for row in rows[1:]] == [company_b.uscc]  # the downloads follow the filter


@pytest.mark.parametrize("query", [{"status": "D"}, {"sort": "price"}])
def test_an_unknown_status_or_sort_is_refused_with_the_reason(client, auditor, closed_period, query):
    response = get(client, auditor, **query)
    assert response.status_code == 400 and next(iter(query)).encode() in response.content


def test_the_pdf_prints_chinese_names_in_a_font_that_has_them(client, auditor, closed_period, company_b):
    from accounts.models import Organization

    Organization.objects.filter(pk=company_b.pk).update(name="广东煤电有限公司")
    reader = PdfReader(io.BytesIO(get(client, auditor, format="pdf").content))
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert any("WenQuanYi" in name for name in fonts), fonts
    assert "广东煤电有限公司" in "".join(page.extract_text() for page in reader.pages)


def test_a_long_pdf_repeats_the_header_on_every_page(client, auditor, closed_period, settings):
    from accounts.models import Organization
    from compliance.models import ComplianceResult

    # Enough rows for several pages: copies of C's result under new units (reference data for layout).
    template = ComplianceResult.objects.filter(status="C").first()
    from tests.factories import OrganizationFactory

    for index in range(90):
        unit = OrganizationFactory(name=f"Layout Unit {index:03d}", province="41", with_accounts=False)
        ComplianceResult.objects.create(period=closed_period, organization=unit, allocated=1, verified_emissions=None,
                                        obligation=0, surrendered_allowances=0, surrendered_offsets=0, shortfall=0,
                                        status="C")
    assert Organization.objects.filter(name__startswith="Layout Unit").count() == 90 and template
    reader = PdfReader(io.BytesIO(get(client, auditor, format="pdf").content))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "Verified emissions (t)" in text and "Compliance 2021" in text
        assert f"Page {number} of {len(reader.pages)}" in text


def test_a_pdf_beyond_the_row_limit_is_refused_with_a_pointer_to_the_xlsx(client, auditor, closed_period, settings):
    settings.REPORTS_PDF_MAX_ROWS = 3
    response = get(client, auditor, format="pdf")
    assert response.status_code == 400
    assert b"at most 3 rows" in response.content and b"XLSX" in response.content
    assert b'href="?format=xlsx"' in response.content
    assert not AuditEvent.objects.filter(action="report.export").exists()
    # Filtered to a province it fits.
    assert get(client, auditor, format="pdf", province="37").status_code == 200
