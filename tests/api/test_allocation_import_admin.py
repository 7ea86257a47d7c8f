"""The admin import: upload, a dry-run preview of every row, then confirm (all rows or none)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from allocation.models import AllocationPlan
from allocation.services import period_create
from core.models import ImportJob
from registry.models import Asset
from tests.auth import login

URL = "admin:allocation_allocationplan_import"


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


def upload(client, period, text, name="plan.csv"):
    return client.post(reverse(URL), {
        "kind": "pre_allocation", "period": period.pk, "vintage": Asset.objects.get(code="CEA21").pk, "issue_percent": "70",
        "file": SimpleUploadedFile(name, text.encode()),
    })


def test_the_preview_shows_every_rows_figures_and_saves_nothing(regulator_client, period, company_a, company_b):
    text = (f"uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"
            f"{company_a.uscc},coal_gt300,1000000,50000,1\n{company_b.uscc},gas,200000,0,\n")
    page = upload(regulator_client, period, text)
    body = page.content.decode()
    assert page.status_code == 200
    assert "827,325" in body and "579,128" in body  # 1,000,000 x 0.8218 + 50,000 x 0.1105; 70 % of it
    assert "78,400" in body and "54,880" in body  # 200,000 x 0.392; 70 %
    assert 'name="confirm"' in body
    assert not AllocationPlan.objects.exists()

    upload_token = page.context["upload"]
    saved = regulator_client.post(reverse(URL), {
        "kind": "pre_allocation", "period": period.pk, "vintage": Asset.objects.get(code="CEA21").pk, "issue_percent": "70",
        "upload": upload_token, "source_name": "plan.csv", "confirm": "yes",
    })
    # The save is a job (run in-process here: tasks are eager in tests), its page shows the outcome.
    job = ImportJob.objects.get()
    assert saved.status_code == 302 and saved.url == reverse("admin:allocation_allocationplan_import_job", args=[job.pk])
    plan = AllocationPlan.objects.get()
    assert (plan.status, plan.total_issue, plan.lines.count()) == ("draft", 579_128 + 54_880, 2)
    page = regulator_client.get(saved.url)
    assert page.status_code == 200
    assert reverse("admin:allocation_allocationplan_change", args=[plan.pk]) in page.content.decode()
    assert (job.__class__.objects.get().status, job.created_by_id) == ("done", page.wsgi_request.user.pk)


def test_bad_rows_are_listed_and_cannot_be_confirmed(regulator_client, period, company_a):
    text = (f"uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"
            f"{company_a.uscc},coal_gt300,-5,0,1\n91110000600037341L,oil,100,0,1\n{company_a.uscc},gas,1,0,1\n")
    body = upload(regulator_client, period, text).content.decode()
    assert "must not be negative" in body
    assert "no registered organization has USCC 91110000600037341L" in body
    assert "unknown category" in body
    assert "duplicate unit" in body
    assert 'name="confirm"' not in body
    assert not AllocationPlan.objects.exists()


def test_a_trader_cannot_open_the_import(client, trader_a):
    trader_a.is_staff = True
    trader_a.save()
    login(client, trader_a)
    assert client.get(reverse(URL)).status_code == 403
