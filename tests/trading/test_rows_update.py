import datetime as dt

import pytest
from django.utils import timezone

from core.db import rows_update
from tests.trading.conftest import place


@pytest.mark.django_db(transaction=True)
def test_rows_update_casts_nulls_and_timestamps(trader_a, funded):
    order = place(trader_a, "buy", "50.00", 10)
    order.matched_at = None
    rows_update([order], ["matched_at"])
    order.refresh_from_db()
    assert order.matched_at is None

    moment = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    order.matched_at = moment
    rows_update([order], ["matched_at"])
    order.refresh_from_db()
    assert order.matched_at == moment
