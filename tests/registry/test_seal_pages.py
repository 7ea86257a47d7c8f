"""The auditors' seal chain pages: /audit/seal-chain/ and /audit/seal-chain/checks/<id>/."""

import pytest

from registry.models import SealBlock, SealCheck
from registry.seal import ledger_seal, seal_check_record
from tests.auth import login
from tests.registry.helpers import one_audit_event
from tests.registry.test_seal import issue, tamper

URL = "/audit/seal-chain/"


@pytest.fixture
def sealed(cea, national_regulator):
    transfers = issue(5, asset=cea, regulator=national_regulator)
    assert ledger_seal(block_size=2).complete
    return transfers


def test_an_auditor_sees_the_latest_blocks_and_that_no_check_ran_yet(client, auditor, sealed):
    login(client, auditor)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    head = SealBlock.objects.get(height=3)
    assert "Head: block 3, 5 transfers sealed." in page and head.block_hash in page
    assert "The chain has not been checked yet." in page
    assert page.count("<tr><td class=\"num\">") == 0  # rows carry no stray markup
    for block in SealBlock.objects.all():
        assert f"{block.first_transfer_id}–{block.last_transfer_id}" in page
    assert "Recompute the chain now" in page


def test_an_auditor_runs_a_check_and_sees_its_outcome(client, auditor, sealed):
    login(client, auditor)
    with one_audit_event("registry.seal_check", actor=auditor):
        response = client.post(URL)
    check = SealCheck.objects.get()
    assert response.status_code == 302 and response.url == f"/audit/seal-chain/checks/{check.pk}/"
    assert (check.ok, check.run_by, check.source, check.blocks_checked) == (True, auditor, "page", 3)
    detail = client.get(response.url).content.decode()
    assert "Every block recomputed to its stored hash." in detail
    overview = client.get(URL).content.decode()
    assert "3 blocks and 5 transfers recomputed." in overview


@pytest.mark.ledger_tampered
def test_the_pages_show_where_a_tampered_chain_breaks(client, auditor, sealed):
    tamper("UPDATE registry_transfer SET amount = amount * 10 WHERE id = %s", [sealed[3].pk])
    login(client, auditor)
    response = client.post(URL, follow=True)
    page = response.content.decode()
    assert "The chain breaks at block 2." in page
    assert "Block 2: the recomputed hash differs" in page
    block = SealBlock.objects.get(height=2)
    assert f"ids {block.first_transfer_id} to {block.last_transfer_id}" in page
    overview = client.get(URL).content.decode()
    assert "BROKEN" in overview and "The chain breaks at block 2." in overview
    assert '<tr class="error">\n        <td class="num">2</td>' in overview


def test_a_national_regulator_sees_the_pages_but_may_not_run_a_check(client, national_regulator, sealed):
    check = seal_check_record(source=SealCheck.Source.JOB)
    login(client, national_regulator)
    page = client.get(URL)
    assert page.status_code == 200 and "Recompute the chain now" not in page.content.decode()
    assert client.get(f"/audit/seal-chain/checks/{check.pk}/").status_code == 200
    assert client.post(URL).status_code == 403
    assert SealCheck.objects.count() == 1


@pytest.mark.parametrize("who", ["trader_a", "shandong_regulator", "exchange_operator"])
def test_others_are_refused(client, request, who, sealed):
    check = seal_check_record(source=SealCheck.Source.JOB)
    login(client, request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.post(URL).status_code == 403
    assert client.get(f"/audit/seal-chain/checks/{check.pk}/").status_code == 403
    assert SealCheck.objects.count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, sealed):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_an_unknown_check_is_a_404(client, auditor):
    login(client, auditor)
    assert client.get("/audit/seal-chain/checks/999999/").status_code == 404


def test_the_page_works_with_no_blocks(client, auditor):
    login(client, auditor)
    response = client.get(URL)
    assert response.status_code == 200 and "No blocks yet." in response.content.decode()


def test_the_reports_page_links_the_seal_chain_for_those_who_may_see_it(client, auditor, trader_a):
    login(client, auditor)
    assert 'href="/audit/seal-chain/"' in client.get("/reports/").content.decode()
    login(client, trader_a)
    assert 'href="/audit/seal-chain/"' not in client.get("/reports/").content.decode()
