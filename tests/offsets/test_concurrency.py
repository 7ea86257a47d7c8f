"""Holders cancelling and regulators approving at the same moment, each on its own connection with real
commits: certificate numbers and serial numbers are drawn once each, no deadlock, blocks still sum to
the balances (the ledger invariant after the test)."""

import datetime as dt

import pytest

from offsets import services
from offsets.models import Certificate, Issuance, SerialBlock
from tests.offsets.helpers import ccer_issue, project_for
from tests.registry.test_concurrency import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def test_simultaneous_cancellations_get_distinct_numbers_and_distinct_serials(company_a, holding_a, officer_a, national_regulator):
    ccer_issue(company_a, 600, national_regulator)
    _, errors = run_in_threads(THREADS, lambda index: services.cancellation_create(
        user=officer_a, asset="CCER", quantity=50, purpose=f"event {index}", client_request_id=f"c-{index}"))
    assert errors == []
    numbers = list(Certificate.objects.values_list("number", flat=True))
    assert len(set(numbers)) == THREADS and all(number.endswith(f"-{n:06d}") for n, number in
                                                 enumerate(sorted(numbers), start=1))
    cancelled = SerialBlock.objects.filter(account__kind="cancellation")
    assert [(b.first_serial, b.last_serial) for b in cancelled] == [(1, 300)]  # 6 x 50, oldest first, merged


def test_simultaneous_approvals_draw_distinct_serial_ranges(company_a, holding_a, national_regulator, second_national_regulator):
    project = project_for(company_a, national_regulator)
    proposals = [services.issuance_propose(project=project, vintage=2024, monitoring_start=dt.date(2024, 1, 1),
                                           monitoring_end=dt.date(2024, 12, 31), quantity=100 + index, actor=national_regulator)
                 for index in range(THREADS)]
    _, errors = run_in_threads(THREADS, lambda index: services.issuance_approve(issuance=proposals[index],
                                                                                 actor=second_national_regulator))
    assert errors == []
    ranges = sorted(Issuance.objects.values_list("first_serial", "last_serial"))
    assert all(previous[1] + 1 == current[0] for previous, current in zip(ranges, ranges[1:], strict=False))
    assert ranges[0][0] == 1 and ranges[-1][1] == sum(100 + index for index in range(THREADS))
