"""The allocation admin through Django's test client: regulators open the plan and period pages; a
plan's review page shows the checker its facts and takes each decision with a reason (the maker is
not offered Approve); a provincial regulator sees only the plans all of whose units are in its province."""

from __future__ import annotations

import pytest
from django.urls import reverse

from allocation.models import AllocationPlan
from allocation.services import plan_submit
from registry.models import Transfer
from tests.allocation.conftest import available, import_csv, nothing_saved
from tests.auth import login

CHANGELIST = "admin:allocation_allocationplan_changelist"

# 2021: a: 1,000 MWh coal > 300 MW x 0.8218 = 821.8 -> 822 t, 70 %: 575.4 -> 575 t
#       b: 1,000 MWh gas x 0.392 = 392 + 1,000 GJ x 0.0557 = 55.7 -> 447.7 -> 448 t, 70 %: 313.6 -> 314 t
ROW_A_ISSUE, ROW_B_ISSUE = 575, 314


def row_a(company):
    return [company.uscc, "coal_gt300", "1000", "0", "1"]


def row_b(company):
    return [company.uscc, "gas", "1000", "1000", "1"]


@pytest.fixture
def staff(national_regulator, second_national_regulator, shandong_regulator):
    for user in (national_regulator, second_national_regulator, shandong_regulator):
        user.is_staff = True
        user.save()


@pytest.fixture
def national_plan(staff, period_2021, cea21, company_a, company_b, national_regulator) -> AllocationPlan:
    """A Shandong and a Jiangsu unit, drafted and submitted by national_regulator."""
    plan = import_csv(period=period_2021, vintage=cea21, rows=[row_a(company_a), row_b(company_b)], actor=national_regulator)
    return plan_submit(plan=plan, actor=national_regulator, reason="Pre-allocation from the 2021 estimates")


@pytest.fixture
def shandong_only_plan(staff, period_2021, cea21, shandong_units, shandong_regulator) -> AllocationPlan:
    # Another Shandong unit: company_a already has its 2021 pre-allocation in national_plan.
    return import_csv(period=period_2021, vintage=cea21, rows=[row_a(shandong_units[0])], actor=shandong_regulator)


def change_url(plan: AllocationPlan) -> str:
    return reverse("admin:allocation_allocationplan_change", args=[plan.pk])


def review_url(plan: AllocationPlan) -> str:
    return reverse("admin:allocation_allocationplan_review", args=[plan.pk])


def decide(client, plan: AllocationPlan, decision: str, reason: str):
    return client.post(review_url(plan), {"decision": decision, "reason": reason})


# --- pages ---


def test_the_national_regulator_opens_the_plan_pages(client, national_plan, company_a, company_b, national_regulator):
    login(client, national_regulator)
    listing = client.get(reverse(CHANGELIST))
    assert listing.status_code == 200
    assert change_url(national_plan) in listing.content.decode()
    assert review_url(national_plan) in listing.content.decode()

    page = client.get(change_url(national_plan))
    body = page.content.decode()
    assert page.status_code == 200
    assert review_url(national_plan) in body
    assert "plan.import" in body and "plan.submit" in body  # the plan's history
    assert 'name="_save"' not in body  # plans change only through their review page

    assert client.get(reverse("admin:allocation_allocationplan_import")).status_code == 200


