"""The public disclosure (/disclosure/): no login; per period, once its deadline is processed, each
unit's verified emissions, surrendered units and status, and nothing else."""

from django.utils.html import escape

from tests.reports.conftest import FORMULA_NAME


def test_the_periods_page_lists_only_processed_periods(client, surrendered):
    response = client.get("/disclosure/")
    assert response.status_code == 200
    assert list(response.context["periods"]) == []


def test_before_the_deadline_job_a_period_is_not_published(client, surrendered):
    response = client.get("/disclosure/2021/")
    assert response.status_code == 200
    assert not response.context["published"] and b'id="not-published"' in response.content
    assert b"Huaneng" not in response.content


def test_each_units_emissions_surrenders_and_status_without_login(client, closed_period, company_a, company_b, company_c):
    assert list(client.get("/disclosure/").context["periods"]) == [closed_period]
    response = client.get("/disclosure/2021/")
    assert response.status_code == 200
    rows = {row["uscc"]: (row["verified_emissions"], row["surrendered"], row["status"]) for row in response.context["page"]}
    assert rows[company_a.uscc] == (50_000, 50_000, "A")
    assert rows[company_b.uscc] == (100_000, 53_000, "B")
    assert rows[company_c.uscc] == (None, 0, "C")
    assert len(rows) == 4
    # Fines and allocations are the auditors' business, not published here.
    assert b"Fine" not in response.content and b"57,526" not in response.content
    # Names are shown as text.
    assert escape(FORMULA_NAME).encode() in response.content


def test_the_province_filter(client, closed_period, company_b):
    rows = list(client.get("/disclosure/2021/", {"province": "32"}).context["page"])
    assert [row["uscc"] for row in rows] == [company_b.uscc]


def test_an_unknown_period_is_a_404(client, closed_period):
    assert client.get("/disclosure/1999/").status_code == 404
