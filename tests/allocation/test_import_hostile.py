"""Issue 15, imports that cannot lie: files as an attacker (or a careless spreadsheet) writes them.
Every one is either saved whole or refused with each bad row named (row and column), through the
service, the management commands and the admin; never a traceback, never a 500, never rows dropped."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from allocation.importing import read_rows
from allocation.models import AllocationLine, AllocationPlan
from allocation.services import ImportRefused, allocation_import
from compliance.models import VerifiedEmission
from compliance.services import verified_emissions_import
from core.errors import DomainError, InvalidInput
from tests.allocation.conftest import HEADER, csv_bytes, nothing_saved, xlsx_bytes
from tests.auth import login


def plan_import(period, vintage, actor, content: bytes, filename="plan.csv"):
    return allocation_import(period=period, vintage=vintage, stream=io.BytesIO(content), filename=filename, actor=actor)


def refused_rows(period, vintage, actor, content: bytes, filename="plan.csv") -> list[tuple[int, str]]:
    with nothing_saved(), pytest.raises(ImportRefused) as refused:
        plan_import(period, vintage, actor, content, filename)
    return sorted((error.row, error.field) for error in refused.value.errors)


# --- numbers: bounded, finite, written in full ---


@pytest.mark.parametrize("number", ["1e30", "1E+400", "-1E+400", "4.9e1", "Infinity", "NaN", "1" * 40, "٤٩", "𝟒𝟗", "⁴⁹"])
def test_a_hostile_number_is_a_row_error_not_a_traceback(period_2021, cea21, company_a, national_regulator, number):
    rows = [[company_a.uscc, "coal_gt300", number, number, "1"]]
    assert refused_rows(period_2021, cea21, national_regulator, csv_bytes(rows)) == [(2, "electricity_mwh"), (2, "heat_gj")]


def test_full_width_digits_are_read_as_the_same_number(period_2021, cea21, company_a, national_regulator):
    # What a Chinese input method types: "６０００００．５" is 600000.5.
    plan = plan_import(period_2021, cea21, national_regulator, csv_bytes([[company_a.uscc, "coal_gt300", "６０００００．５", "０", "１"]]))
    assert plan.lines.get().electricity_mwh == Decimal("600000.5")


# --- cells: no NUL, nothing overlong ---


def test_a_nul_in_a_cell_is_a_row_error_naming_the_column(period_2021, cea21, company_a, shandong_units, national_regulator):
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"],
            [shandong_units[0].uscc + "\x00", "coal_gt300", "1000", "0", "1"],
            [shandong_units[1].uscc, "gas\x00", "10\x0000", "0", "1"]]
    assert refused_rows(period_2021, cea21, national_regulator, csv_bytes(rows)) == [
        (3, "uscc"), (4, "electricity_mwh"), (4, "unit_category")]


def test_an_overlong_cell_is_a_row_error(period_2021, cea21, company_a, national_regulator):
    rows = [[company_a.uscc, "coal_gt300", "1" * 5000, "0", "x" * 2000]]
    assert refused_rows(period_2021, cea21, national_regulator, csv_bytes(rows)) == [(2, "correction_factor"), (2, "electricity_mwh")]


def test_a_field_over_the_csv_modules_limit_is_a_clear_refusal(period_2021, cea21, company_a, national_regulator):
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"], [company_a.uscc, "gas", "9" * 131_073, "0", "1"]]
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan_import(period_2021, cea21, national_regulator, csv_bytes(rows))
    assert refused.value.field == "file" and "Row 3 cannot be read" in refused.value.message


# --- the header ---


def test_a_column_named_twice_is_refused(period_2021, cea21, company_a, national_regulator):
    content = csv_bytes([[company_a.uscc, "coal_gt300", "1000", "0", "1", "999999"]], header=HEADER + ["electricity_mwh"])
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan_import(period_2021, cea21, national_regulator, content)
    assert refused.value.field == "file" and "'electricity_mwh' twice" in refused.value.message


def test_a_verified_emissions_file_with_a_column_named_twice_is_refused(period_2021, company_a, national_regulator):
    content = f"uscc,verified_emissions,verified_emissions\n{company_a.uscc},5,500000\n".encode()
    with pytest.raises(InvalidInput) as refused:
        verified_emissions_import(period=period_2021, stream=io.BytesIO(content), filename="v.csv", actor=national_regulator)
    assert refused.value.field == "file" and "twice" in refused.value.message
    assert not VerifiedEmission.objects.exists()


# --- XLSX: every row, whatever <dimension> says ---


def understated_dimension(content: bytes) -> bytes:
    """The same workbook with its sheet's <dimension> claiming A1:E2 (the header and one row)."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b"<dimension ref=\"")
                end = data.index(b"\"", start + len(b"<dimension ref=\""))
                data = data[:start] + b"<dimension ref=\"A1:E2" + data[end:]
            target.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_understating_its_dimension_has_every_row_read(period_2021, cea21, company_a, company_b, national_regulator):
    content = understated_dimension(xlsx_bytes([[company_a.uscc, "coal_gt300", 1000, 0, 1], [company_b.uscc, "gas", 1000, 0, 1]]))
    assert b'<dimension ref="A1:E2"' in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    plan = plan_import(period_2021, cea21, national_regulator, content, "plan.xlsx")
    assert plan.lines.count() == 2  # not "1 units"


