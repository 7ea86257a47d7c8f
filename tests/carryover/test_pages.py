"""The carry-over pages: the company's statement page and API, and the regulators' review page in the
admin (compute, submit, approve by a second regulator, CSV export)."""

import csv
import io

import pytest
from django.test import Client

from carryover.models import CarryOverWindow
from carryover.services import carryover_approve, carryover_compute, carryover_submit
from registry.models import Balance, Transfer
from tests.auth import login
from tests.carryover.conftest import give
from tests.factories import api_client_for


@pytest.fixture
def approved_window(window, company_a, company_b, national_regulator, second_national_regulator):
    give(company_a, "CEA19-20", 3_000, national_regulator)
    give(company_a, "CEA21", 8_500, national_regulator)
    give(company_b, "CEA21", 25_000, national_regulator)
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator, reason="closed")
    carryover_approve(window=window, actor=second_national_regulator, reason="checked")
    return window


@pytest.fixture(autouse=True)
def staff(national_regulator, second_national_regulator, shandong_regulator):
    for user in (national_regulator, second_national_regulator, shandong_regulator):
        user.is_staff = True
        user.save()


def review_url(window):
    return f"/admin/carryover/carryoverwindow/{window.pk}/review/"


def test_the_statement_page_shows_the_companys_cap_holding_and_what_was_not_carried(approved_window, trader_a):
    response = login(Client(), trader_a).get("/carry-over/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Plan window 2019-2024" in page
    assert 'class="num cap">10,000' in page and 'class="num holding">11,500' in page
    assert 'class="num not-carried">1,500' in page and "CEA19-20" in page
    assert "Datang Jiangsu" not in page  # company B's statement is B's alone


def test_the_statement_page_in_chinese(approved_window, trader_a):
    client = login(Client(), trader_a)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/carry-over/").content.decode()
    assert "结转" in page


def test_the_api_lists_only_the_callers_statements(approved_window, trader_b, company_b):
    response = api_client_for(trader_b).get("/api/v1/carry-over-statements/")

    assert response.status_code == 200
    (statement,) = response.json()
    assert (statement["uscc"], statement["cap"], statement["holding"], statement["not_carried"]) == (company_b.uscc, 10_000, 25_000, 15_000)
    assert statement["marked"] == [{"asset": "CEA21", "quantity": 15_000}]


def test_two_regulators_decide_on_the_review_page(window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 10_001, national_regulator)
    maker, checker = login(Client(), national_regulator), login(Client(), second_national_regulator)

    assert maker.post(review_url(window), {"decision": "compute"}).status_code == 302
    assert maker.post(review_url(window), {"decision": "submit", "reason": "Window closed"}).status_code == 302
    page = maker.get(review_url(window)).content.decode()
    assert 'id="carry-over-awaiting"' in page and 'value="approve"' not in page
    assert maker.post(review_url(window), {"decision": "approve", "reason": "mine"}).status_code == 403

    assert checker.post(review_url(window), {"decision": "approve", "reason": "Checked"}).status_code == 302

    window.refresh_from_db()
    assert window.status == CarryOverWindow.Status.APPROVED and window.decided_by == second_national_regulator
    assert Balance.objects.get(account__organization=company_a, account__kind="holding", asset__code="CEA21").not_carried == 1
    assert Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER).count() == 1
    assert "1 ledger transfer" in checker.get(review_url(window)).content.decode()


def test_a_refusal_is_shown_on_the_review_page_and_changes_nothing(window, closed_periods, national_regulator):
    from allocation.models import CompliancePeriod

    CompliancePeriod.objects.filter(code="2023").update(status=CompliancePeriod.Status.OPEN)
    client = login(Client(), national_regulator)
    response = client.post(review_url(window), {"decision": "compute"}, follow=True)
    assert "has not closed" in response.content.decode()
    assert not window.lines.exists()


def test_the_export_lists_every_companys_statement(approved_window, national_regulator, company_a, company_b):
    response = login(Client(), national_regulator).get(f"/admin/carryover/carryoverwindow/{approved_window.pk}/statements.csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Company", "USCC"]
    by_uscc = {row[1]: row for row in rows[1:]}
    assert by_uscc[company_b.uscc][5:] == ["10000", "25000", "15000", "25000", "15000", "0"]
    assert by_uscc[company_a.uscc][9] == "1500"


def test_the_review_page_is_closed_to_a_provincial_regulator(approved_window, shandong_regulator):
    client = login(Client(), shandong_regulator)
    assert client.get(review_url(approved_window)).status_code == 403
    assert client.get(f"/admin/carryover/carryoverwindow/{approved_window.pk}/statements.csv").status_code == 403


def test_the_parameters_are_read_only_once_submitted(window, national_regulator):
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator)
    client = login(Client(), national_regulator)
    client.post(f"/admin/carryover/carryoverwindow/{window.pk}/change/", {
        "code": "2019-2024", "first_year": 2019, "last_year": 2024, "trades_from": "2019-01-01",
        "trades_until": "2026-01-01", "base_tonnes": 1, "sales_multiplier": "9"})
    window.refresh_from_db()
    assert window.base_tonnes == 10_000


def test_a_regulator_creates_a_window_in_the_admin_with_the_settings_defaults(national_regulator, settings):
    from core.models import AuditEvent

    settings.CARRY_OVER_BASE_TONNES = 12_000
    client = login(Client(), national_regulator)
    form = client.get("/admin/carryover/carryoverwindow/add/").content.decode()
    assert 'value="12000"' in form and 'value="1.5"' in form

    response = client.post("/admin/carryover/carryoverwindow/add/", {
        "code": "2023-2024", "first_year": 2023, "last_year": 2024, "trades_from": "2023-01-01",
        "trades_until": "2025-12-31", "base_tonnes": 12_000, "sales_multiplier": "1.5"})

    assert response.status_code == 302
    window = CarryOverWindow.objects.get(code="2023-2024")
    assert (window.base_tonnes, window.status) == (12_000, CarryOverWindow.Status.DRAFT)
    assert AuditEvent.objects.filter(action="carryoverwindow.create", object_id=str(window.pk)).exists()
