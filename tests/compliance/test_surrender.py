"""Surrender (service and `POST /api/v1/surrenders/`) and `GET /api/v1/obligations/?period=`.

The setting, by hand: each unit gets 100,000 MWh x 0.8218 = 82,180 t computed, 70 % = 57,526 CEA21.
company_a verified 70,000 t: obligation min(70,000, 57,526 + 14,000) = 70,000 t, offsets up to
3,500 t (5 %); it also holds 5,000 CCER. company_b verified 40,000 t: obligation 40,000 t."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.roles import Role
from allocation.services import period_create
from compliance.models import Surrender
from compliance.selectors import obligation_of
from compliance.services import compliance_deadline_run, surrender_create
from core.errors import DomainError
from core.models import AuditEvent
from registry import services as registry
from registry.models import Account, Asset, Transfer
from tests.compliance.helpers import api_as, balance, ccer_give, holding_account, officer_of, plan_issue, state, verify
from tests.factories import OrganizationFactory, make_uscc, user_with_role

URL = "/api/v1/surrenders/"


@pytest.fixture
def period(national_regulator):
    # The deadline is ahead of today, whatever today is: these surrenders are on time.
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                         surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)


@pytest.fixture
def shandong_unverified(db):
    return OrganizationFactory(name="Shandong Unit Without Verification", province="37", uscc=make_uscc("37"))


@pytest.fixture
def allocated(period, company_a, company_b, shandong_unverified, national_regulator, second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000),
                        (shandong_unverified, "coal_gt300", 100_000)],
               maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 70_000, company_b: 40_000})
    ccer_give(company_a, 5_000, national_regulator)


@pytest.fixture
def officer(allocated, company_a):
    return officer_of(company_a)


@pytest.fixture
def client(officer):
    return api_as(officer)


def body(**changes):
    return {"period": "2021", "asset": "CEA21", "quantity": 10_000, "client_request_id": "r-1", **changes}


# --- success ---


def test_a_surrender_moves_available_units_to_the_retirement_account(officer, company_a):
    holding = holding_account(company_a)
    retirement = registry.system_account(Account.Kind.RETIREMENT)
    retired_before = balance(retirement, "CEA21").available

    surrender, created = surrender_create(user=officer, period="2021", asset="CEA21", quantity=10_000,
                                          client_request_id="r-1")

    assert created is True
    held = balance(holding, "CEA21")
    assert (held.available, held.reserved, held.pending, held.frozen) == (47_526, 0, 0, 0)  # 57,526 - 10,000
    assert balance(retirement, "CEA21").available == retired_before + 10_000
    transfer = surrender.transfer
    assert (transfer.kind, transfer.amount, transfer.asset.code) == (Transfer.Kind.SURRENDER, 10_000, "CEA21")
    assert (transfer.source, transfer.source_bucket) == (holding, "available")
    assert (transfer.destination.number, transfer.destination_bucket) == ("SYS-RETIREMENT", "available")
    assert (surrender.organization, surrender.period.code, surrender.created_by) == (company_a, "2021", officer)
    assert Transfer.objects.filter(kind=Transfer.Kind.SURRENDER).count() == 1


def test_a_surrender_writes_one_surrender_audit_event(officer):
    events_before = AuditEvent.objects.count()
    surrender, _ = surrender_create(user=officer, period="2021", asset="CCER", quantity=3_500, client_request_id="o")
    event = AuditEvent.objects.get(action="surrender.create")
    assert (event.actor, event.object_type, event.object_id) == (officer, "compliance.surrender", str(surrender.pk))
    assert event.after == {"period": "2021", "asset": "CCER", "quantity": 3_500, "transfer": surrender.transfer_id,
                           "source": surrender.transfer.source.number}
    # The retirement transfer is named in that event, not audited apart: one event per surrender.
    assert AuditEvent.objects.count() - events_before == 1


def test_surrenders_count_towards_the_obligation_by_kind(officer, period, company_a):
    surrender_create(user=officer, period="2021", asset="CEA21", quantity=50_000, client_request_id="a")
    surrender_create(user=officer, period="2021", asset="CCER", quantity=3_500, client_request_id="b")
    found = obligation_of(period, company_a)
    assert (found.surrendered_allowances, found.surrendered_offsets, found.shortfall) == (50_000, 3_500, 16_500)


def test_the_api_creates_a_surrender_and_returns_it(client, company_a):
    response = client.post(URL, body(), format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"id", "period", "asset", "quantity", "created_at"}
    assert (data["period"], data["asset"], data["quantity"]) == ("2021", "CEA21", 10_000)
    assert Surrender.objects.get(pk=data["id"]).organization == company_a
    assert balance(holding_account(company_a), "CEA21").available == 47_526


# --- idempotency ---


def test_the_same_request_again_returns_the_same_surrender_without_a_second_retirement(client, company_a):
    first = client.post(URL, body(), format="json")
    before = state()
    again = client.post(URL, body(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert state() == before
    assert Transfer.objects.filter(kind=Transfer.Kind.SURRENDER).count() == 1
    assert balance(holding_account(company_a), "CEA21").available == 47_526


@pytest.mark.parametrize("changed", [{"quantity": 9_999}, {"asset": "CCER"}], ids=["quantity", "asset"])
def test_the_same_request_id_with_a_different_body_is_a_conflict(client, changed):
    client.post(URL, body(), format="json")
    before = state()
    response = client.post(URL, body(**changed), format="json")
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["field"]) == ("idempotency_conflict", "client_request_id")
    assert state() == before


def test_another_officer_of_the_same_unit_replaying_the_id_gets_the_same_surrender(client, company_a):
    first = client.post(URL, body(), format="json").json()
    response = api_as(officer_of(company_a)).post(URL, body(), format="json")
    assert (response.status_code, response.json()["id"]) == (200, first["id"])


# --- refusals: each with its code and status, and nothing written ---


def test_refusals_speak_the_officers_language(client):
    """The same refusals in Simplified Chinese for a Chinese browser; codes and fields unchanged."""
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    over = client.post(URL, body(quantity=70_001), format="json", **chinese).json()
    assert over == {"code": "over_surrender", "message": "履约义务为 70,000 吨，已清缴 0 吨。", "field": "quantity"}
    short = client.post(URL, body(quantity=60_000), format="json", **chinese).json()
    assert short["code"] == "insufficient_balance"
    assert "的可用 CEA21 为 57526，少于所需的 60000。" in short["message"], short
    english = client.post(URL, body(quantity=60_000), format="json").json()
    assert "has 57526 CEA21 available, less than the 60000 needed." in english["message"], english
    cap = client.post(URL, body(asset="CCER", quantity=3_501), format="json", **chinese).json()
    assert cap["message"] == "核证减排量最多可抵销 70,000 吨履约义务中的 3,500 吨；已清缴 0 吨。"


@pytest.mark.parametrize(
    "changes, status, code, field",
    [
        ({"asset": "CCER", "quantity": 3_501}, 409, "offset_cap_exceeded", "quantity"),  # cap 5 % of 70,000
        ({"asset": "CEA22"}, 400, "ineligible_asset", "asset"),  # not a vintage of period 2021
        ({"asset": "CEA19-20"}, 400, "ineligible_asset", "asset"),
        ({"asset": "CNY"}, 400, "ineligible_asset", "asset"),  # cash
        ({"quantity": 70_001}, 409, "over_surrender", "quantity"),
        ({"quantity": 60_000}, 409, "insufficient_balance", "quantity"),  # within 70,000, above the 57,526 held
        ({"quantity": 0}, 400, "invalid", "quantity"),
        ({"quantity": -5}, 400, "invalid", "quantity"),
        ({"quantity": 1.5}, 400, "invalid", "quantity"),
        ({"quantity": "ten"}, 400, "invalid", "quantity"),
        ({"quantity": 1000.0}, 400, "invalid", "quantity"),  # issue 15: one number, one meaning
        ({"quantity": 49.5}, 400, "invalid", "quantity"),
        ({"quantity": "4.9e1"}, 400, "invalid", "quantity"),
        ({"quantity": "1000.0"}, 400, "invalid", "quantity"),
        ({"quantity": "٤٩"}, 400, "invalid", "quantity"),
        ({"quantity": "𝟒𝟗"}, 400, "invalid", "quantity"),
        ({"period": "1999"}, 400, "invalid", "period"),
        ({"asset": "CEA99"}, 400, "invalid", "asset"),
        ({"client_request_id": ""}, 400, "blank", "client_request_id"),
    ],
    ids=["offsets-over-5-percent", "later-vintage", "earlier-vintage", "cash", "over-obligation", "insufficient-balance",
         "zero", "negative", "fraction", "not-a-number", "json-float-whole", "json-float", "exponent", "text-fraction",
         "arabic-indic-digits", "mathematical-bold-digits", "unknown-period", "unknown-asset", "no-request-id"],
)
def test_a_refused_surrender_says_why_and_changes_nothing(client, changes, status, code, field):
    before = state()
    response = client.post(URL, body(**changes), format="json")
    assert response.status_code == status, response.json()
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert state() == before


def test_full_width_digits_typed_by_a_chinese_input_method_are_the_same_quantity(client, company_a):
    response = client.post(URL, body(quantity="４９"), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["quantity"] == 49


def test_the_offset_cap_counts_offsets_already_surrendered(officer):
    surrender_create(user=officer, period="2021", asset="CCER", quantity=2_000, client_request_id="first")
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CCER", quantity=1_501, client_request_id="second")
    assert refused.value.code == "offset_cap_exceeded"
    surrender_create(user=officer, period="2021", asset="CCER", quantity=1_500, client_request_id="third")
    assert Surrender.objects.filter(asset__code="CCER").count() == 2


def test_the_obligation_counts_everything_already_surrendered(allocated, period, company_b):
    officer_b = officer_of(company_b)
    surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=39_000, client_request_id="most")
    before = state()
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=1_001, client_request_id="too-much")
    assert refused.value.code == "over_surrender"
    assert state() == before
    surrender_create(user=officer_b, period="2021", asset="CEA21", quantity=1_000, client_request_id="the-rest")
    assert obligation_of(period, company_b).shortfall == 0


def test_a_unit_without_verified_emissions_cannot_surrender(allocated, shandong_unverified):
    client = api_as(officer_of(shandong_unverified))
    before = state()
    response = client.post(URL, body(), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "no_verified_emissions")
    assert response.json()["message"] == "There are no verified emissions for this unit and period yet."
    # An error's default message is translated too, in the request's language.
    chinese = client.post(URL, body(), format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert chinese == {"code": "no_verified_emissions", "message": "该单位本履约期尚无核查排放量。", "field": "period"}
    assert state() == before


def test_a_frozen_account_cannot_surrender(client, company_a, national_regulator):
    registry.account_freeze(account=holding_account(company_a), reason="court order 2022-17", actor=national_regulator)
    before = state()
    response = client.post(URL, body(), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "account_frozen")
    assert state() == before


def test_only_the_available_bucket_can_be_surrendered(officer, company_a, national_regulator):
    cea21 = Asset.objects.get(code="CEA21")
    registry.holdings_freeze(account=holding_account(company_a), asset=cea21, amount=57_000, reason="court order",
                             actor=national_regulator)
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CEA21", quantity=1_000, client_request_id="x")
    assert refused.value.code == "insufficient_balance"
    surrender_create(user=officer, period="2021", asset="CEA21", quantity=526, client_request_id="y")
    assert (balance(holding_account(company_a), "CEA21").available,
            balance(holding_account(company_a), "CEA21").frozen) == (0, 57_000)


@pytest.mark.parametrize("role", [Role.COMPANY_TRADER, Role.NATIONAL_REGULATOR, Role.AUDITOR])
def test_only_a_compliance_officer_may_surrender(allocated, company_a, role):
    client = api_as(user_with_role(role, company_a))
    before = state()
    response = client.post(URL, body(), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_eligible")
    assert state() == before


def test_an_officer_belonging_to_two_units_is_not_eligible(officer, company_b):
    Membership.objects.create(user=officer, organization=company_b)
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CEA21", quantity=10, client_request_id="two")
    assert (refused.value.code, refused.value.status) == ("not_eligible", 403)


def test_an_anonymous_request_is_refused(allocated):
    response = APIClient().post(URL, body(), format="json")
    assert response.status_code == 401
    assert not Surrender.objects.exists()


def test_after_the_deadline_job_ran_the_period_is_closed_but_a_replay_still_answers(client, period, officer):
    first = client.post(URL, body(), format="json").json()
    compliance_deadline_run(period=period)
    before = state()
    response = client.post(URL, body(client_request_id="late", quantity=1), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "period_closed")
    assert state() == before
    replay = client.post(URL, body(), format="json")
    assert (replay.status_code, replay.json()["id"]) == (200, first["id"])


def test_a_surrender_after_the_deadline_date_is_refused_even_before_the_job_ran(officer, period):
    period.surrender_deadline = timezone.localdate() - dt.timedelta(days=1)
    period.save(update_fields=["surrender_deadline"])  # the regulator's reference data: the deadline has passed
    with pytest.raises(DomainError) as refused:
        surrender_create(user=officer, period="2021", asset="CEA21", quantity=10, client_request_id="late")
    assert refused.value.code == "period_closed"


def test_a_surrender_on_the_deadline_day_itself_is_on_time(officer, period):
    period.surrender_deadline = timezone.localdate()
    period.save(update_fields=["surrender_deadline"])
    surrender, created = surrender_create(user=officer, period="2021", asset="CEA21", quantity=10, client_request_id="last")
    assert created and surrender.quantity == 10


# --- GET /api/v1/obligations/?period= ---

OBLIGATION_FIELDS = {"uscc", "organization", "period", "allocated", "verified_emissions", "obligation",
                     "surrendered_allowances", "surrendered_offsets", "shortfall", "status", "units"}


def obligation_rows(user, period="2021"):
    response = api_as(user).get("/api/v1/obligations/", {"period": period})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_compliance_officer_sees_only_its_own_units_obligation(officer, company_a):
    surrender_create(user=officer, period="2021", asset="CEA21", quantity=50_000, client_request_id="a")
    surrender_create(user=officer, period="2021", asset="CCER", quantity=3_000, client_request_id="b")
    (row,) = obligation_rows(officer)
    assert set(row) == OBLIGATION_FIELDS
    assert row == {
        "uscc": company_a.uscc, "organization": company_a.name, "period": "2021", "allocated": 57_526,
        "verified_emissions": 70_000, "obligation": 70_000, "surrendered_allowances": 50_000,
        "surrendered_offsets": 3_000, "shortfall": 17_000, "status": "open",
        "units": [{"code": "U1", "sector": "power", "category": "coal_gt300", "allocated": 57_526, "verified_emissions": 70_000,
                   "obligation": 70_000}],
    }


@pytest.mark.parametrize("who", ["auditor", "national_regulator"])
def test_an_auditor_and_the_national_regulator_see_every_unit(allocated, company_a, company_b, shandong_unverified,
                                                               request, who):
    rows = {row["uscc"]: row for row in obligation_rows(request.getfixturevalue(who))}
    assert set(rows) == {company_a.uscc, company_b.uscc, shandong_unverified.uscc}
    assert rows[shandong_unverified.uscc]["verified_emissions"] is None
    assert rows[company_b.uscc]["obligation"] == 40_000


def test_a_provincial_regulator_sees_its_provinces_units_only(allocated, company_a, shandong_unverified, shandong_regulator):
    assert {row["uscc"] for row in obligation_rows(shandong_regulator)} == {company_a.uscc, shandong_unverified.uscc}


def test_the_obligation_status_shows_the_deadline_jobs_verdict(officer, period):
    compliance_deadline_run(period=period)
    (row,) = obligation_rows(officer)
    assert (row["status"], row["shortfall"]) == ("B", 70_000)


@pytest.mark.parametrize("query", [{"period": "1999"}, {}], ids=["unknown", "missing"])
def test_obligations_of_an_unknown_period_are_a_400_with_a_code(allocated, auditor, query):
    response = api_as(auditor).get("/api/v1/obligations/", query)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "period")


def test_obligations_need_authentication(allocated):
    assert APIClient().get("/api/v1/obligations/", {"period": "2021"}).status_code == 401


def test_the_exchange_operator_does_not_read_the_units_obligations(allocated, exchange_operator):
    response = api_as(exchange_operator).get("/api/v1/obligations/", {"period": "2021"})
    assert response.status_code == 403 or response.json() == []


def test_a_company_trader_does_not_read_obligations(allocated, trader_a):
    response = api_as(trader_a).get("/api/v1/obligations/", {"period": "2021"})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
