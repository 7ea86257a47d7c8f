"""Demo carry-over (seed_demo): once 2019-2020 is closed by its deadline job, the 2019-2020 window
(the settings' base and multiplier; net sales counted over the year before today) is computed and
submitted by regulator1 and approved by regulator2, so that each company's statement is on
/carry-over/ and what a company holds of CEA19-20 above its cap is marked not carried over (kept in
its holding, never tradable or surrenderable). The marking moves value between buckets only, so the
ledger's proof holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from carryover.models import CarryOverWindow
from carryover.services import carryover_approve, carryover_compute, carryover_submit


def carryover_demo_seed(*, users: dict[str, Any]) -> CarryOverWindow:
    today = timezone.localdate()
    window = CarryOverWindow.objects.create(code="2019-2020", first_year=2019, last_year=2020,
                                            trades_from=today - dt.timedelta(days=365), trades_until=today)
    carryover_compute(window=window, actor=users["regulator1"])
    carryover_submit(window=window, actor=users["regulator1"], reason="The 2019-2020 statements, computed after the deadline job.")
    return carryover_approve(window=window, actor=users["regulator2"], reason="Checked against the holdings.")