def test_the_national_regulator_opens_the_period_pages(client, staff, period_2021, national_regulator):
    login(client, national_regulator)
    listing = client.get(reverse("admin:allocation_complianceperiod_changelist"))
    assert listing.status_code == 200 and "2021" in listing.content.decode()
    page = client.get(reverse("admin:allocation_complianceperiod_change", args=[period_2021.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "0.8218" in body and "0.8773" in body and "0.9350" in body and "0.0557" in body  # the seeded benchmark table
    assert client.get(reverse("admin:allocation_complianceperiod_add")).status_code == 200


def test_the_shandong_regulator_does_not_see_a_plan_with_a_jiangsu_unit(
    client, national_plan, shandong_only_plan, shandong_regulator
):
    login(client, shandong_regulator)
    listing = client.get(reverse(CHANGELIST))
    body = listing.content.decode()
    assert listing.status_code == 200
    assert change_url(shandong_only_plan) in body
    assert change_url(national_plan) not in body
    # Opening it by its address: the admin treats an object outside the queryset as missing.
    response = client.get(change_url(national_plan))
    assert response.status_code == 302 and change_url(national_plan) not in response.url
    assert client.get(review_url(national_plan)).status_code == 404


def test_the_shandong_regulator_cannot_approve_through_the_admin(client, national_plan, shandong_only_plan,
                                                                 shandong_regulator, company_a, cea21):
    login(client, shandong_regulator)
    with nothing_saved():
        assert decide(client, national_plan, "approve", "trying").status_code == 404
    plan_submit(plan=shandong_only_plan, actor=shandong_regulator)
    page = client.get(review_url(shandong_only_plan)).content.decode()
    assert 'value="approve"' not in page  # a provincial regulator is no checker
    with nothing_saved():
        assert decide(client, shandong_only_plan, "approve", "trying").status_code == 403
    national_plan.refresh_from_db()
    assert national_plan.status == AllocationPlan.Status.SUBMITTED and available(company_a, cea21) == 0


# --- deciding on the review page ---


def test_the_checker_sees_the_plans_facts_then_approves_with_a_reason(
    client, national_plan, company_a, company_b, cea21, national_regulator, second_national_regulator
):
    login(client, second_national_regulator)
    with nothing_saved():
        page = client.get(review_url(national_plan))
    body = page.content.decode()
    assert page.status_code == 200
    assert f"{ROW_A_ISSUE + ROW_B_ISSUE:,}" in body  # the plan's total to issue, 889 t
    assert "Shandong" in body and "Jiangsu" in body  # by province
    assert "Coal" in body and "Gas" in body  # by category
    assert company_a.name in body and company_b.name in body  # the lines
    assert str(national_regulator) in body and "the 2021 estimates" in body  # the maker and the maker's reason
    assert 'value="approve"' in body and 'value="reject"' in body

    with nothing_saved():
        no_reason = decide(client, national_plan, "approve", "   ")
    assert no_reason.status_code == 200 and "This field is required" in no_reason.content.decode()

    done = decide(client, national_plan, "approve", "Checked against the estimates")
    assert (done.status_code, done.url) == (302, review_url(national_plan))
    national_plan.refresh_from_db()
    assert national_plan.status == AllocationPlan.Status.ISSUED
    assert national_plan.decided_by == second_national_regulator
    assert national_plan.decision_reason == "Checked against the estimates"
    assert (available(company_a, cea21), available(company_b, cea21)) == (ROW_A_ISSUE, ROW_B_ISSUE)
    assert Transfer.objects.filter(reference=f"plan:{national_plan.pk}").count() == 1 + 2

    after = client.get(review_url(national_plan))
    messages = [str(message) for message in after.context["messages"]]
    assert messages == [f"Plan {national_plan.pk} approved: {ROW_A_ISSUE + ROW_B_ISSUE:,} t issued to 2 units."]
    body = after.content.decode()
    assert f"?q=plan:{national_plan.pk}" in body and "3 ledger transfers" in body  # what was issued, linked
    assert 'value="approve"' not in body
    assert "Checked against the estimates" in body and "the 2021 estimates" in body  # both reasons in the history


def test_the_maker_is_not_offered_approve(client, national_plan, national_regulator, company_a, cea21):
    login(client, national_regulator)
    page = client.get(review_url(national_plan)).content.decode()
    assert 'value="approve"' not in page and "a second national regulator approves" in page
    with nothing_saved():
        assert decide(client, national_plan, "approve", "my own plan").status_code == 403
    national_plan.refresh_from_db()
    assert national_plan.status == AllocationPlan.Status.SUBMITTED and available(company_a, cea21) == 0


def test_submit_keeps_the_reason_and_reject_issues_nothing(client, shandong_only_plan, shandong_regulator, national_regulator):
    from core.models import AuditEvent

    login(client, shandong_regulator)
    assert decide(client, shandong_only_plan, "submit", "Ready: checked against the plants' returns").status_code == 302
    shandong_only_plan.refresh_from_db()
    assert shandong_only_plan.status == AllocationPlan.Status.SUBMITTED
    assert shandong_only_plan.submitted_by == shandong_regulator
    assert shandong_only_plan.submission_reason == "Ready: checked against the plants' returns"
    event = AuditEvent.objects.get(action="plan.submit", object_id=str(shandong_only_plan.pk))
    assert event.after["reason"] == "Ready: checked against the plants' returns"

    login(client, national_regulator)
    decide(client, shandong_only_plan, "reject", "Heat output missing")
    shandong_only_plan.refresh_from_db()
    assert shandong_only_plan.status == AllocationPlan.Status.REJECTED
    assert shandong_only_plan.decision_reason == "Heat output missing"
    assert not Transfer.objects.filter(reference=f"plan:{shandong_only_plan.pk}").exists()


def test_a_plans_lines_are_paged_and_searchable(client, staff, period_2021, cea21, shandong_units, national_regulator):
    from allocation import admin as allocation_admin

    plan = import_csv(period=period_2021, vintage=cea21, rows=[row_a(unit) for unit in shandong_units], actor=national_regulator)
    login(client, national_regulator)
    size = allocation_admin.REVIEW_LINES_PER_PAGE
    allocation_admin.REVIEW_LINES_PER_PAGE = 2
    try:
        first = client.get(review_url(plan)).content.decode()
        wanted = shandong_units[-1]
        found = client.get(review_url(plan), {"q": wanted.uscc}).content.decode()
    finally:
        allocation_admin.REVIEW_LINES_PER_PAGE = size
    assert f"Page 1 of {(len(shandong_units) + 1) // 2}" in first
    assert wanted.name in found and "(1 lines)" in found


def test_editing_the_benchmark_table_in_the_admin_is_audited(client, staff, period_2021, national_regulator):
    from core.models import AuditEvent

    login(client, national_regulator)
    url = reverse("admin:allocation_complianceperiod_change", args=[period_2021.pk])
    page = client.get(url)
    formset = page.context["inline_admin_formsets"][0].formset
    data = {
        "code": period_2021.code, "first_year": 2021, "last_year": 2021, "vintages": [v.pk for v in period_2021.vintages.all()],
        "emission_report_deadline": "2022-03-31", "verification_deadline": "2022-06-30", "surrender_deadline": "2022-12-31",
        "status": period_2021.status, "fine_regime": period_2021.fine_regime,
        f"{formset.prefix}-TOTAL_FORMS": str(len(formset.forms)), f"{formset.prefix}-INITIAL_FORMS": str(len(formset.forms)),
        f"{formset.prefix}-MIN_NUM_FORMS": "0", f"{formset.prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, form in enumerate(formset.forms):
        benchmark = form.instance
        electricity = "0.8300" if benchmark.unit_category == "coal_gt300" else str(benchmark.electricity)
        data.update({
            f"{formset.prefix}-{index}-id": benchmark.pk, f"{formset.prefix}-{index}-period": period_2021.pk,
            f"{formset.prefix}-{index}-unit_category": benchmark.unit_category,
            f"{formset.prefix}-{index}-electricity": electricity, f"{formset.prefix}-{index}-heat": str(benchmark.heat),
            f"{formset.prefix}-{index}-sector": benchmark.sector, f"{formset.prefix}-{index}-method": benchmark.method,
            f"{formset.prefix}-{index}-pre_allocation_basis": benchmark.pre_allocation_basis,
        })
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="benchmark.change")
    assert event.actor == national_regulator
    assert event.before == {"electricity": "0.8218"} and event.after == {"electricity": "0.8300"}
