"""The regulator's home: what waits for this regulator (plans to approve that someone else made,
its own drafts, reports to confirm, objections by their due date, overdue ones) and the state of
the market it regulates: allowances allocated, held and surrendered, compliance by province, the
largest shortfalls, today's market. A provincial regulator sees its province only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from compliance.models import EmissionReport
from tests.auth import login
from tests.compliance.helpers import plan_import
from tests.reports.conftest import SHORTFALL_B


def home(user) -> str:
    response = login(Client(), user).get("/regulator/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_national_regulator_sees_the_plans_it_may_approve_and_the_market(
    surrendered, company_a, company_b, national_regulator, second_national_regulator
):
    from allocation.services import plan_submit

    others = plan_submit(plan=plan_import(surrendered, [(company_a, "gas", 10)], maker=second_national_regulator,
                                          kind="true_up"), actor=second_national_regulator, reason="true-up")
    mine = plan_import(surrendered, [(company_b, "gas", 10)], maker=national_regulator, kind="true_up")
    page = home(national_regulator)
    assert f"/admin/allocation/allocationplan/{others.pk}/review/" in page and "Approve or reject" in page
    assert f"/admin/allocation/allocationplan/{mine.pk}/review/" in page and "Submit your draft" in page
    # The market: 4 units x 57,526 t allocated; 98,000 t of CEA and 5,000 t of CCER surrendered.
    assert f"{4 * 57_526:,}" in page and f"{98_000 + 5_000:,}" in page
    assert "Shandong" in page and "Jiangsu" in page and "Guangdong" in page  # compliance by province
    assert company_b.name in page and f"{SHORTFALL_B:,}" in page  # the largest shortfall
    assert "CEA21" in page  # today's market
    # The maker's own submitted plan waits for someone else: not offered to the one who made it.
    assert f"/admin/allocation/allocationplan/{others.pk}/review/" not in home(second_national_regulator)


def test_a_provincial_regulator_sees_its_province_its_reports_to_confirm_and_overdue_objections(
    surrendered, company_a, company_b, shandong_regulator
):
    from tests.factories import OrganizationFactory, make_uscc, user_with_role

    verifier = user_with_role("verifier", OrganizationFactory(kind="institution", sector="services", province="11"))
    from allocation.units import units_ensure

    units = units_ensure([(company_a, "U1", "power", "")])
    EmissionReport.objects.create(period=surrendered, organization=company_a, unit=units[(company_a.pk, "U1")], emissions=1, status="verified",
                                  filed_by=verifier, attachment="x.csv", attachment_kind="csv", attachment_size=1, attachment_sha256="0" * 64)
    late = OrganizationFactory(name="Late Objector Power", province="37", uscc=make_uscc("37"))
    EmissionReport.objects.create(period=surrendered, organization=late, unit=units_ensure([(late, "U1", "power", "")])[(late.pk, "U1")],
                                  emissions=1, status="objected",
                                  filed_by=verifier, attachment="y.csv", attachment_kind="csv", attachment_size=1, attachment_sha256="0" * 64,
                                  decision_due=dt.date(2020, 1, 2))
    page = home(shandong_regulator)
    assert "1 verified emission report to confirm" in page
    assert "Late Objector Power" in page and "2020-01-02" in page and "overdue" in page
    assert "1 objection is past its decision date" in page
    assert "Shandong" in page and "Jiangsu" not in page and company_b.name not in page  # its province only


@pytest.mark.parametrize("who", ["trader_a", "auditor", "exchange_operator"])
def test_others_may_not_open_it(request, who, surrendered):
    assert login(Client(), request.getfixturevalue(who)).get("/regulator/").status_code == 403


def test_the_allowances_held_count_those_not_carried_over(company_a, national_regulator):
    """Allowances over the carry-over cap are dead but still held (Balance.total): the home counts them."""
    from registry.models import Account, Asset, Bucket, Transfer
    from registry.services import Movement, ledger_post
    from reports.regulator import market_state
    from tests.registry.helpers import allowances_give

    holding = Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)
    cea21 = Asset.objects.get(code="CEA21")
    allowances_give(account=holding, asset=cea21, amount=100, regulator=national_regulator)
    ledger_post([Movement(kind=Transfer.Kind.CARRY_OVER, asset=cea21, amount=30, source=holding, source_bucket=Bucket.AVAILABLE,
                          destination=holding, destination_bucket=Bucket.NOT_CARRIED)])
    assert market_state(national_regulator).held == 100
