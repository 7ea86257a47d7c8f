"""The admin: every role that works there can open its pages; edits and actions are audited."""

import pytest
from django.urls import reverse

from accounts.models import Organization
from core.models import AuditEvent
from registry.models import Account
from tests.auth import login
from tests.factories import make_uscc

ADMIN_PAGES = [
    "admin:accounts_organization_changelist",
    "admin:registry_account_changelist",
    "admin:registry_transfer_changelist",
    "admin:registry_asset_changelist",
    "admin:core_auditevent_changelist",
]


@pytest.fixture
def staff(national_regulator, shandong_regulator, exchange_operator, auditor):
    for user in (national_regulator, shandong_regulator, exchange_operator, auditor):
        user.is_staff = True
        user.save()
    return {"national": national_regulator, "shandong": shandong_regulator, "exchange": exchange_operator, "auditor": auditor}


@pytest.mark.parametrize("who", ["national", "shandong", "exchange", "auditor"])
def test_staff_roles_open_the_ledger_pages(client, staff, company_a, who):
    login(client, staff[who])
    for name in ADMIN_PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_the_account_page_shows_balances_read_only(client, staff, company_a):
    login(client, staff["national"])
    account = Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)
    page = client.get(reverse("admin:registry_account_change", args=[account.pk]))
    assert page.status_code == 200
    assert b"CEA21" in page.content
    assert b'name="_save"' not in page.content


def test_a_provincial_regulator_cannot_open_another_provinces_organization(client, staff, company_a, company_b):
    login(client, staff["shandong"])
    listing = client.get(reverse("admin:accounts_organization_changelist")).content.decode()
    assert company_a.name in listing and company_b.name not in listing
    response = client.get(reverse("admin:accounts_organization_change", args=[company_b.pk]))
    assert response.status_code == 302  # the admin redirects an object outside the queryset


def test_a_company_trader_cannot_enter_the_admin(client, trader_a):
    login(client, trader_a)
    response = client.get(reverse("admin:registry_account_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_adding_an_organization_opens_its_accounts_and_is_audited(client, staff):
    login(client, staff["national"])
    uscc = make_uscc("44")
    response = client.post(
        reverse("admin:accounts_organization_add"),
        {"name": "Guangdong Yangjiang Power Co., Ltd.", "uscc": uscc, "kind": "key_emitting_unit", "sector": "power",
         "province": "44", "status": "active",
         "registry_accounts-TOTAL_FORMS": "0", "registry_accounts-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    organization = Organization.objects.get(uscc=uscc)
    assert set(organization.registry_accounts.values_list("kind", flat=True)) == {"holding", "cash"}
    event = AuditEvent.objects.get(action="organization.create", object_id=str(organization.pk))
    assert event.actor == staff["national"] and event.after["uscc"] == uscc
    assert event.ip == "127.0.0.1"


def test_the_admin_refuses_a_bad_uscc_and_saves_nothing(client, staff):
    login(client, staff["national"])
    response = client.post(
        reverse("admin:accounts_organization_add"),
        {"name": "Bad Code Power", "uscc": "91110000600037341M", "kind": "key_emitting_unit", "sector": "power",
         "province": "11", "status": "active",
         "registry_accounts-TOTAL_FORMS": "0", "registry_accounts-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 200
    assert b"not a valid Unified Social Credit Code" in response.content
    assert not Organization.objects.filter(name="Bad Code Power").exists()


def test_proposing_a_freeze_through_the_admin_asks_for_a_reason_and_freezes_nothing_yet(client, staff, company_a):
    login(client, staff["shandong"])
    account = Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)
    url = reverse("admin:registry_account_changelist")
    confirm = client.post(url, {"action": "propose_freezing", "_selected_action": [account.pk]})
    assert confirm.status_code == 200 and b"reason" in confirm.content
    done = client.post(url, {"action": "propose_freezing", "_selected_action": [account.pk], "confirm": "yes", "reason": "Court order 2026-17"})
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.status == Account.Status.OPEN  # a second regulator decides (tests/registry/test_status_changes.py)
    assert AuditEvent.objects.filter(action="account.freeze_propose", actor=staff["shandong"]).exists()


def test_an_auditor_has_no_freeze_action(client, staff, company_a):
    login(client, staff["auditor"])
    page = client.get(reverse("admin:registry_account_changelist")).content.decode()
    assert "propose_freezing" not in page


def test_the_exchange_operator_halts_an_instrument_with_a_reason(client, staff):
    from trading.models import Instrument

    login(client, staff["exchange"])
    instrument = Instrument.objects.get(symbol="CEA21")
    url = reverse("admin:trading_instrument_changelist")
    assert b"halt_market" in client.get(url).content
    client.post(url, {"action": "halt_market", "_selected_action": [instrument.pk], "confirm": "yes", "reason": "Abnormal trading"})
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.HALTED and instrument.status_reason == "Abnormal trading"
    assert AuditEvent.objects.filter(action="instrument.status", actor=staff["exchange"]).exists()


def test_a_national_regulator_may_halt_but_not_open_or_close_the_market(client, staff):
    login(client, staff["national"])
    page = client.get(reverse("admin:trading_instrument_changelist"))
    assert page.status_code == 200 and b"CEA21" in page.content
    assert b"halt_market" in page.content
    assert b"open_market" not in page.content and b"close_market" not in page.content


def test_an_auditor_sees_the_market_but_cannot_change_it(client, staff):
    login(client, staff["auditor"])
    page = client.get(reverse("admin:trading_instrument_changelist"))
    assert page.status_code == 200 and b"CEA21" in page.content
    assert b"halt_market" not in page.content


def test_the_admin_speaks_yuan_and_tonnes_with_separators(client, staff, company_a, national_regulator, exchange_operator):
    """A 50,000,000 yuan deposit reads as yuan with separators, never as 5000000000 fen; tonnes too."""
    from tests.trading.conftest import fund

    fund(company_a, regulator=national_regulator, operator=exchange_operator, cash=50_000_000_00, allowances=1_250_000)
    login(client, staff["national"])
    transfers = client.get(reverse("admin:registry_transfer_changelist")).content.decode()
    assert "50,000,000.00 CNY" in transfers and "1,250,000 t" in transfers
    assert "5000000000" not in transfers and "1250000" not in transfers
    account = Account.objects.get(organization=company_a, kind=Account.Kind.CASH)
    page = client.get(reverse("admin:registry_account_change", args=[account.pk])).content.decode()
    assert "50,000,000.00 CNY" in page and "5000000000" not in page
