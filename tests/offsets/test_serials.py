"""Issuance (maker-checker) and serial blocks that follow every movement of CCER between accounts."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from core.errors import DomainError
from core.models import AuditEvent
from offsets import services
from offsets.models import BlockMovement, Issuance, SerialBlock
from offsets.selectors import serial_trace
from registry import services as registry
from registry.models import Account, Balance, Transfer
from tests.offsets.helpers import ccer_issue, project_for


def blocks(account):
    return list(SerialBlock.objects.filter(account=account).order_by("first_serial").values_list("first_serial", "last_serial"))


def test_an_issuance_needs_a_second_regulator(db, company_a, holding_a, national_regulator, second_national_regulator, ccer):
    project = project_for(company_a, national_regulator)
    issuance = services.issuance_propose(project=project, vintage=2024, monitoring_start=dt.date(2024, 1, 1),
                                         monitoring_end=dt.date(2024, 6, 30), quantity=1_000, actor=national_regulator)
    with pytest.raises(DomainError) as refused:
        services.issuance_approve(issuance=issuance, actor=national_regulator)
    assert refused.value.code == "maker_checker"
    assert Balance.objects.get(account=holding_a, asset=ccer).available == 0

    services.issuance_approve(issuance=issuance, actor=second_national_regulator)
    issuance.refresh_from_db()
    assert (issuance.status, issuance.first_serial, issuance.last_serial) == (Issuance.Status.ISSUED, 1, 1_000)
    assert issuance.decided_by == second_national_regulator
    assert Balance.objects.get(account=holding_a, asset=ccer).available == 1_000
    assert blocks(holding_a) == [(1, 1_000)]
    assert AuditEvent.objects.filter(action="offsets.issuance_approve", object_id=str(issuance.pk)).count() == 1
    with pytest.raises(DomainError) as again:
        services.issuance_approve(issuance=issuance, actor=second_national_regulator)
    assert again.value.code == "issuance_not_in_state"


def test_serial_numbers_never_overlap_between_issuances(db, company_a, company_b, holding_a, holding_b, national_regulator):
    first = ccer_issue(company_a, 500, national_regulator)
    second = ccer_issue(company_b, 300, national_regulator)
    assert (first.first_serial, first.last_serial, second.first_serial, second.last_serial) == (1, 500, 501, 800)
    # The database refuses an overlapping block even if code tried to write one.
    with pytest.raises(IntegrityError), transaction.atomic():
        SerialBlock.objects.create(issuance=second, asset=second.asset, account=holding_b, first_serial=400, last_serial=420)


@pytest.mark.parametrize("changes, field", [
    ({"quantity": 0}, "quantity"), ({"quantity": "12"}, "quantity"), ({"vintage": 2019}, "vintage"),
    ({"monitoring_end": dt.date(2023, 1, 1)}, "monitoring_end"),
    ({"monitoring_start": dt.date(2001, 1, 1)}, "monitoring_start"),
])
def test_a_bad_proposal_is_refused_with_its_field(db, company_a, national_regulator, changes, field):
    project = project_for(company_a, national_regulator)
    proposal = {"project": project, "vintage": 2024, "monitoring_start": dt.date(2024, 1, 1),
                "monitoring_end": dt.date(2024, 12, 31), "quantity": 10, "actor": national_regulator, **changes}
    with pytest.raises(DomainError) as refused:
        services.issuance_propose(**proposal)
    assert (refused.value.code, refused.value.field) == ("invalid", field)
    assert not Issuance.objects.exists()


def test_offsets_enter_only_through_an_issuance_with_serials(db, national_regulator, ccer):
    national = registry.system_account(Account.Kind.NATIONAL_ISSUANCE)
    with pytest.raises(DomainError) as refused:
        registry.allowances_issue(asset=ccer, amount=100, actor=national_regulator)
    assert refused.value.code == "serials_required"
    assert not Transfer.objects.filter(asset=ccer).exists()
    assert Balance.objects.get(account=national, asset=ccer).available == 0


def test_a_transfer_splits_the_oldest_block_and_a_return_merges_it(db, company_a, holding_a, holding_b, national_regulator, ccer):
    ccer_issue(company_a, 100, national_regulator, vintage=2025)  # serials 1-100, the newer vintage
    ccer_issue(company_a, 50, national_regulator, vintage=2024, identifier="P-OLD")  # 101-150, the older
    registry.transfer_create(source=holding_a, destination=holding_b, asset=ccer, amount=70, actor=national_regulator)
    # The oldest vintage leaves first (all 50), then the lowest serials of the next.
    assert blocks(holding_b) == [(1, 20), (101, 150)]
    assert blocks(holding_a) == [(21, 100)]
    registry.transfer_create(source=holding_b, destination=holding_a, asset=ccer, amount=60, actor=national_regulator)
    # 2024 first (101-150), then 1-10: both merge back into what company_a holds next to them.
    assert blocks(holding_a) == [(1, 10), (21, 100), (101, 150)]  # 21-100 and 101-150: two issuances, never merged
    assert blocks(holding_b) == [(11, 20)]
    registry.transfer_create(source=holding_b, destination=holding_a, asset=ccer, amount=10, actor=national_regulator)
    # 1-10, 11-20 and 21-100 are one issuance again in one block; 101-150 is another issuance's.
    assert blocks(holding_a) == [(1, 100), (101, 150)]
    assert SerialBlock.objects.filter(account=holding_b).count() == 0


def test_reservations_and_freezes_move_no_block(db, company_a, holding_a, national_regulator, ccer):
    ccer_issue(company_a, 100, national_regulator)
    registry.balance_reserve(account=holding_a, asset=ccer, amount=30, actor=national_regulator)
    registry.holdings_freeze(account=holding_a, asset=ccer, amount=20, reason="court order", actor=national_regulator)
    assert blocks(holding_a) == [(1, 100)]
    assert BlockMovement.objects.count() == 2  # the issuance's (into the national account) and its allocation


def test_every_serial_is_traceable_from_issuance_to_holder(db, company_a, holding_a, holding_b, national_regulator, ccer):
    issuance = ccer_issue(company_a, 100, national_regulator)
    moved = registry.transfer_create(source=holding_a, destination=holding_b, asset=ccer, amount=40, actor=national_regulator)
    trace = serial_trace(25)
    assert trace.issuance == issuance and trace.holder.account == holding_b
    assert [(m.source_id, m.destination_id) for m in trace.path][-1] == (holding_a.pk, holding_b.pk)
    assert trace.path[-1].transfer == moved
    assert serial_trace(75).holder.account == holding_a
    with pytest.raises(DomainError) as unknown:
        serial_trace(101)
    assert unknown.value.code == "not_found"


def test_a_refused_movement_leaves_the_blocks_as_they_were(db, company_a, holding_a, holding_b, national_regulator, ccer):
    ccer_issue(company_a, 100, national_regulator)
    with pytest.raises(DomainError) as refused:
        registry.transfer_create(source=holding_a, destination=holding_b, asset=ccer, amount=101, actor=national_regulator)
    assert refused.value.code == "insufficient_balance"
    assert blocks(holding_a) == [(1, 100)] and blocks(holding_b) == []


@pytest.mark.ledger_tampered
def test_check_ledger_finds_blocks_that_do_not_sum_to_the_balance(db, company_a, holding_a, national_regulator, ccer):
    ccer_issue(company_a, 100, national_regulator)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE offsets_serialblock SET last_serial = 90 WHERE account_id = %s", [holding_a.pk])
    with pytest.raises(Exception) as failed:
        call_command("check_ledger")
    assert "ledger check failed" in str(failed.value)
    from registry.selectors import ledger_verify

    problems = ledger_verify().problems
    assert f"{holding_a.number} CCER: balance 100, serial blocks hold 90 (difference 10)" in problems
    assert any(problem.startswith("issuance #") and "100 issued, serial blocks hold 90" in problem for problem in problems)


def test_a_withdrawn_methodology_takes_no_new_project(db, company_a, methodology, national_regulator):
    services.methodology_set_status(methodology=methodology, status="withdrawn", actor=national_regulator)
    assert AuditEvent.objects.filter(action="offsets.methodology_status", after={"status": "withdrawn"}).count() == 1
    with pytest.raises(DomainError) as refused:
        services.project_register(identifier="P-1", name="Late", owner=company_a, province="44", methodology=methodology,
                                  crediting_start=dt.date(2024, 1, 1), crediting_end=dt.date(2030, 1, 1),
                                  registration_date=dt.date(2024, 6, 1), actor=national_regulator)
    assert (refused.value.code, refused.value.field) == ("invalid", "methodology")


def test_a_project_suspended_after_the_proposal_is_not_issued(db, company_a, holding_a, national_regulator,
                                                               second_national_regulator, ccer):
    project = project_for(company_a, national_regulator)
    issuance = services.issuance_propose(project=project, vintage=2024, monitoring_start=dt.date(2024, 1, 1),
                                         monitoring_end=dt.date(2024, 12, 31), quantity=10, actor=national_regulator)
    services.project_set_status(project=project, status="suspended", actor=national_regulator)
    issuance.project.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.issuance_approve(issuance=issuance, actor=second_national_regulator)
    assert (refused.value.code, refused.value.field) == ("invalid", "project")
    issuance.refresh_from_db()
    assert issuance.status == Issuance.Status.PROPOSED and Balance.objects.get(account=holding_a, asset=ccer).available == 0
