"""One period end to end: allocate, verify, trade, surrender, and the deadline job's verdicts."""

import datetime as dt
import io

from django.utils import timezone

from accounts.roles import Role
from allocation.models import CompliancePeriod
from allocation.services import allocation_import, period_create, plan_approve, plan_submit
from compliance.models import ComplianceResult
from compliance.services import compliance_deadline_run, verified_emissions_import
from registry.models import Account, Asset, Balance
from tests.factories import api_client_for, user_with_role


def test_a_period_from_allocation_to_verdict(db, company_a, company_b, national_regulator, second_national_regulator):
    cea21 = Asset.objects.get(code="CEA21")
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[cea21],
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)
    plan = allocation_import(
        period=period, vintage=cea21, filename="plan.csv", actor=national_regulator,
        stream=io.BytesIO((
            "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"
            f"{company_a.uscc},coal_gt300,100000,0,1\n{company_b.uscc},coal_gt300,100000,0,1\n"
        ).encode()),
    )
    plan_approve(plan=plan_submit(plan=plan, actor=national_regulator), actor=second_national_regulator)
    # Each unit holds 70 % of 100,000 x 0.8218 = 82,180 t: 57,526 t.
    verified_emissions_import(period=period, filename="v.csv", actor=national_regulator,
                              stream=io.BytesIO(f"uscc,verified_emissions\n{company_a.uscc},50000\n{company_b.uscc},60000\n".encode()))

    officer = user_with_role(Role.COMPLIANCE_OFFICER, company_a)
    client = api_client_for(officer)
    response = client.post("/api/v1/surrenders/", {"period": "2021", "asset": "CEA21", "quantity": 50_000,
                                                   "client_request_id": "s-1"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["quantity"] == 50_000
    holding = Balance.objects.get(account__organization=company_a, account__kind=Account.Kind.HOLDING, asset=cea21)
    assert holding.available == 57_526 - 50_000
    rows = client.get("/api/v1/obligations/?period=2021").json()
    assert [(r["uscc"], r["obligation"], r["shortfall"], r["status"]) for r in rows] == [(company_a.uscc, 50_000, 0, "open")]

    CompliancePeriod.objects.filter(pk=period.pk).update(surrender_deadline=dt.date(2022, 12, 31))  # time passes
    period.refresh_from_db()
    counts = compliance_deadline_run(period=period)
    assert counts == {"A": 1, "B": 1, "C": 0}
    verdicts = dict(ComplianceResult.objects.values_list("organization__uscc", "status"))
    assert verdicts == {company_a.uscc: "A", company_b.uscc: "B"}
    assert ComplianceResult.objects.get(organization=company_b).shortfall == 60_000
