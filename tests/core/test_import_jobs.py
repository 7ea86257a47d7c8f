"""Issue 15: large admin imports run as a Celery job with a progress page, not in the web worker; the
preview's upload is deleted when confirmed, refused or abandoned (the hourly clean-up)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from allocation.models import AllocationPlan
from allocation.services import period_create
from core import import_jobs
from core.models import ImportJob
from core.tasks import import_job_task, import_uploads_purge_task
from registry.models import Asset
from tests.auth import login

URL = "admin:allocation_allocationplan_import"
HEADER = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"


@pytest.fixture
def period(national_regulator):
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         actor=national_regulator)


@pytest.fixture
def regulator_client(client, national_regulator):
    national_regulator.is_staff = True
    national_regulator.save()
    login(client, national_regulator)
    return client


def form(period, **extra):
    return {"kind": "pre_allocation", "period": period.pk, "vintage": Asset.objects.get(code="CEA21").pk,
            "issue_percent": "70", **extra}


def uploads() -> list[str]:
    # The uploads (a preview's error file waits apart, under errors/).
    return sorted(path.name for path in django_settings.IMPORT_UPLOAD_DIR.iterdir() if path.is_file())


@pytest.fixture(autouse=True)
def _empty_uploads():
    shutil.rmtree(django_settings.IMPORT_UPLOAD_DIR / "errors", ignore_errors=True)  # the previews' error files
    for path in django_settings.IMPORT_UPLOAD_DIR.iterdir():
        path.unlink()


def test_the_confirmed_save_is_queued_as_a_job_not_run_in_the_web_worker(regulator_client, period, company_a, company_b,
                                                                         monkeypatch):
    queued = []
    monkeypatch.setattr(import_job_task, "delay", lambda job_id: queued.append(job_id))
    text = f"{HEADER}{company_a.uscc},coal_gt300,1000000,50000,1\n{company_b.uscc},gas,200000,0,\n"
    preview = regulator_client.post(reverse(URL), form(period, file=SimpleUploadedFile("plan.csv", text.encode())))
    upload = preview.context["upload"]
    assert uploads() == [upload] and upload.endswith(".csv") and "plan" not in upload  # a generated name

    confirmed = regulator_client.post(reverse(URL), form(period, upload=upload, source_name="plan.csv", confirm="yes"))
    job = ImportJob.objects.get()
    assert queued == [job.pk] and job.status == "queued"
    assert not AllocationPlan.objects.exists()  # nothing was saved in the request
    # Confirming the same upload again (a double click) is the same job.
    again = regulator_client.post(reverse(URL), form(period, upload=upload, source_name="plan.csv", confirm="yes"))
    assert again.url == confirmed.url and queued == [job.pk] and ImportJob.objects.count() == 1

    page = regulator_client.get(confirmed.url).content.decode()
    assert '<progress id="import-progress"' in page and 'http-equiv="refresh"' in page and "waiting for a worker" in page

    # The worker runs it: progress moves, the plan is saved, the upload is deleted.
    seen = []
    real = import_jobs._progress

    def spying(job_id, stream, size):
        report = real(job_id, stream, size)

        def spy(phase, done, total):
            report(phase, done, total)
            seen.append(ImportJob.objects.values_list("phase", "percent").get(pk=job_id))

        return spy

    monkeypatch.setattr(import_jobs, "_progress", spying)
    assert import_jobs.import_job_run(job.pk) == "done"
    assert [phase for phase, _ in seen] == ["checking", "saving"]
    job.refresh_from_db()
    plan = AllocationPlan.objects.get()
    assert (job.status, job.percent, job.result["plan"], job.result["units"]) == ("done", 100, plan.pk, 2)
    assert uploads() == []
    page = regulator_client.get(confirmed.url).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert reverse("admin:allocation_allocationplan_change", args=[plan.pk]) in page
    assert import_jobs.import_job_run(job.pk) is None  # a job runs once


def test_a_running_job_shows_its_progress_bar(regulator_client, national_regulator):
    job = ImportJob.objects.create(kind=ImportJob.Kind.ALLOCATION_PLAN, status="running", phase="reading", rows=12_000,
                                   percent=40, upload="0" * 32 + ".csv", source_name="big.xlsx", created_by=national_regulator)
    page = regulator_client.get(reverse("admin:allocation_allocationplan_import_job", args=[job.pk])).content.decode()
    assert '<progress id="import-progress" max="100" value="40">' in page and "12,000 rows so far" in page


def test_only_its_creator_sees_a_job(client, national_regulator, second_national_regulator):
    job = ImportJob.objects.create(kind=ImportJob.Kind.ALLOCATION_PLAN, upload="1" * 32 + ".csv", created_by=national_regulator)
    second_national_regulator.is_staff = True
    second_national_regulator.save()
    login(client, second_national_regulator)
    assert client.get(reverse("admin:allocation_allocationplan_import_job", args=[job.pk])).status_code == 404


def test_a_refused_job_lists_every_row_and_deletes_the_upload(regulator_client, period, company_a, national_regulator):
    text = f"{HEADER}{company_a.uscc},coal_gt300,1000,0,1\n"
    preview = regulator_client.post(reverse(URL), form(period, file=SimpleUploadedFile("plan.csv", text.encode())))
    upload = preview.context["upload"]
    # Between preview and confirmation the unit got a plan: the job refuses, naming the row.
    import io

    from allocation.services import allocation_import

    allocation_import(period=period, vintage=Asset.objects.get(code="CEA21"), stream=io.BytesIO(text.encode()),
                      filename="other.csv", actor=national_regulator)
    confirmed = regulator_client.post(reverse(URL), form(period, upload=upload, source_name="plan.csv", confirm="yes"))
    job = ImportJob.objects.get()
    assert job.status == "refused" and job.result["errors"][0]["row"] == 2 and job.result["errors"][0]["field"] == "uscc"
    assert uploads() == []
    page = regulator_client.get(confirmed.url).content.decode()
    assert "Row 2, USCC:" in page and "Nothing was saved" in page  # the column by its human name


def test_a_preview_with_errors_deletes_its_upload(regulator_client, period, company_a):
    text = f"{HEADER}{company_a.uscc},coal_gt300,-5,0,1\n"
    page = regulator_client.post(reverse(URL), form(period, file=SimpleUploadedFile("plan.csv", text.encode())))
    assert page.status_code == 200 and "must not be negative" in page.content.decode()
    assert uploads() == []


def test_an_unreadable_upload_is_not_kept(regulator_client, period):
    page = regulator_client.post(reverse(URL), form(period, file=SimpleUploadedFile("plan.xlsx", b"not a workbook")))
    assert "not a readable XLSX" in page.content.decode()
    assert uploads() == []


def test_an_upload_name_is_only_ever_a_generated_one(regulator_client, period):
    for name in ("../../config/settings.py", "/etc/passwd", ".env", "x.csv"):
        page = regulator_client.post(reverse(URL), form(period, upload=name, confirm="yes"))
        assert page.status_code == 200 and "Choose a file" in page.content.decode()
    assert not ImportJob.objects.exists()


def test_abandoned_previews_are_deleted_after_the_retention(national_regulator, settings):
    settings.IMPORT_UPLOAD_RETENTION_HOURS = 24
    directory = settings.IMPORT_UPLOAD_DIR
    old, fresh, waiting = (directory / f"{c * 32}.csv" for c in "abc")
    for path in (old, fresh, waiting):
        path.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    os.utime(waiting, (day_ago, day_ago))
    ImportJob.objects.create(kind=ImportJob.Kind.ALLOCATION_PLAN, upload=waiting.name, created_by=national_regulator)
    assert import_uploads_purge_task.delay().get() == 1
    assert uploads() == sorted([fresh.name, waiting.name])
    # A job that never ran for a day is failed, and its file goes at the next clean-up.
    ImportJob.objects.update(updated_at=timezone.now() - dt.timedelta(hours=25))
    import_jobs.uploads_purge()
    assert ImportJob.objects.get().status == "failed" and uploads() == [fresh.name]


def test_the_clean_up_is_in_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["import-uploads-purge-hourly"]
    assert entry["task"] == "core.tasks.import_uploads_purge_task" and entry["schedule"] == 3600.0


# --- verified emissions in the admin: the same preview, job and clean-up ---

VE_URL = "admin:compliance_verifiedemission_import"


def test_verified_emissions_are_previewed_then_recorded_by_a_job(regulator_client, period, company_a, company_b):
    from compliance.models import VerifiedEmission

    text = f"uscc,verified_emissions\n{company_a.uscc},５０，０００\n{company_b.uscc},7\n"
    preview = regulator_client.post(reverse(VE_URL), {"period": period.pk, "file": SimpleUploadedFile("v.csv", text.encode())})
    body = preview.content.decode()
    assert preview.status_code == 200 and "50,007 tCO2e in all" in body and 'name="confirm"' in body
    assert not VerifiedEmission.objects.exists()
    upload = preview.context["upload"]
    confirmed = regulator_client.post(reverse(VE_URL), {"period": period.pk, "upload": upload, "source_name": "v.csv",
                                                        "confirm": "yes"})
    job = ImportJob.objects.get()
    assert confirmed.url == reverse("admin:compliance_verifiedemission_import_job", args=[job.pk])
    assert (job.status, job.result["units"]) == ("done", 2)
    assert VerifiedEmission.objects.count() == 2 and uploads() == []
    assert "2 units saved" in regulator_client.get(confirmed.url).content.decode()


@pytest.mark.parametrize("text", [
    "uscc,verified_emissions\n{a},1e30\n", "uscc,verified_emissions\n{a},٤٩\n", "uscc,verified_emissions\n{a}\x00,5\n",
    "uscc,verified_emissions,uscc\n{a},5,x\n", "uscc,verified_emissions\n{a}," + "1" * 200_000 + "\n",
])
def test_hostile_verified_emissions_files_get_a_page_not_a_500(regulator_client, period, company_a, text):
    page = regulator_client.post(reverse(VE_URL), {"period": period.pk, "file": SimpleUploadedFile(
        "v.csv", text.format(a=company_a.uscc).encode())})
    assert page.status_code == 200 and 'name="confirm"' not in page.content.decode()
    assert uploads() == [] and not ImportJob.objects.exists()
