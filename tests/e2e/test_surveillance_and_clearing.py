"""The exchange operator's surveillance queue and the clearing reports in a browser: two members of one
group (self-trade prevention off) trade; the nightly job raises the related-party alert; the operator
reads its evidence, is refused without a reason, escalates it; the member reads its clearing statement
and the operator the market report, at 1366 px and on a phone, in English and Chinese, without
serious accessibility violations (axe-core injected: the contexts bypass the page's CSP for it)."""

import pytest
from playwright.sync_api import expect

from core.models import AuditEvent
from surveillance.detection import alerts_compute
from surveillance.groups import owners_forget
from surveillance.models import Alert, GroupMember, PartyGroup
from tests.e2e.axe import serious_violations
from tests.e2e.test_login_and_holdings import login
from tests.trading.conftest import fund, place
from trading.clock import trading_day

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_operator_escalates_a_related_party_alert_and_members_read_their_clearing(
    browser, live_server, screenshot, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator
):
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    fund(company_b, regulator=national_regulator, operator=exchange_operator)
    party = PartyGroup.objects.create(name="Huaneng Group", self_trade_prevention=False)
    for company in (company_a, company_b):
        GroupMember.objects.create(group=party, organization=company)
    owners_forget()
    place(trader_a, "sell", "54.00", 300)
    place(trader_b, "buy", "54.00", 300)
    alerts_compute(trading_day())
    alert = Alert.objects.get(kind=Alert.Kind.RELATED_PARTY)

    operator = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()
    login(operator, live_server, exchange_operator.username)
    operator.goto(f"{live_server.url}/surveillance/")
    expect(operator.locator(f"#alert-{alert.pk}")).to_contain_text("Trades between related parties")
    assert serious_violations(operator) == []
    operator.get_by_role("link", name="Trades between related parties").click()
    expect(operator.get_by_role("heading", name="Evidence")).to_be_visible()
    expect(operator.locator("body")).to_contain_text("Huaneng Group")
    operator.get_by_role("button", name="Escalate to the regulator").click()  # no reason: the browser asks for one
    assert Alert.objects.get(pk=alert.pk).status == Alert.Status.OPEN
    operator.get_by_label("Reason (recorded in the audit trail)").fill("Group members trading 300 t between them")
    operator.get_by_role("button", name="Escalate to the regulator").click()
    expect(operator.get_by_role("status")).to_contain_text(f"Alert #{alert.pk}")
    alert.refresh_from_db()
    assert (alert.status, alert.decided_by_id) == (Alert.Status.ESCALATED, exchange_operator.pk)
    assert AuditEvent.objects.filter(action="alert.escalate", object_id=str(alert.pk)).exists()
    screenshot(operator, "surveillance-queue")

    operator.goto(f"{live_server.url}/reports/market/")
    row = operator.get_by_role("row", name="CEA21")
    expect(row).to_contain_text("54.00")
    expect(row).to_contain_text("300")
    assert serious_violations(operator) == []

    for language, heading in (("en", "Clearing statement"), ("zh-hans", "清算单")):
        trader_b.language = "" if language == "en" else language
        trader_b.save(update_fields=["language"])
        member = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True).new_page()
        login(member, live_server, trader_b.username)
        member.goto(f"{live_server.url}/reports/clearing/")
        expect(member.get_by_role("heading", name=heading)).to_be_visible()
        expect(member.locator("body")).to_contain_text("16,200.00")  # 300 t x 54.00
        assert member.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
        assert serious_violations(member) == []
        with member.expect_download() as download:
            member.locator("a[href$='format=csv']").click()
        assert download.value.suggested_filename == f"clearing-{company_b.uscc}-{trading_day()}.csv"
        member.context.close()
