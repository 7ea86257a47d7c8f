"""The authorization matrix: every page and API endpoint of the URL configuration, called as each role
on objects of company A, with the status each role must get. Generated from the resolver: a URL name
without a line in RULES fails `test_every_url_has_a_rule` with the line to add (filled with the
statuses seen, to be checked by a person before pasting).

Every request also proves the audit rule: a request that wrote to any table (counted in
pg_stat_xact_user_tables) left exactly one audit event; one that wrote nothing left none.

Roles (columns of each rule, in this order):
  anon      anonymous
  trader_a  company trader of company A (Shandong), the owner of the objects
  trader_b  company trader of company B (Jiangsu)
  officer_a compliance officer of company A
  verifier  verifier (a technical services institution)
  auditor   auditor (staff, read-only)
  prov      provincial regulator of Guangdong (another province than A's)
  national  national regulator (staff)
  exchange  exchange operator (staff)
Privileged roles log in past the second factor (tests.auth.login).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organization
from accounts.roles import Role
from accounts.services import api_token_create
from allocation.services import period_create
from compliance.verification import emission_report_file, verifier_assign
from core.models import AuditEvent
from registry.models import Asset, SealCheck
from registry.seal import seal_check_record
from tests.auth import login
from tests.compliance.helpers import verify
from tests.factories import OrganizationFactory, make_uscc, user_with_role

ROLES = ("anon", "trader_a", "trader_b", "officer_a", "verifier", "auditor", "prov", "national", "exchange")


@dataclasses.dataclass(frozen=True)
class Rule:
    """Expected statuses for one method, one per role in ROLES order ("302 200 ..."). `kwargs` names the
    objects put in the URL (keys of the world); `data` builds the body for a role."""

    method: str
    expect: str
    kwargs: dict[str, str] = dataclasses.field(default_factory=dict)
    data: Callable[[dict[str, Any], str], dict[str, Any]] | None = None
    query: str = ""

    def statuses(self) -> dict[str, int]:
        codes = self.expect.split()
        assert len(codes) == len(ROLES), f"{self.expect!r}: one status per role {ROLES}"
        return dict(zip(ROLES, map(int, codes), strict=True))


def _order_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 1, "client_order_id": f"matrix-{role}"}


def _ticket_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"side": "buy", "price": "54.00", "quantity": "1", "client_order_id": f"matrix-page-{role}"}


def _surrender_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"period": "2021", "asset": "CEA21", "quantity": 1, "client_request_id": f"matrix-{role}"}


def _block_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"instrument": "CEA21", "side": "buy", "price": "40.00", "quantity": 100_000, "client_order_id": f"matrix-block-{role}"}


def _block_page_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"side": "buy", "price": "40.00", "quantity": "100000", "client_order_id": f"matrix-block-page-{role}"}


def _auction_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    now = timezone.now()
    return {"instrument": "CEA21", "side": "sell", "quantity": 1_000, "reserve_price": "50.00", "starts_at": now.isoformat(),
            "ends_at": (now + dt.timedelta(hours=1)).isoformat(), "client_auction_id": f"matrix-auction-{role}"}


def _auction_page_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    now = timezone.localtime()
    return {"instrument": "CEA21", "side": "sell", "quantity": "1000", "reserve_price": "50.00", "min_bid_quantity": "1",
            "max_share_percent": "30", "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "client_auction_id": f"matrix-page-auction-{role}"}


def _auction_bid_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"price": "55.00", "quantity": 100, "client_bid_id": f"matrix-bid-{role}"}


def _accept_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"client_order_id": f"matrix-accept-{role}"}


def _profile_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"first_name": "Li", "last_name": "Wei", "email": f"{role}@example.cn", "language": "en"}


def _password_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"old_password": "correct-horse-battery", "new_password1": "matrix-passphrase-2026",
            "new_password2": "matrix-passphrase-2026"}


def _cancel_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"asset": "CCER", "quantity": 1, "purpose": "Matrix event", "client_request_id": f"matrix-cancel-{role}"}


def _methodology_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"methodology-code": f"M-{role}", "methodology-name": "Offshore wind", "methodology-sector": "energy"}


def _project_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"project-identifier": f"P-MATRIX-{role}", "project-name": "Wind farm", "project-owner": world["company_a_pk"],
            "project-province": "37", "project-methodology": world["methodology"], "project-crediting_start": "2024-01-01",
            "project-crediting_end": "2033-12-31", "project-registration_date": "2024-03-01"}


def _issuance_body(world: dict[str, Any], role: str) -> dict[str, Any]:
    return {"issuance-project": world["project_a_pk"], "issuance-vintage": "2024", "issuance-monitoring_start": "2024-01-01",
            "issuance-monitoring_end": "2024-12-31", "issuance-quantity": "5", "issuance-reason": ""}


ACCOUNT_A = {"number": "account_a"}
PROJECT_A = {"identifier": "project_a"}
PROJECT_A_PK = {"pk": "project_a_pk"}
CERTIFICATE_A = {"number": "certificate_a"}  # company A's cancellation certificate
ISSUANCE_PENDING = {"pk": "issuance_pending"}  # proposed by a national regulator other than "national"
TOKEN_A = {"token_id": "token_a"}
REPORT_A = {"report_id": "report_a"}
PERIOD = {"period": "period"}
ORDER_A = {"order_id": "order_a"}
OFFER_A = {"offer_id": "offer_a"}  # company A's public block buy
AUCTION_A = {"auction_id": "auction_a"}  # company A's approved sell auction, open for bids
AUCTION_PENDING = {"auction_id": "auction_pending"}  # company A's announcement awaiting approval
BID_B = {"auction_id": "auction_a", "bid_id": "bid_b"}  # company B's bid in it
CEA21 = {"symbol": "cea21"}
CASE_A = {"case_id": "case_a"}  # a data-fraud case against company A, opened by the national regulator
DECISION_A = {"decision_id": "decision_a"}  # a fine on an individual in it, proposed by the national regulator
DISCLOSURE_A = {"disclosure_id": "disclosure_a"}  # company A's disclosure, awaiting confirmation

#            roles:                 anon trader_a trader_b officer_a verifier auditor prov national exchange
RULES: dict[str, list[Rule]] = {
    # pages
    "home": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    "account-detail": [Rule("GET", "302 200 404 200 404 200 404 200 200", ACCOUNT_A)],
    "login": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "logout": [Rule("POST", "302 302 302 302 302 302 302 302 302")],
    "two-factor": [Rule("GET", "302 200 200 200 200 200 200 200 200"),
                   Rule("POST", "302 302 302 302 302 200 200 200 200", data=lambda world, role: {"action": "start"})],
    "two-factor-verify": [Rule("GET", "302 302 302 302 302 302 302 302 302")],
    "set_language": [Rule("GET", "302 302 302 302 302 302 302 302 302"),
                     Rule("POST", "302 302 302 302 302 302 302 302 302", data=lambda world, role: {"language": "zh-hans", "next": "/"})],
    # company pages (web)
    "orders": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    "order-detail": [Rule("GET", "302 200 404 200 404 404 404 404 404", ORDER_A)],
    "trades": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    # each user sees its own organizations' carry-over statements (none for staff: they review them in the admin)
    "carry-over": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    "profile": [Rule("GET", "302 200 200 200 200 200 200 200 200"),
                Rule("POST", "302 302 302 302 302 302 302 302 302", data=_profile_body)],
    "profile-password": [Rule("GET", "302 200 200 200 200 200 200 200 200"),
                         Rule("POST", "302 302 302 302 302 302 302 302 302", data=_password_body)],
    "tokens": [Rule("GET", "302 200 200 200 200 200 200 200 200"),
               Rule("POST", "302 200 200 200 200 200 200 200 200", data=lambda world, role: {"name": "matrix bot"})],
    "token-revoke": [Rule("GET", "302 405 405 405 405 405 405 405 405", TOKEN_A),
                     Rule("POST", "302 302 404 404 404 404 404 404 404", TOKEN_A)],
    # reports and disclosure
    "reports-index": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    "regulator-home": [Rule("GET", "302 403 403 403 403 403 200 200 403")],
    "reports-compliance": [Rule("GET", "302 403 403 403 403 200 200 200 403", PERIOD)],
    # a large export's job (the auditor's national PDF, still queued: its file is not ready, 404)
    "reports-export-job": [Rule("GET", "302 403 403 403 403 200 403 200 403", {"job_id": "export_job"})],
    "reports-export-download": [Rule("GET", "302 403 403 403 403 404 403 404 403", {"job_id": "export_job"})],
    # clearing reports: a member's own statement; the market report for the operator, regulators, auditors
    "reports-clearing": [Rule("GET", "302 200 200 200 403 403 403 403 403")],
    "reports-market": [Rule("GET", "302 403 403 403 403 200 200 200 200")],
    "reports-statement-find": [Rule("GET", "302 302 404 302 404 302 404 302 302", query="number={account_a}")],
    "reports-statement": [Rule("GET", "302 200 404 200 404 200 404 200 200", ACCOUNT_A)],
    "disclosure-index": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "disclosure-period": [Rule("GET", "200 200 200 200 200 200 200 200 200", PERIOD)],
    "disclosure-seal": [Rule("GET", "200 200 200 200 200 200 200 200 200"),
                        Rule("POST", "405 405 405 405 405 405 405 405 405")],
    "disclosure-seal-json": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    # the ledger's seal chain (auditors and the national regulator)
    "seal-chain": [Rule("GET", "302 403 403 403 403 200 403 200 403"),
                   Rule("POST", "302 403 403 403 403 302 403 403 403", data=lambda world, role: {})],
    "seal-check": [Rule("GET", "302 403 403 403 403 200 403 200 403", {"pk": "seal_check"})],
    # API: documentation
    "schema": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "api-docs": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    # API: the ledger
    "api-account-list": [Rule("GET", "401 200 200 200 200 200 200 200 200")],
    "api-account-detail": [Rule("GET", "401 200 404 200 404 200 404 200 200", ACCOUNT_A)],
    "api-account-transfers": [Rule("GET", "401 200 404 200 404 200 404 200 200", ACCOUNT_A)],
    # API: market data (public)
    "api-instrument-list": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "api-instrument-detail": [Rule("GET", "200 200 200 200 200 200 200 200 200", CEA21)],
    "api-instrument-book": [Rule("GET", "200 200 200 200 200 200 200 200 200", CEA21)],
    "api-instrument-trades": [Rule("GET", "200 200 200 200 200 200 200 200 200", CEA21)],
    "api-instrument-candles": [Rule("GET", "200 200 200 200 200 200 200 200 200", CEA21)],
    # API: trading (own organization only)
    "api-order-list": [Rule("GET", "401 200 200 200 200 200 200 200 200"),
                       Rule("POST", "401 201 201 403 403 403 403 403 403", data=_order_body)],
    "api-order-detail": [Rule("GET", "401 200 404 200 404 404 404 404 404", ORDER_A),
                         Rule("DELETE", "401 200 404 403 403 403 403 403 403", ORDER_A)],
    "api-fill-list": [Rule("GET", "401 200 200 200 200 200 200 200 200")],
    # API: block agreement offers (open public ones are anyone's to read; only members post or accept)
    "api-block-offer-list": [Rule("GET", "401 200 200 200 200 200 200 200 200"),
                             Rule("POST", "401 201 201 403 403 403 403 403 403", data=_block_body)],
    "api-block-offer-detail": [Rule("GET", "401 200 200 200 200 200 200 200 200", OFFER_A),
                               Rule("DELETE", "401 200 404 403 403 403 403 403 403", OFFER_A)],
    "api-block-offer-accept": [Rule("GET", "401 405 405 405 405 405 405 405 405", OFFER_A),
                               Rule("POST", "401 403 201 403 403 403 403 403 403", OFFER_A, data=_accept_body)],
    "api-balance-list": [Rule("GET", "401 200 200 200 200 200 200 200 200")],
    # API: one-way bidding (members announce and bid; the national regulator announces paid allocation;
    # the exchange operator approves; pending announcements are seen by their initiator and staff; bids are sealed)
    "api-auction-list": [Rule("GET", "401 200 200 200 200 200 200 200 200"),
                         Rule("POST", "401 201 201 403 403 403 403 201 403", data=_auction_body)],
    "api-auction-detail": [Rule("GET", "401 200 200 200 200 200 200 200 200", AUCTION_A),
                           Rule("GET", "401 200 404 200 404 200 200 200 200", AUCTION_PENDING)],
    "api-auction-approve": [Rule("GET", "401 405 405 405 405 405 405 405 405", AUCTION_PENDING),
                            Rule("POST", "401 403 403 403 403 403 403 403 200", AUCTION_PENDING)],
    "api-auction-reject": [Rule("GET", "401 405 405 405 405 405 405 405 405", AUCTION_PENDING),
                           Rule("POST", "401 403 403 403 403 403 403 403 200", AUCTION_PENDING,
                                data=lambda world, role: {"reason": "Matrix"})],
    "api-auction-bids": [Rule("GET", "401 200 200 200 200 200 200 200 200", AUCTION_A),
                         Rule("POST", "401 403 201 403 403 403 403 403 403", AUCTION_A, data=_auction_bid_body)],
    "api-auction-bid-detail": [Rule("GET", "401 405 405 405 405 405 405 405 405", BID_B),
                               Rule("DELETE", "401 404 200 403 403 403 403 403 403", BID_B)],
    "api-auction-results": [Rule("GET", "401 200 200 200 200 200 200 200 200", AUCTION_A)],
    # API: compliance
    "api-surrender-create": [Rule("POST", "401 403 403 201 403 403 403 403 403", data=_surrender_body)],
    "api-carry-over-statements": [Rule("GET", "401 200 200 200 200 200 200 200 200")],
    # the offset registry: public pages, the holder's credits and cancellations, the national regulator's issuance
    "offsets-index": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "offsets-project": [Rule("GET", "200 200 200 200 200 200 200 200 200", PROJECT_A)],
    "offsets-serial": [Rule("GET", "200 200 200 200 200 200 200 200 200", query="serial=1")],
    "offsets-certificate": [Rule("GET", "200 200 200 200 200 200 200 200 200", CERTIFICATE_A)],
    "offsets-certificate-pdf": [Rule("GET", "302 200 404 200 404 404 404 404 404", CERTIFICATE_A)],
    "offsets-mine": [Rule("GET", "302 403 403 200 403 403 403 403 403")],
    "offsets-cancel": [Rule("GET", "302 405 405 405 405 405 405 405 405"),
                       Rule("POST", "302 403 403 302 403 403 403 403 403", data=_cancel_body)],
    "offsets-regulator": [Rule("GET", "302 403 403 403 403 403 403 200 403")],
    "offsets-methodology-new": [Rule("POST", "302 403 403 403 403 403 403 302 403", data=_methodology_body)],
    "offsets-project-new": [Rule("POST", "302 403 403 403 403 403 403 302 403", data=_project_body)],
    "offsets-project-status": [Rule("GET", "302 405 405 405 405 405 405 405 405", PROJECT_A_PK),
                               Rule("POST", "302 403 403 403 403 403 403 302 403", PROJECT_A_PK,
                                    data=lambda world, role: {"status": "suspended"})],
    "offsets-issuance-new": [Rule("POST", "302 403 403 403 403 403 403 302 403", data=_issuance_body)],
    "offsets-issuance-approve": [Rule("GET", "302 405 405 405 405 405 405 405 405", ISSUANCE_PENDING),
                                 Rule("POST", "302 403 403 403 403 403 403 302 403", ISSUANCE_PENDING,
                                      data=lambda world, role: {"reason": ""})],
    "offsets-issuance-reject": [Rule("POST", "302 403 403 403 403 403 403 302 403", ISSUANCE_PENDING,
                                     data=lambda world, role: {"reason": "Monitoring report incomplete"})],
    "api-cancellation-create": [Rule("POST", "401 403 403 201 403 403 403 403 403", data=_cancel_body)],
    "api-certificate-detail": [Rule("GET", "200 200 200 200 200 200 200 200 200", CERTIFICATE_A)],
    "api-serial-block-list": [Rule("GET", "401 403 403 200 403 403 403 403 403")],
    "api-obligation-list": [Rule("GET", "401 403 403 200 403 200 200 200 403", query="period=2021")],
    # compliance: emission reports (API and pages)
    "api-emission-report-list": [Rule("GET", "401 200 200 200 200 200 200 200 200")],
    # API: enforcement decisions (read-only; a company its own, regulators in scope, auditors all)
    "api-decision-list": [Rule("GET", "401 200 200 200 200 200 200 200 200")],
    "api-decision-detail": [Rule("GET", "401 200 404 200 404 200 404 200 404", DECISION_A)],
    "api-emission-report-detail": [Rule("GET", "401 404 404 200 200 200 404 200 404", REPORT_A)],
    "api-emission-report-verify": [Rule("GET", "401 405 405 405 405 405 405 405 405", REPORT_A)],
    "api-emission-report-confirm": [Rule("GET", "401 405 405 405 405 405 405 405 405", REPORT_A)],
    "api-emission-report-object": [Rule("GET", "401 405 405 405 405 405 405 405 405", REPORT_A)],
    "api-emission-report-decide": [Rule("GET", "401 405 405 405 405 405 405 405 405", REPORT_A)],
    "compliance-index": [Rule("GET", "302 403 403 302 302 302 302 302 403")],
    "compliance-surrender": [Rule("GET", "302 403 403 200 403 403 403 403 403")],
    "compliance-report-new": [Rule("GET", "302 403 403 200 403 403 403 403 403")],
    "compliance-report": [Rule("GET", "302 404 404 200 200 200 404 200 404", REPORT_A)],
    "compliance-report-file": [Rule("GET", "302 404 404 200 200 200 404 200 404", REPORT_A)],
    "compliance-report-object": [Rule("GET", "405 405 405 405 405 405 405 405 405", REPORT_A)],
    "compliance-verifier": [Rule("GET", "302 403 403 403 200 403 403 403 403")],
    "compliance-report-verify": [Rule("GET", "405 405 405 405 405 405 405 405 405", REPORT_A)],
    "compliance-regulator": [Rule("GET", "302 403 403 403 403 200 200 200 403")],
    "compliance-report-confirm": [Rule("GET", "405 405 405 405 405 405 405 405 405", REPORT_A)],
    "compliance-report-decide": [Rule("GET", "405 405 405 405 405 405 405 405 405", REPORT_A)],
    # the trading screen and public market pages
    "trade-index": [Rule("GET", "302 302 302 302 302 302 302 302 302")],
    "trade": [Rule("GET", "302 200 200 200 200 200 200 200 200", CEA21)],
    "trade-summary": [Rule("GET", "302 200 200 200 200 200 200 200 200", CEA21)],
    "trade-book": [Rule("GET", "302 200 200 200 200 200 200 200 200", CEA21)],
    "trade-tape": [Rule("GET", "302 200 200 200 200 200 200 200 200", CEA21)],
    "trade-orders": [Rule("GET", "302 200 200 403 403 403 403 403 403", CEA21)],
    "trade-balances": [Rule("GET", "302 200 200 403 403 403 403 403 403", CEA21)],
    "trade-order": [Rule("GET", "302 405 405 405 405 405 405 405 405", CEA21),
                    Rule("POST", "302 302 302 403 403 403 403 403 403", CEA21, data=_ticket_body)],
    # A signed stream URL naming the market's topics and the caller's own organizations' (the
    # streams' own tests check which); the stream itself is outside Django (core.live.stream_app).
    "trade-stream-url": [Rule("GET", "200 200 200 200 200 200 200 200 200", CEA21)],
    "trade-cancel-all": [Rule("GET", "302 405 405 405 405 405 405 405 405", CEA21),
                         Rule("POST", "302 302 302 403 403 403 403 403 403", CEA21, data=lambda world, role: {})],
    "trade-fills": [Rule("GET", "302 200 200 403 403 403 403 403 403", CEA21, query="after=0")],
    "trade-order-status": [Rule("GET", "302 200 404 403 403 403 403 403 403", ORDER_A)],
    "trade-order-cancel": [Rule("GET", "302 405 405 405 405 405 405 405 405", ORDER_A),
                           Rule("POST", "302 302 404 403 403 403 403 403 403", ORDER_A, data=lambda world, role: {})],
    # one-way bidding's pages: the list and an approved auction are everyone's to read; announcing is for
    # members and the national regulator, deciding for the exchange operator, bidding for members
    "auctions": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    "auction-announce": [Rule("GET", "302 405 405 405 405 405 405 405 405"),
                         Rule("POST", "302 302 302 403 403 403 403 302 403", data=_auction_page_body)],
    "auction-detail": [Rule("GET", "302 200 200 200 200 200 200 200 200", AUCTION_A),
                       Rule("GET", "302 200 404 200 404 200 200 200 200", AUCTION_PENDING)],
    "auction-approve": [Rule("GET", "302 405 405 405 405 405 405 405 405", AUCTION_PENDING),
                        Rule("POST", "302 403 403 403 403 403 403 403 302", AUCTION_PENDING)],
    "auction-reject": [Rule("GET", "302 405 405 405 405 405 405 405 405", AUCTION_PENDING),
                       Rule("POST", "302 403 403 403 403 403 403 403 302", AUCTION_PENDING,
                            data=lambda world, role: {"reason": "Matrix"})],
    "auction-bid": [Rule("GET", "302 405 405 405 405 405 405 405 405", AUCTION_A),
                    Rule("POST", "302 403 302 403 403 403 403 403 403", AUCTION_A, data=_auction_bid_body)],
    "auction-bid-withdraw": [Rule("GET", "302 405 405 405 405 405 405 405 405", BID_B),
                             Rule("POST", "302 404 302 403 403 403 403 403 403", BID_B)],
    "trade-blocks": [Rule("GET", "302 200 200 200 200 200 200 200 200", CEA21)],
    "trade-block-post": [Rule("GET", "302 405 405 405 405 405 405 405 405", CEA21),
                         Rule("POST", "302 302 302 403 403 403 403 403 403", CEA21, data=_block_page_body)],
    # (Its own offer: the page again with the refusal, 403 not_counterparty.)
    "trade-block-accept": [Rule("GET", "302 405 405 405 405 405 405 405 405", OFFER_A),
                           Rule("POST", "302 403 302 403 403 403 403 403 403", OFFER_A, data=_accept_body)],
    "trade-block-withdraw": [Rule("GET", "302 405 405 405 405 405 405 405 405", OFFER_A),
                             Rule("POST", "302 302 404 403 403 403 403 403 403", OFFER_A, data=lambda world, role: {})],
    # surveillance: the exchange operator decides; the national regulator reads
    "surveillance-alerts": [Rule("GET", "302 403 403 403 403 403 403 200 200")],
    "surveillance-alert": [Rule("GET", "302 403 403 403 403 403 403 200 200", {"alert_id": "alert"})],
    "surveillance-alert-decide": [Rule("GET", "302 405 405 405 405 405 405 405 405", {"alert_id": "alert"}),
                                  Rule("POST", "302 403 403 403 403 403 403 403 302", {"alert_id": "alert"},
                                       data=lambda world, role: {"decision": "dismiss", "reason": "matrix"})],
    # enforcement: regulators (a provincial one in its province) and auditors read cases and decisions; a
    # company its own decisions; the proposer (national) cannot approve its own decision; regulators
    # confirm disclosures; auditors and regulators make a period's archive
    "enforcement-index": [Rule("GET", "302 200 200 200 200 200 200 200 200")],
    "enforcement-case-new": [Rule("GET", "302 403 403 403 403 403 200 200 403")],
    "enforcement-case": [Rule("GET", "302 404 404 404 404 200 404 200 404", CASE_A)],
    # The national regulator opened the case: another regulator closes it.
    "enforcement-case-close": [Rule("GET", "405 405 405 405 405 405 405 405 405", CASE_A),
                               Rule("POST", "302 403 403 403 403 403 404 403 403", CASE_A,
                                    data=lambda world, role: {"note": "matrix"})],
    "enforcement-decision-new": [Rule("GET", "302 403 403 403 403 403 200 200 403")],
    "enforcement-decision": [Rule("GET", "302 200 404 200 404 200 404 200 404", DECISION_A)],
    "enforcement-decision-approve": [Rule("GET", "405 405 405 405 405 405 405 405 405", DECISION_A),
                                     Rule("POST", "302 403 403 403 403 403 404 403 403", DECISION_A)],
    "enforcement-decision-reject": [Rule("GET", "405 405 405 405 405 405 405 405 405", DECISION_A),
                                    Rule("POST", "302 403 403 403 403 403 404 403 403", DECISION_A,
                                         data=lambda world, role: {"note": "matrix"})],
    "enforcement-decision-lift": [Rule("GET", "405 405 405 405 405 405 405 405 405", DECISION_A),
                                  Rule("POST", "302 403 403 403 403 403 404 400 403", DECISION_A,
                                       data=lambda world, role: {"note": "matrix"})],
    "enforcement-decision-lift-approve": [Rule("GET", "405 405 405 405 405 405 405 405 405", DECISION_A),
                                          Rule("POST", "302 403 403 403 403 403 404 400 403", DECISION_A)],
    "enforcement-decision-lift-reject": [Rule("GET", "405 405 405 405 405 405 405 405 405", DECISION_A),
                                         Rule("POST", "302 403 403 403 403 403 404 400 403", DECISION_A,
                                              data=lambda world, role: {"note": "matrix"})],
    "enforcement-disclosure": [Rule("GET", "302 403 403 200 403 403 403 403 403")],
    "enforcement-disclosure-confirm": [Rule("GET", "405 405 405 405 405 405 405 405 405", DISCLOSURE_A),
                                       Rule("POST", "302 403 403 403 403 403 404 302 403", DISCLOSURE_A)],
    "enforcement-disclosure-return": [Rule("GET", "405 405 405 405 405 405 405 405 405", DISCLOSURE_A),
                                      Rule("POST", "302 403 403 403 403 403 404 302 403", DISCLOSURE_A,
                                           data=lambda world, role: {"note": "matrix"})],
    "enforcement-archive": [Rule("GET", "405 405 405 405 405 405 405 405 405"),
                            Rule("POST", "302 403 403 403 403 302 302 302 403", data=lambda world, role: {"period": "2021"})],
    "market": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "market-table": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
    "javascript-catalog": [Rule("GET", "200 200 200 200 200 200 200 200 200")],  # the pages' translated strings
    "market-stream-url": [Rule("GET", "200 200 200 200 200 200 200 200 200")],
}

# The admin: non-staff roles are sent to the admin's login on every admin URL (test_the_admin_is_closed_to_non_staff);
# staff see a model's list only with its view permission (test_admin_lists_follow_the_role_permissions).
ADMIN_NAMESPACE = "admin"

# Tables whose writes are not state changes of the platform: the lockout counters (and the audit itself).
NOT_STATE = re.compile(r"^(axes_.*|core_auditevent)$")


def _walk(patterns: list[Any], prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str | None, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield prefix + str(entry.pattern), name, entry


def url_patterns() -> list[tuple[str, str | None, Any]]:
    return list(_walk(get_resolver().url_patterns))


def site_urls() -> list[tuple[str, str | None]]:
    """Every URL outside the admin: (route, name)."""
    return [(route, name) for route, name, _ in url_patterns() if not route.startswith(f"{ADMIN_NAMESPACE}/")]


@pytest.fixture
def world(db, company_a, company_b, national_regulator, exchange_operator):
    from tests.trading.conftest import fund
    from trading.services import order_place

    guangdong = OrganizationFactory(name="Guangdong Department of Ecology and Environment", kind=Organization.Kind.INSTITUTION,
                                    sector="government", province="44", uscc=make_uscc("44"))
    agency = OrganizationFactory(name="China Quality Certification Centre", kind=Organization.Kind.INSTITUTION,
                                 sector="services", province="11")
    audit_firm = OrganizationFactory(name="National Audit Office", kind=Organization.Kind.INSTITUTION, sector="government")
    national_regulator.is_staff = True
    national_regulator.save(update_fields=["is_staff"])
    exchange_operator.is_staff = True
    exchange_operator.save(update_fields=["is_staff"])
    users = {
        "anon": None,
        "trader_a": user_with_role(Role.COMPANY_TRADER, company_a),
        "trader_b": user_with_role(Role.COMPANY_TRADER, company_b),
        "officer_a": user_with_role(Role.COMPLIANCE_OFFICER, company_a),
        "verifier": user_with_role(Role.VERIFIER, agency),
        "auditor": user_with_role(Role.AUDITOR, audit_firm, is_staff=True),
        "prov": user_with_role(Role.PROVINCIAL_REGULATOR, guangdong, is_staff=True),
        "national": national_regulator,
        "exchange": exchange_operator,
    }
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    fund(company_b, regulator=national_regulator, operator=exchange_operator)
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)
    verify(period, national_regulator, {company_a: 100})  # an obligation of 20 t (no free allocation yet)
    order, _ = order_place(user=users["trader_a"], instrument="CEA21", side="sell", price="58.00", quantity=10,
                           client_order_id="matrix-resting")
    verifier_assign(period=period, organization=company_a, verifier=users["verifier"], actor=national_regulator)
    report = emission_report_file(user=users["officer_a"], period=period, emissions=120,
                                  attachment=SimpleUploadedFile("report.csv", b"unit,tonnes\nA,120\n"))
    from trading.blocks import block_offer_post

    offer, _ = block_offer_post(user=users["trader_a"], instrument="CEA21", side="buy", price="54.00", quantity=100_000,
                                client_order_id="matrix-block")
    from trading import auctions

    now = timezone.now()
    window = {"instrument": "CEA21", "side": "sell", "quantity": 10_000, "reserve_price": "50.00",
              "starts_at": now - dt.timedelta(minutes=1), "ends_at": now + dt.timedelta(hours=1)}
    auction, _ = auctions.auction_announce(user=users["trader_a"], client_auction_id="matrix-auction", **window)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    bid, _ = auctions.auction_bid_place(user=users["trader_b"], auction_id=auction.pk, price="52.00", quantity=1_000,
                                        client_bid_id="matrix-bid")
    pending, _ = auctions.auction_announce(user=users["trader_a"], client_auction_id="matrix-pending", **window)
    from reports.models import ExportJob

    export_job = ExportJob.objects.create(report="compliance", subject="2021", province="", file_format="pdf",
                                          params={"status": "", "sort": "", "language": "en"}, report_id="NCR-2021-00000001",
                                          rows=1, filename="compliance-2021.pdf", created_by=users["auditor"])
    from surveillance.models import Alert

    alert = Alert.objects.create(day=timezone.localdate(), kind=Alert.Kind.LARGE_HOLDER, subject=f"org:{company_a.pk}",
                                 organization=company_a, evidence={"share_percent": 50})
    token, _ = api_token_create(user=users["trader_a"], name="matrix", actor=users["trader_a"])
    check = seal_check_record(actor=users["auditor"], source=SealCheck.Source.PAGE)
    from enforcement.services import case_open, decision_propose, disclosure_submit

    case = case_open(actor=national_regulator, organization=company_a, subject="company", period=period, summary="matrix")
    decision = decision_propose(actor=national_regulator, kind="individual_fine", organization=company_a, period=period,
                                legal_basis="Art. 22", case=case, amount=100_000_00, individual_name="Matrix")
    disclosure = disclosure_submit(user=users["officer_a"], period=period, emissions=100, facilities="Unit 1", methods="Calculation")
    from offsets.services import cancellation_create, issuance_propose
    from tests.offsets.helpers import ccer_issue

    other_regulator = user_with_role(Role.NATIONAL_REGULATOR, national_regulator.memberships.first().organization)
    issued = ccer_issue(company_a, 100, national_regulator, other_regulator)
    pending_issuance = issuance_propose(project=issued.project, vintage=2024, monitoring_start=dt.date(2024, 1, 1),
                                        monitoring_end=dt.date(2024, 12, 31), quantity=10, actor=other_regulator)
    certificate, _ = cancellation_create(user=users["officer_a"], asset="CCER", quantity=1, purpose="Matrix",
                                         client_request_id="matrix-certificate")
    return {
        "case_a": case.pk,
        "decision_a": decision.pk,
        "disclosure_a": disclosure.pk,
        "project_a": issued.project.identifier,
        "project_a_pk": issued.project.pk,
        "methodology": issued.project.methodology_id,
        "company_a_pk": company_a.pk,
        "certificate_a": certificate.number,
        "issuance_pending": pending_issuance.pk,
        "users": users,
        "account_a": f"HA-{company_a.uscc}",
        "order_a": order.pk,
        "offer_a": offer.pk,
        "auction_a": auction.pk,
        "auction_pending": pending.pk,
        "bid_b": bid.pk,
        "export_job": export_job.pk,
        "alert": alert.pk,
        "cea21": "CEA21",
        "period": "2021",
        "token_a": token.pk,
        "seal_check": check.pk,
        "report_a": report.pk,
        "book": "book",
    }


def _client(world: dict[str, Any], role: str, *, api: bool) -> Any:
    client = APIClient() if api else Client()
    user = world["users"][role]
    return login(client, user) if user is not None else client


def _writes() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return dict(cursor.fetchall())


class _Undo(Exception):
    pass


def call(world: dict[str, Any], name: str, rule: Rule, role: str) -> tuple[int, list[str], int]:
    """One request, rolled back afterwards: (status, tables written, audit events left)."""
    kwargs = {key: world[value] for key, value in rule.kwargs.items()}
    url = reverse(name, kwargs=kwargs) + (f"?{rule.query.format(**world)}" if rule.query else "")
    api = url.startswith("/api/")
    client = _client(world, role, api=api)
    data = rule.data(world, role) if rule.data else None
    outcome: tuple[int, list[str], int] = (0, [], 0)
    try:
        with transaction.atomic():
            audit_before, writes_before = AuditEvent.objects.count(), _writes()
            extra = {"format": "json"} if api and data is not None else {}
            response = getattr(client, rule.method.lower())(url, data, **extra) if data is not None else getattr(
                client, rule.method.lower())(url)
            writes_after = _writes()
            written = sorted(
                table for table, count in writes_after.items()
                if count != writes_before.get(table, 0) and not NOT_STATE.match(table)
            )
            outcome = (response.status_code, written, AuditEvent.objects.count() - audit_before)
            raise _Undo
    except _Undo:
        pass
    return outcome


# The world's object for each URL parameter name, used to suggest a rule for a new URL.
KWARG_OBJECTS = {"number": "account_a", "order_id": "order_a", "offer_id": "offer_a", "auction_id": "auction_a", "bid_id": "bid_b", "job_id": "export_job", "alert_id": "alert", "symbol": "cea21", "period": "period", "token_id": "token_a",
                 "report_id": "report_a", "part": "book",
                 "case_id": "case_a", "decision_id": "decision_a", "disclosure_id": "disclosure_a"}


def _suggestion(name: str, seen: dict[str, int], kwargs: dict[str, str]) -> str:
    hint = f", {kwargs!r}" if kwargs else ""
    return f'    "{name}": [Rule("GET", "{" ".join(str(seen[role]) for role in ROLES)}"{hint})],'


def test_every_url_has_a_rule(world):
    missing = []
    for route, name in site_urls():
        if name is None:
            missing.append(f"    # {route}: give this URL a name (path(..., name=...)) and a rule")
            continue
        if name in RULES:
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if any(param not in KWARG_OBJECTS for param in params):
            missing.append(f'    "{name}": [Rule("GET", "<one status per role>", {{{", ".join(f"{k!r}: ..." for k in params)}}})],')
            continue
        kwargs = {param: KWARG_OBJECTS[param] for param in params}
        seen = {role: call(world, name, Rule("GET", " ".join(["0"] * len(ROLES)), kwargs), role)[0] for role in ROLES}
        missing.append(_suggestion(name, seen, kwargs))
    assert not missing, (
        "URLs without an authorization rule. Add to RULES in tests/security/test_authorization_matrix.py "
        f"(statuses in role order {ROLES}; check each before pasting):\n" + "\n".join(missing)
    )


def test_every_rule_names_a_url():
    names = {name for _, name in site_urls()}
    assert not set(RULES) - names, f"RULES names URLs that no longer exist: {sorted(set(RULES) - names)}"


CASES = [(name, index, rule) for name, rules in RULES.items() for index, rule in enumerate(rules)]


@pytest.mark.parametrize(("name", "index", "rule"), CASES, ids=[f"{name}-{rule.method}" for name, _, rule in CASES])
def test_each_role_gets_the_status_of_its_rule(world, name, index, rule):
    expected = rule.statuses()
    seen, audit_problems = {}, []
    for role in ROLES:
        status, written, audit_events = call(world, name, rule, role)
        seen[role] = status
        if written and audit_events != 1:
            audit_problems.append(f"{role}: {rule.method} {name} wrote {written} but left {audit_events} audit events (want 1)")
        if not written and audit_events:
            audit_problems.append(f"{role}: {rule.method} {name} wrote nothing but left {audit_events} audit events")
    assert seen == expected, (
        f"{rule.method} {name}: statuses differ from the rule.\n"
        f"  roles:    {' '.join(ROLES)}\n  expected: {rule.expect}\n  seen:     {' '.join(str(seen[r]) for r in ROLES)}"
    )
    assert not audit_problems, "\n".join(audit_problems)


def test_unverified_privileged_sessions_reach_nothing(world):
    """A privileged user who has not passed the second factor gets no page and no API answer other than
    the way to verify (the public market data aside, which anonymous users get too)."""
    user = world["users"]["national"]
    for route, name in site_urls():
        if name not in RULES:  # (test_every_url_has_a_rule reports it)
            continue
        rule = RULES[name][0]
        if rule.method != "GET":
            continue
        client = login(APIClient() if route.startswith("api/") else Client(), user, verified=False)
        response = client.get(reverse(name, kwargs={key: world[value] for key, value in rule.kwargs.items()}))
        if name in ("login", "two-factor", "two-factor-verify") or rule.statuses()["anon"] == 200 and not route.startswith("api/v1/accounts"):
            continue
        if route.startswith("api/"):
            assert response.status_code == 403 and response.json()["code"] == "two_factor_required", name
        else:
            assert response.status_code == 302 and "/account/two-factor/" in response.url, name


def _admin_urls() -> list[tuple[str, str | None, Any]]:
    return [entry for entry in url_patterns() if entry[0].startswith(f"{ADMIN_NAMESPACE}/")]


def _admin_path(route: str) -> str:
    """A concrete path for an admin route, placeholders filled with something that looks real."""
    path = re.sub(r"<path:object_id>|<str:object_id>|<int:object_id>", "1", route)
    path = re.sub(r"<int:content_type_id>", "1", path)
    path = re.sub(r"\(\?P<app_label>[^)]*\)", "registry", path)
    path = re.sub(r"\(\?P<url>\.\*\)", "no-such-page/", path)
    return "/" + path.lstrip("^").rstrip("$")


def test_the_admin_is_closed_to_non_staff(world):
    """Every admin URL, as anonymous and as each company and verifier user: the admin's login (or
    nothing), never a page."""
    problems = []
    for role in ("anon", "trader_a", "officer_a", "verifier"):
        client = _client(world, role, api=False)
        for route, name, _ in _admin_urls():
            path = _admin_path(route)
            response = client.get(path)
            if name == "admin:login":
                ok = response.status_code in (200, 302)
            elif name == "admin:logout":
                ok = response.status_code in (302, 405)
            else:
                ok = response.status_code in (302, 404) and (
                    response.status_code == 404 or "/admin/login/" in response.url or "/login/" in response.url
                )
            if not ok:
                problems.append(f"{role}: GET {path} -> {response.status_code}")
    assert not problems, "\n".join(problems)


def test_admin_lists_follow_the_role_permissions(world):
    """Each staff role sees a model's list in the admin exactly when its role grants the model's view
    or change permission, and an add page only with the add permission."""
    from django.contrib import admin

    problems = []
    for role in ("auditor", "prov", "national", "exchange"):
        user = world["users"][role]
        client = _client(world, role, api=False)
        assert client.get("/admin/").status_code == 200, role
        for model in admin.site._registry:
            meta = model._meta
            can_view = user.has_perm(f"{meta.app_label}.view_{meta.model_name}") or user.has_perm(
                f"{meta.app_label}.change_{meta.model_name}")
            status = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")).status_code
            if status != (200 if can_view else 403):
                problems.append(f"{role}: {meta.label} list -> {status}, view permission {can_view}")
            can_add = admin.site._registry[model].has_add_permission(_request_for(user))
            status = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code
            if status != (200 if can_add else 403):
                problems.append(f"{role}: {meta.label} add -> {status}, add permission {can_add}")
    assert not problems, "\n".join(problems)


def _request_for(user: Any) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request
