"""Issue 15, attachments: types sniffed strictly from the content, stored under a generated name,
served with a safe Content-Disposition (RFC 6266) whatever the uploader called the file."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import EmissionReport
from compliance.verification import attachment_kind, emission_report_file
from core.errors import DomainError
from core.http import content_disposition, safe_filename
from tests.auth import login
from tests.compliance.helpers import CSV, PDF, xlsx_bytes


@pytest.mark.parametrize("content", [
    b"<html><body>a,b</body></html>\n1,2\n",
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">,</svg>\n',
    b"a,b\n<script>alert(1)</script>,2\n",
    b"<!DOCTYPE html>,x\n1,2\n",
    b"a,b\n1,<img src=x onerror=alert(1)>\n",
    b"a,b\n1,2,3\n4\n",  # rows of different widths: not the shape of a table
    b"one column only\nstill one\n",
], ids=["html", "svg", "script-cell", "doctype", "img-cell", "ragged", "one-column"])
def test_markup_or_a_shapeless_text_is_not_a_csv(content):
    assert attachment_kind(content) is None


def test_a_table_is_a_csv_in_utf8_or_gb18030_with_any_usual_delimiter():
    assert attachment_kind(CSV) == "csv"
    assert attachment_kind("单位;排放量\n一号机组;52000\n".encode("gb18030")) == "csv"
    assert attachment_kind(b"unit\ttonnes\nA\t1\n") == "csv"
    assert attachment_kind(b"note,value\nless than,<5\n") == "csv"  # a "<" that opens no tag is text


def zip_of(**parts: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name.replace("__", "/").replace("_ct", "[Content_Types].xml"), data)
    return out.getvalue()


def test_a_zip_with_an_xl_folder_is_not_an_xlsx_unless_openpyxl_opens_it():
    fake = zip_of(**{"_ct": b"<Types/>", "xl__workbook.xml": b"<html><script>alert(1)</script></html>",
                     "xl__evil.html": b"<script>"})
    assert attachment_kind(fake) is None
    assert attachment_kind(xlsx_bytes()) == "xlsx"


def test_a_macro_workbook_is_not_an_xlsx():
    book = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in book.infolist():
            archive.writestr(item, book.read(item.filename))
        archive.writestr("xl/vbaProject.bin", b"\x00macro")
    assert attachment_kind(out.getvalue()) is None


@pytest.mark.parametrize("content", [b"%PDF-1.4\n<html><script>alert(1)</script>", b"%PDF-x\n%%EOF\n", b"%PDF-"])
def test_a_pdf_needs_its_header_and_its_trailer(content):
    assert attachment_kind(content) is None


def test_a_real_looking_pdf_is_a_pdf():
    assert attachment_kind(PDF) == "pdf"


# --- stored and served ---


def file_report(officer, period, name: str, content: bytes = PDF) -> EmissionReport:
    return emission_report_file(user=officer, period=period, emissions=1,
                                attachment=SimpleUploadedFile(name, content, content_type="application/octet-stream"))


@pytest.mark.parametrize("name", ['../../etc/passwd', 'a"b\r\nSet-Cookie: x=1.pdf', "..\\..\\boot.ini", "report\u202efdp.exe"])
def test_the_stored_path_never_holds_the_uploaders_name(assigned, period, officer, name):
    report = file_report(officer, period, name)
    assert re.fullmatch(rf"emission-reports/{period.pk}/[0-9a-f]{{32}}\.pdf", report.attachment.name)
    assert "/" not in report.attachment_name and "\\" not in report.attachment_name
    assert not set(report.attachment_name) & {'"', "\r", "\n", "\u202e"}
    assert report.attachment_name.endswith(".pdf")


@pytest.mark.parametrize(("name", "header"), [
    ("report-2021.pdf", 'attachment; filename="report-2021.pdf"'),
    ('a"b\r\nSet-Cookie: x=1.pdf', 'attachment; filename="a_b__Set-Cookie_ x=1.pdf"'),
    ("../../etc/passwd", 'attachment; filename="passwd.pdf"'),
    ("排放报告2021.pdf", "attachment; filename=\"____2021.pdf\"; filename*=UTF-8''%E6%8E%92%E6%94%BE%E6%8A%A5%E5%91%8A2021.pdf"),
    ("报告.pdf", "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"),
    ("report.html", 'attachment; filename="report.pdf"'),  # the kind recognised, not the name given
])
def test_the_download_offers_a_safe_name(client, assigned, period, officer, name, header):
    report = file_report(officer, period, name)
    login(client, officer)
    download = client.get(f"/compliance/reports/{report.pk}/file/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == header
    assert download["Content-Type"] == "application/pdf"


def test_an_html_upload_named_csv_is_refused(assigned, period, officer):
    with pytest.raises(DomainError) as refused:
        file_report(officer, period, "data.csv", b"<html><body onload=alert(1)>a,b</body></html>\n")
    assert (refused.value.code, refused.value.field) == ("attachment_type", "attachment")
    assert not EmissionReport.objects.exists()


def test_content_disposition_never_carries_a_control_character_or_separator():
    for name in ["\x00\x01.pdf", "a/b\\c.pdf", 'q"uo;te.pdf', "%0d%0a.pdf", "x" * 500 + ".pdf", "", "...", "\u2066.pdf"]:
        value = content_disposition(name, extension="pdf")
        assert not re.search(r"[\x00-\x1f\x7f]", value)
        fallback = value.split('filename="')[1].split('"')[0]
        assert not set(fallback) & set('/\\";%') and fallback.endswith(".pdf") and len(fallback) <= 120
    assert safe_filename("") == "download"
