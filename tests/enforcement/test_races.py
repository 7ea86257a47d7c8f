"""Concurrency and retention with real transactions: two checkers approving one forced surrender at
once carry it out once; the kept records refuse DELETE (and an allocation cut UPDATE too)."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.roles import Role
from allocation.models import AllocationCut
from compliance.models import EmissionReport, Surrender, VerifiedEmission
from compliance.verification import emission_report_file
from core.errors import DomainError
from enforcement.models import Disclosure
from enforcement.services import case_open, decision_approve, decision_propose, disclosure_submit
from tests.compliance.helpers import officer_of, upload
from tests.enforcement.test_decisions import BASIS
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_racing_approvals_surrender_once(closed, company_b, national_regulator, ministry):
    checkers = [user_with_role(Role.NATIONAL_REGULATOR, ministry) for _ in range(2)]
    decision = decision_propose(actor=national_regulator, kind="forced_surrender", organization=company_b, period=closed,
                                legal_basis=BASIS, quantity=5_000)
    start, outcomes, lock = threading.Barrier(2), [], threading.Lock()

    def approve(checker) -> None:
        try:
            start.wait()
            try:
                decision_approve(actor=checker, decision=decision)
                outcome = "approved"
            except DomainError as error:
                outcome = error.code
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(checker,)) for checker in checkers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["approved", "decision_state"]
    assert sum(Surrender.objects.filter(client_request_id__startswith=decision.reference).values_list("quantity", flat=True)) == 5_000


def test_reports_verified_emissions_and_disclosures_refuse_delete(closed, next_period, company_b, national_regulator):
    emission_report_file(user=officer_of(company_b), period=next_period, emissions=100_000, attachment=upload())
    disclosure_submit(user=officer_of(company_b), period=closed, emissions=100_000, facilities="Unit 1", methods="Calculation")
    for model in (EmissionReport, VerifiedEmission, Disclosure):
        assert model.objects.exists()
        with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
            model.objects.all().delete()


def test_an_allocation_cut_cannot_be_changed(closed, next_period, company_b, national_regulator, second_national_regulator):
    case = case_open(actor=national_regulator, organization=company_b, subject="company", period=closed, summary="x")
    decision = decision_propose(actor=national_regulator, kind="allocation_cut", organization=company_b, period=closed,
                                legal_basis=BASIS, case=case, percent="50")
    decision_approve(actor=second_national_regulator, decision=decision)
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AllocationCut.objects.update(percent=0)
