"""An auditor recomputes the ledger seal chain in the browser, before and after a transfer is tampered with."""

import pytest
from playwright.sync_api import expect

from registry.models import Asset
from registry.seal import ledger_seal
from tests.e2e.test_login_and_holdings import login
from tests.registry.test_seal import issue, tamper

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.ledger_tampered
def test_an_auditor_runs_a_check_and_sees_where_the_chain_breaks(page, live_server, screenshot, auditor, national_regulator):
    transfers = issue(6, asset=Asset.objects.get(code="CEA21"), regulator=national_regulator)
    assert ledger_seal(block_size=2).complete

    login(page, live_server, auditor.username)
    page.goto(f"{live_server.url}/audit/seal-chain/")
    expect(page.get_by_role("heading", name="Ledger seal chain")).to_be_visible()
    expect(page.get_by_text("Head: block 3, 6 transfers sealed.")).to_be_visible()
    page.get_by_role("button", name="Recompute the chain now").click()
    expect(page.get_by_text("Every block recomputed to its stored hash.")).to_be_visible()

    tamper("UPDATE registry_transfer SET amount = 1 WHERE id = %s", [transfers[2].pk])
    page.goto(f"{live_server.url}/audit/seal-chain/")
    page.get_by_role("button", name="Recompute the chain now").click()
    expect(page.locator("#seal-check-outcome")).to_contain_text("The chain breaks at block 2.")
    screenshot(page, "seal-check-broken")
    page.get_by_role("link", name="Ledger seal chain").click()
    expect(page.locator("#seal-last-check")).to_contain_text("BROKEN")
    expect(page.locator("#seal-blocks tr.error")).to_contain_text("2")
    screenshot(page, "seal-chain-broken")