def test_an_xlsx_understating_its_dimension_cannot_hide_a_bad_row(period_2021, cea21, company_a, company_b, national_regulator):
    content = understated_dimension(xlsx_bytes([[company_a.uscc, "coal_gt300", 1000, 0, 1], [company_b.uscc, "gas", -5, 0, 1]]))
    assert refused_rows(period_2021, cea21, national_regulator, content, "plan.xlsx") == [(3, "electricity_mwh")]


def test_an_xlsx_number_cell_is_written_out_in_full(period_2021, cea21, company_a, national_regulator):
    content = xlsx_bytes([[company_a.uscc, "coal_gt300", 1e30, 0, 1]])
    assert refused_rows(period_2021, cea21, national_regulator, content, "plan.xlsx") == [(2, "electricity_mwh")]


# --- the row cap, read by streaming ---


def huge_xlsx(rows: int) -> bytes:
    """A minimal workbook of `rows` numeric rows (written as XML, as any tool may), ~5 MB for 1,000,000."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'))
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main"><dimension ref="A1:E2"/><sheetData>')
            header = "".join(f'<c r="{c}1" t="inlineStr"><is><t>{name}</t></is></c>' for c, name in zip("ABCDE", HEADER, strict=True))
            sheet.write(f'<row r="1">{header}</row>'.encode())
            chunk = []
            for number in range(2, rows + 2):
                chunk.append(f'<row r="{number}"><c r="C{number}"><v>1</v></c></row>')
                if len(chunk) == 10_000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write("".join(chunk).encode() + b"</sheetData></worksheet>")
    return out.getvalue()


def test_a_million_row_xlsx_is_refused_at_the_cap_quickly_and_in_bounded_memory(period_2021, cea21, national_regulator,
                                                                                settings):
    settings.IMPORT_MAX_ROWS = 20_000
    content = huge_xlsx(1_000_000)
    assert len(content) < 8_000_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        with nothing_saved(), pytest.raises(InvalidInput) as refused:
            plan_import(period_2021, cea21, national_regulator, content, "plan.xlsx")
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.field == "file" and "more than 20,000 rows" in refused.value.message
    assert elapsed < 30, elapsed  # was 97 s: reading stops at row 20,001
    assert peak < 200 * 1024 * 1024, peak  # was 1.85 GB


def test_a_csv_over_the_cap_is_refused_before_anything_is_checked(period_2021, cea21, company_a, national_regulator, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"]] * 4
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan_import(period_2021, cea21, national_regulator, csv_bytes(rows))
    assert "more than 3 rows" in refused.value.message and "IMPORT_MAX_ROWS" in refused.value.message
    assert len(read_rows(io.BytesIO(csv_bytes(rows[:3])), "p.csv")) == 3  # the cap itself is allowed


def test_a_file_over_the_byte_cap_is_refused(period_2021, cea21, company_a, national_regulator, settings):
    settings.IMPORT_MAX_BYTES = 2048
    rows = [[company_a.uscc, "coal_gt300", "1000", "0", "1"]] * 100
    with nothing_saved(), pytest.raises(InvalidInput) as refused:
        plan_import(period_2021, cea21, national_regulator, csv_bytes(rows))
    assert "IMPORT_MAX_BYTES" in refused.value.message


# --- the commands: a CommandError, never a traceback ---


@pytest.fixture
def write_file(tmp_path):
    def write(body: bytes, name: str) -> str:
        path = tmp_path / name
        path.write_bytes(body)
        return str(path)

    return write


HOSTILE_PLANS = {
    "exponent": lambda uscc: csv_bytes([[uscc, "coal_gt300", "1e30", "1E+400", "1"]]),
    "nul": lambda uscc: csv_bytes([[uscc, "coal_gt300", "10\x0000", "0", "1"]]),
    "huge-field": lambda uscc: csv_bytes([[uscc, "coal_gt300", "1" * 200_000, "0", "1"]]),
    "duplicate-header": lambda uscc: csv_bytes([[uscc, "gas", "1", "1", "1", "1"]], header=HEADER + ["uscc"]),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_PLANS))
def test_the_allocation_command_refuses_hostile_files_with_a_command_error(period_2021, cea21, company_a, write_file, kind):
    path = write_file(HOSTILE_PLANS[kind](company_a.uscc), "plan.csv")
    with nothing_saved(), pytest.raises(CommandError):
        call_command("import_allocations", path, "--period", "2021", stdout=io.StringIO(), stderr=io.StringIO())


HOSTILE_VERIFIED = {
    "exponent": lambda uscc: f"uscc,verified_emissions\n{uscc},1e30\n".encode(),
    "huge-exponent": lambda uscc: f"uscc,verified_emissions\n{uscc},1E+400\n".encode(),
    "fraction": lambda uscc: f"uscc,verified_emissions\n{uscc},49.5\n".encode(),
    "other-script": lambda uscc: f"uscc,verified_emissions\n{uscc},٤٩\n".encode(),
    "nul": lambda uscc: f"uscc,verified_emissions\n{uscc}\x00,5\n".encode(),
    "huge-field": lambda uscc: f"uscc,verified_emissions\n{uscc},{'1' * 200_000}\n".encode(),
    "duplicate-header": lambda uscc: f"uscc,verified_emissions,uscc\n{uscc},5,x\n".encode(),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_VERIFIED))
def test_the_verified_emissions_command_refuses_hostile_files_with_a_command_error(period_2021, company_a, write_file, kind):
    path = write_file(HOSTILE_VERIFIED[kind](company_a.uscc), "verified.csv")
    with pytest.raises(CommandError):
        call_command("import_verified_emissions", path, "--period", "2021", stdout=io.StringIO(), stderr=io.StringIO())
    assert not VerifiedEmission.objects.exists()


def test_verified_emissions_in_full_width_digits_are_recorded(period_2021, company_a, national_regulator):
    content = f"uscc,verified_emissions\n{company_a.uscc},５０，０００\n".encode()
    verified_emissions_import(period=period_2021, stream=io.BytesIO(content), filename="v.csv", actor=national_regulator)
    assert VerifiedEmission.objects.get().tonnes == 50_000


def test_verified_emissions_come_from_an_xlsx_too_every_row_read(period_2021, company_a, company_b, national_regulator):
    content = understated_dimension(xlsx_bytes([[company_a.uscc, 50_000], [company_b.uscc, 7]],
                                               header=["uscc", "verified_emissions"]))
    count = verified_emissions_import(period=period_2021, stream=io.BytesIO(content), filename="v.xlsx", actor=national_regulator)
    assert count == 2 and VerifiedEmission.objects.count() == 2


# --- the admin: a page with the errors, never a 500 ---


@pytest.fixture
def regulator_client(client, national_regulator):
    national_regulator.is_staff = True
    national_regulator.save()
    login(client, national_regulator)
    return client


@pytest.mark.parametrize("kind", sorted(HOSTILE_PLANS))
def test_the_admin_import_answers_hostile_files_with_their_errors(regulator_client, period_2021, cea21, company_a, kind,
                                                                  settings):
    page = regulator_client.post(reverse("admin:allocation_allocationplan_import"), {
        "kind": "pre_allocation", "period": period_2021.pk, "vintage": cea21.pk, "issue_percent": "70",
        "file": SimpleUploadedFile("plan.csv", HOSTILE_PLANS[kind](company_a.uscc))})
    assert page.status_code == 200
    assert 'name="confirm"' not in page.content.decode()
    assert not AllocationPlan.objects.exists() and not AllocationLine.objects.exists()
    # A refused file is not kept (only its error file is, under errors/, for the preview's download).
    assert not [path for path in settings.IMPORT_UPLOAD_DIR.iterdir() if path.is_file()]


def test_every_refusal_is_a_domain_error(period_2021, cea21, company_a, national_regulator):
    """The readers raise nothing else, whatever the bytes (a smoke test over odd inputs)."""
    samples = [b"\xff\xfe\x00\x00", b"PK\x03\x04" + b"\x00" * 100, b'"' * 10, b"uscc\r\r\r\n\n", b"\x00" * 50,
               b"uscc,unit_category,electricity_mwh,heat_gj\n\"unterminated"]
    for content in samples:
        for name in ("p.csv", "p.xlsx"):
            with nothing_saved(), pytest.raises(DomainError):
                plan_import(period_2021, cea21, national_regulator, content, name)
