"""Account statements (/reports/accounts/<number>/statement/): every transfer of the account with
the running balance of its asset, filtered by date and asset, as a page, CSV or XLSX; a company user
reads only its own organization's accounts, others are a 404."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from core.models import AuditEvent
from registry import services as registry
from registry.models import Account
from tests.auth import login
from tests.compliance.helpers import holding_account


def url(account, **query):
    from urllib.parse import urlencode

    return f"/reports/accounts/{account.number}/statement/" + (f"?{urlencode(query)}" if query else "")


def get(client, user, account, **query):
    login(client, user)
    return client.get(url(account, **query))


def csv_rows(response):
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def figures(lines):
    return [(line.kind, line.asset.code, line.credit, line.debit, line.balance) for line in lines]


# The holding of company_a (see conftest): allocated 57,526 CEA21 and 2,000 CCER, surrendered 48,000 and 2,000.
HOLDING_A = [
    ("allocation", "CEA21", 57_526, 0, 57_526),
    ("allocation", "CCER", 2_000, 0, 2_000),
    ("surrender", "CEA21", 0, 48_000, 9_526),
    ("surrender", "CCER", 0, 2_000, 0),
]


def test_the_statement_gives_each_transfer_with_the_running_balance_of_its_asset(client, auditor, surrendered, company_a):
    response = get(client, auditor, holding_account(company_a))
    assert response.status_code == 200
    assert figures(response.context["lines"]) == HOLDING_A
    balances = {asset.code: (opening, closing) for asset, opening, closing in response.context["balances"]}
    assert balances == {"CEA21": (0, 9_526), "CCER": (0, 0)}


def test_the_running_balance_ends_at_the_ledgers_balance(client, trader_a, surrendered, company_a):
    from registry.models import Balance

    holding = holding_account(company_a)
    lines = get(client, trader_a, holding, asset="CEA21").context["lines"]
    assert lines[-1].balance == Balance.objects.get(account=holding, asset__code="CEA21").total


def test_the_asset_filter_keeps_that_assets_transfers(client, auditor, surrendered, company_a):
    lines = get(client, auditor, holding_account(company_a), asset="CCER").context["lines"]
    assert figures(lines) == [row for row in HOLDING_A if row[1] == "CCER"]


def test_a_range_after_every_transfer_has_no_lines_and_opens_at_the_closing_balance(client, auditor, surrendered, company_a):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = get(client, auditor, holding_account(company_a), **{"from": tomorrow.isoformat()})
    assert response.context["lines"] == []
    balances = {asset.code: (opening, closing) for asset, opening, closing in response.context["balances"]}
    assert balances == {"CEA21": (9_526, 9_526), "CCER": (0, 0)}
    rows = csv_rows(get(client, auditor, holding_account(company_a), format="csv", **{"from": tomorrow.isoformat()}))
    assert [row[2:4] + [row[6]] for row in rows[1:]] == [["Opening balance", "CCER", "0"], ["Opening balance", "CEA21", "9526"]]


def test_a_range_before_every_transfer_is_empty(client, auditor, surrendered, company_a):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = get(client, auditor, holding_account(company_a), to=yesterday.isoformat())
    assert response.context["lines"] == [] and response.context["balances"] == []


def test_cash_is_stated_in_yuan(client, trader_a, company_a, exchange_operator):
    cash = Account.objects.get(organization=company_a, kind=Account.Kind.CASH)
    registry.cash_deposit(account=cash, amount=123_456, bank_reference="bank-1", actor=exchange_operator)
    registry.cash_withdraw(account=cash, amount=23_456, bank_reference="bank-2", actor=exchange_operator)
    rows = csv_rows(get(client, trader_a, cash, format="csv"))
    assert rows[0] == ["Transfer", "Time", "Kind", "Asset", "In", "Out", "Balance", "Counterparty", "Buckets", "Reference", "Memo"]
    assert [row[2:7] for row in rows[1:]] == [["deposit", "CNY", "1234.56", "0.00", "1234.56"],
                                              ["withdrawal", "CNY", "0.00", "234.56", "1000.00"]]
    assert b"1,000.00" in get(client, trader_a, cash).content


def test_the_xlsx_has_the_lines_and_the_running_balance(client, auditor, surrendered, company_a):
    response = get(client, auditor, holding_account(company_a), format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == ("Transfer", "Time", "Kind", "Asset", "In", "Out", "Balance")
    assert [(row[2], row[3], row[4], row[5], row[6]) for row in rows[1:]] == HOLDING_A
    assert isinstance(rows[1][1], dt.datetime)


def test_every_statement_download_is_audited(client, trader_a, surrendered, company_a):
    holding = holding_account(company_a)
    get(client, trader_a, holding)  # the page is not an export
    get(client, trader_a, holding, format="csv", asset="CEA21")
    get(client, trader_a, holding, format="xlsx")
    events = list(AuditEvent.objects.filter(action="report.export").order_by("id"))
    assert [(e.actor, e.object_type, e.object_id, e.after["format"], e.after["rows"]) for e in events] == [
        (trader_a, "report.statement", holding.number, "csv", 2), (trader_a, "report.statement", holding.number, "xlsx", 4)]
    assert events[0].after["filters"] == {"from": "", "to": "", "asset": "CEA21"}


# --- scope ---


@pytest.mark.parametrize("file_format", ["html", "csv", "xlsx"])
def test_a_company_user_reads_only_its_own_organizations_accounts(client, trader_a, company_a, company_b, file_format):
    assert get(client, trader_a, holding_account(company_a), format=file_format).status_code == 200
    assert get(client, trader_a, holding_account(company_b), format=file_format).status_code == 404
    assert get(client, trader_a, Account.objects.get(number="SYS-NATIONAL"), format=file_format).status_code == 404
    assert AuditEvent.objects.filter(action="report.export").count() == (0 if file_format == "html" else 1)


def test_an_unknown_account_is_the_same_404(client, trader_a, company_a):
    login(client, trader_a)
    assert client.get("/reports/accounts/HA-NOSUCHACCOUNT/statement/").status_code == 404


def test_a_provincial_regulator_reads_its_provinces_accounts(client, shandong_regulator, company_a, company_b):
    assert get(client, shandong_regulator, holding_account(company_a)).status_code == 200
    assert get(client, shandong_regulator, holding_account(company_b)).status_code == 404


def test_auditors_read_every_account_system_ones_too(client, auditor, surrendered):
    response = get(client, auditor, Account.objects.get(number="SYS-RETIREMENT"), asset="CEA21")
    assert [line.balance for line in response.context["lines"]] == [48_000, 98_000]


def test_anonymous_visitors_are_sent_to_log_in(client, company_a):
    assert client.get(url(holding_account(company_a))).status_code == 302


# --- bad input ---


@pytest.mark.parametrize("query", [{"from": "2026-13-01"}, {"to": "yesterday"}, {"from": "2026-02-01", "to": "2026-01-01"},
                                   {"asset": "CNY"}, {"asset": "NOPE"}, {"format": "pdf"}])
def test_bad_filters_are_refused_with_the_reason(client, auditor, company_a, query):
    response = get(client, auditor, holding_account(company_a), **query)
    assert response.status_code == 400
    assert b'class="error"' in response.content


def test_the_index_form_opens_a_statement_by_number(client, trader_a, company_a, company_b):
    login(client, trader_a)
    holding = holding_account(company_a)
    response = client.get("/reports/accounts/", {"number": holding.number.lower()})
    assert response.status_code == 302 and response["Location"] == url(holding)
    assert client.get("/reports/accounts/", {"number": holding_account(company_b).number}).status_code == 404


def test_the_account_page_links_its_statement(client, trader_a, company_a):
    client.force_login(trader_a)
    holding = holding_account(company_a)
    assert f'href="{url(holding)}"'.encode() in client.get(f"/accounts/{holding.number}/").content
