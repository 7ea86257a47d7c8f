"""Large compliance exports as jobs (reports.export_jobs): the row threshold that switches from the
request to a Celery worker, the job's page and progress, the task called directly and through a real
worker on Redis, the PDF made in parts (every row once, page x of y, identifier, seal head), who may
download the file, its audit record, a failed render and the clean-up."""

import datetime as dt
import io
import time

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from pypdf import PdfReader

from compliance.models import ComplianceResult
from config.celery import app
from core.models import AuditEvent
from reports import exports
from reports.export_jobs import export_files_purge, export_job_task, file_path
from reports.models import ExportJob
from reports.tasks import export_files_purge_task
from tests.auth import login
from tests.factories import OrganizationFactory


def request_export(client, user, period="2021", **query):
    login(client, user)
    return client.get(f"/reports/compliance/{period}/", query)


def pdf_text(content: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    return reader, [page.extract_text() for page in reader.pages]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def many_units(closed_period):
    """90 more Henan units (C, copies of a result: reference data for layout), 94 rows in all."""
    for index in range(90):
        unit = OrganizationFactory(name=f"Layout Unit {index:03d}", province="41", with_accounts=False)
        ComplianceResult.objects.create(period=closed_period, organization=unit, allocated=1, verified_emissions=None,
                                        obligation=0, surrendered_allowances=0, surrendered_offsets=0, shortfall=0,
                                        status="C")
    return closed_period


@pytest.fixture
def as_job(settings):
    """Every PDF and XLSX of more than one row is a job (the closed period has 4, two in Shandong)."""
    settings.REPORTS_PDF_JOB_ROWS = 1
    settings.REPORTS_XLSX_JOB_ROWS = 1


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.REPORTS_EXPORT_DIR = tmp_path / "exports"


# --- the threshold ---


def test_a_pdf_above_the_threshold_redirects_to_its_job(client, auditor, closed_period, as_job):
    response = request_export(client, auditor, format="pdf")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/exports/{job.pk}/"
    assert (job.created_by, job.subject, job.province, job.file_format, job.rows) == (auditor, "2021", "", "pdf", 4)


def test_a_pdf_at_the_threshold_is_made_in_the_request(client, auditor, closed_period, settings):
    settings.REPORTS_PDF_JOB_ROWS = 4
    response = request_export(client, auditor, format="pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert not ExportJob.objects.exists()


def test_csv_is_never_a_job(client, auditor, closed_period, as_job):
    assert request_export(client, auditor, format="csv").status_code == 200
    assert not ExportJob.objects.exists()


def test_a_large_xlsx_is_a_job_too(client, auditor, closed_period, as_job, company_b):
    response = request_export(client, auditor, format="xlsx", status="B")
    assert response.status_code == 200  # one row: below the threshold, made in the request
    response = request_export(client, auditor, format="xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.status == ExportJob.Status.DONE  # tasks run in-process here
    download = client.get(f"/reports/exports/{job.pk}/download/")
    assert download["Content-Type"] == exports.XLSX_TYPE
    assert download["Content-Disposition"] == 'attachment; filename="compliance-2021.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(body(download)))
    sheet = workbook.worksheets[0]
    assert company_b.uscc in [row[1] for row in sheet.iter_rows(values_only=True)]
    assert dict(workbook["About"].iter_rows(values_only=True))["Report identifier"] == job.report_id


# --- the job's page and progress ---


def test_the_jobs_page_shows_rows_rendered_and_refreshes(client, auditor, closed_period):
    job = ExportJob.objects.create(report="compliance", subject="2021", file_format="pdf", report_id="NCR-2021-00000001",
                                   status=ExportJob.Status.RUNNING, rows=3_700, rows_done=1_200,
                                   filename="compliance-2021.pdf", created_by=auditor)
    login(client, auditor)
    page = client.get(f"/reports/exports/{job.pk}/")
    assert page.status_code == 200
    assert b"1,200 of 3,700 rows rendered" in page.content
    assert b'value="32"' in page.content and b'http-equiv="refresh"' in page.content
    assert b"export-download" not in page.content


def test_the_pdf_is_laid_out_in_parts_reporting_progress(many_units, settings, tmp_path):
    from reports import compliance_export
    from reports.selectors import compliance_table, data_snapshot

    table = compliance_table(many_units, None)
    seen = []
    settings.REPORTS_PDF_CHUNK_ROWS = 40
    pages = compliance_export.pdf_file(table, out=tmp_path / "out.pdf", title="Compliance 2021",
                                       snapshot=data_snapshot(many_units), generated=timezone.now(),
                                       report_id="NCR-2021-00000009", progress=seen.append)
    assert seen == [40, 80, 94]
    reader, texts = pdf_text((tmp_path / "out.pdf").read_bytes())
    assert len(reader.pages) == pages and pages >= 3
    assert not list(tmp_path.glob("*.part"))


# --- the job: its file ---


def test_the_jobs_pdf_has_every_row_once_numbered_pages_its_identifier_and_the_seal_head(
        client, auditor, many_units, as_job, settings):
    from registry.models import SealBlock
    from registry.seal import ledger_seal

    settings.REPORTS_PDF_CHUNK_ROWS = 40  # three parts
    ledger_seal()
    head = SealBlock.objects.order_by("-height").first()
    request_export(client, auditor, format="pdf")
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE and job.rows_done == job.rows == 94 and job.percent == 100
    page = client.get(f"/reports/exports/{job.pk}/")
    assert b'id="export-download"' in page.content and b'http-equiv="refresh"' not in page.content
    download = client.get(f"/reports/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    reader, texts = pdf_text(body(download))
    assert len(reader.pages) == job.pages >= 3
    text = "\n".join(texts)
    for number, page_text in enumerate(texts, start=1):
        assert f"Page {number} of {job.pages}" in page_text
        assert "Verified emissions (t)" in page_text and job.report_id in page_text
    assert all(text.count(f"Layout Unit {index:03d}") == 1 for index in range(90))
    assert text.count("Total (94 units)") == 1 and "Total (94 units)" in texts[-1]
    assert "Issued by" in texts[0] and "National Carbon Allowance Registry" in texts[0]
    assert head.block_hash in texts[0].replace("\n", "") and f"height {head.height}" in texts[0]
    event = AuditEvent.objects.filter(action="report.export").order_by("id").first()
    assert job.report_id == f"NCR-2021-{event.pk:08d}"


def test_the_task_called_directly_makes_the_file_once(auditor, closed_period):
    job = ExportJob.objects.create(report="compliance", subject="2021", province="37", file_format="pdf",
                                   report_id="NCR-2021-00000042", rows=2, filename="compliance-2021-37.pdf",
                                   params={"status": "", "sort": "name"}, created_by=auditor)
    assert export_job_task(job.pk) == ExportJob.Status.DONE
    job.refresh_from_db()
    assert (job.status, job.rows, job.rows_done, job.pages) == (ExportJob.Status.DONE, 2, 2, 1)
    path = file_path(job.file)
    _, texts = pdf_text(path.read_bytes())
    assert "NCR-2021-00000042" in texts[0] and "Page 1 of 1" in texts[0] and "Total (2 units)" in texts[0]
    assert "Jiangsu" not in "".join(texts)  # the Shandong table only
    assert export_job_task(job.pk) is None  # a second delivery does nothing
    job.refresh_from_db()
    assert file_path(job.file) == path


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_makes_the_file(client, auditor, closed_period, as_job, settings):
    settings.REPORTS_PDF_CHUNK_ROWS = 2  # two parts, joined and numbered in the worker
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    assert app.conf.broker_url.startswith("redis://"), "the test suite runs against a real Redis"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = request_export(client, auditor, format="pdf")
        job = ExportJob.objects.get()
        assert response.status_code == 302
        for _ in range(300):
            job.refresh_from_db()
            if job.finished:
                break
            time.sleep(0.1)
    assert job.status == ExportJob.Status.DONE, job.message
    assert job.rows_done == 4 and job.pages == 2
    download = client.get(f"/reports/exports/{job.pk}/download/")
    _, texts = pdf_text(body(download))
    assert job.report_id in texts[0] and "Total (4 units)" in texts[1]
    assert "Page 1 of 2" in texts[0] and "Page 2 of 2" in texts[1]


# --- who may download ---


def test_another_company_or_province_is_refused_the_file(client, auditor, closed_period, as_job, trader_a,
                                                          jiangsu_regulator, shandong_regulator, national_regulator):
    request_export(client, national_regulator, format="pdf", province="37")
    request_export(client, auditor, format="pdf")
    shandong_job, national_job = ExportJob.objects.order_by("id")
    assert shandong_job.province == "37" and national_job.province == ""

    def fetch(user, job):
        login(client, user)
        return client.get(f"/reports/exports/{job.pk}/download/").status_code, client.get(f"/reports/exports/{job.pk}/").status_code

    assert fetch(trader_a, shandong_job) == (403, 403)  # a company never reads the table
    assert fetch(jiangsu_regulator, shandong_job) == (403, 403)  # another province
    assert fetch(shandong_regulator, national_job) == (403, 403)  # every province's rows: not a province's reader
    assert fetch(shandong_regulator, shandong_job) == (200, 200)  # the same scope
    assert fetch(national_regulator, national_job) == (200, 200)  # the same report permission, national
    assert fetch(auditor, national_job) == (200, 200)  # the requester
    login(client, auditor)
    assert client.get("/reports/exports/999999/").status_code == 404


def test_each_download_is_audited(client, auditor, closed_period, as_job, national_regulator):
    request_export(client, auditor, format="pdf", status="C")
    job = ExportJob.objects.get()
    requested = AuditEvent.objects.get(action="report.export")
    assert requested.actor == auditor and requested.after == {
        "format": "pdf", "rows": 2, "filters": {"province": "", "status": "C", "job": True}}
    login(client, national_regulator)
    client.get(f"/reports/exports/{job.pk}/download/")
    downloaded = AuditEvent.objects.filter(action="report.export").exclude(pk=requested.pk).get()
    assert downloaded.actor == national_regulator and downloaded.object_id == "2021"
    assert downloaded.after == {"format": "pdf", "rows": 2, "filters": {
        "province": "", "status": "C", "job": job.pk, "report_id": job.report_id}}


# --- failures and the clean-up ---


def test_a_failed_render_leaves_the_job_failed_with_a_clear_message(client, auditor, closed_period, as_job, monkeypatch,
                                                                   settings):
    def broken(*args, **kwargs):
        raise RuntimeError("Pango ran out of memory")

    monkeypatch.setattr("reports.compliance_export.pdf_file", broken)
    response = request_export(client, auditor, format="pdf")
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ExportJob.Status.FAILED and job.finished_at and not job.file
    assert "could not be made" in job.message and "Pango" not in job.message
    page = client.get(f"/reports/exports/{job.pk}/")
    assert page.status_code == 200 and job.message.encode() in page.content
    assert client.get(f"/reports/exports/{job.pk}/download/").status_code == 404
    assert not list(settings.REPORTS_EXPORT_DIR.glob("*"))


def test_a_requester_who_lost_the_permission_gets_a_failed_job_not_the_rows(auditor, closed_period):
    job = ExportJob.objects.create(report="compliance", subject="2021", file_format="pdf", report_id="NCR-2021-00000043",
                                   rows=4, filename="compliance-2021.pdf", created_by=auditor)
    auditor.groups.clear()
    assert export_job_task(job.pk) == ExportJob.Status.FAILED
    job.refresh_from_db()
    assert job.message == "Only auditors and regulators read the compliance table." and not job.file


def test_the_hourly_clean_up_deletes_old_files_and_says_so(client, auditor, closed_period, as_job, settings):
    request_export(client, auditor, format="pdf")
    job = ExportJob.objects.get()
    path = file_path(job.file)
    assert path.exists() and export_files_purge_task() == 0  # fresh: kept
    stray = settings.REPORTS_EXPORT_DIR / "0123456789abcdef0123456789abcdef.pdf.part"  # a killed worker's
    stray.write_bytes(b"%PDF-")
    assert export_files_purge(now=timezone.now() + dt.timedelta(hours=23)) == 0
    assert export_files_purge(now=timezone.now() + dt.timedelta(hours=25)) == 2
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED and not path.exists() and not stray.exists()
    page = client.get(f"/reports/exports/{job.pk}/")
    assert b"no longer kept" in page.content
    assert client.get(f"/reports/exports/{job.pk}/download/").status_code == 404


def test_a_layout_process_that_dies_fails_the_job_and_leaves_no_files(auditor, many_units, settings, monkeypatch):
    settings.REPORTS_PDF_CHUNK_ROWS, settings.REPORTS_PDF_PROCESSES = 40, 2
    monkeypatch.setattr("sys.executable", "/bin/false")  # the processes that lay out the parts exit at once
    job = ExportJob.objects.create(report="compliance", subject="2021", file_format="pdf", report_id="NCR-2021-00000044",
                                   rows=94, filename="compliance-2021.pdf", created_by=auditor)
    assert export_job_task(job.pk) == ExportJob.Status.FAILED
    job.refresh_from_db()
    assert "could not be made" in job.message and job.rows_done == 0
    assert not list(settings.REPORTS_EXPORT_DIR.iterdir())


def test_the_parts_laid_out_side_by_side_match_those_laid_out_one_by_one(many_units, settings, tmp_path):
    from reports import compliance_export
    from reports.selectors import compliance_table, data_snapshot

    table, generated = compliance_table(many_units, None), timezone.now()
    settings.REPORTS_PDF_CHUNK_ROWS = 30
    texts = {}
    for processes in (1, 3):
        settings.REPORTS_PDF_PROCESSES = processes
        out = tmp_path / f"{processes}.pdf"
        compliance_export.pdf_file(table, out=out, title="Compliance 2021", snapshot=data_snapshot(many_units),
                                   generated=generated, report_id="NCR-2021-00000010")
        texts[processes] = pdf_text(out.read_bytes())[1]
    assert texts[1] == texts[3] and len(texts[1]) >= 4
    assert sorted(path.name for path in tmp_path.iterdir()) == ["1.pdf", "3.pdf"]  # no part left behind


def test_the_reports_page_lists_ones_own_recent_exports(client, auditor, national_regulator, closed_period, as_job):
    request_export(client, national_regulator, format="pdf")
    request_export(client, auditor, format="pdf")
    own = ExportJob.objects.get(created_by=auditor)
    page = client.get("/reports/").content.decode()
    assert f'href="/reports/exports/{own.pk}/"' in page and own.report_id in page
    assert ExportJob.objects.exclude(pk=own.pk).get().report_id not in page  # another's job is not listed


def test_an_unreachable_queue_refuses_the_export_with_the_reason(client, auditor, closed_period, as_job, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(export_job_task, "delay", unreachable)
    response = request_export(client, auditor, format="pdf")
    assert response.status_code == 400 and b"The job queue is unreachable" in response.content
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED and "unreachable" in job.message


def test_the_job_writes_the_file_in_the_requests_language(client, auditor, closed_period, as_job):
    login(client, auditor)
    client.cookies["django_language"] = "zh-hans"
    client.get("/reports/compliance/2021/", {"format": "pdf"})
    job = ExportJob.objects.get()
    assert job.params["language"] == "zh-hans" and job.status == ExportJob.Status.DONE
    _, texts = pdf_text(body(client.get(f"/reports/exports/{job.pk}/download/")))
    assert "出具方" in texts[0] and "报表编号" in texts[0] and job.report_id in texts[0]


def test_a_table_that_shrank_since_the_request_is_counted_as_rendered(auditor, closed_period):
    job = ExportJob.objects.create(report="compliance", subject="2021", file_format="pdf", report_id="NCR-2021-00000045",
                                   rows=50, filename="compliance-2021.pdf", created_by=auditor)
    assert export_job_task(job.pk) == ExportJob.Status.DONE
    job.refresh_from_db()
    assert (job.rows, job.rows_done) == (4, 4)
