from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def demo(transactional_db):
    """The demo (seed_demo, 4 companies, committed): plans, trades, orders, surrenders, verified
    emissions, compliance results, seal blocks and audit events, with its regulators ("regulator1",
    "regulator2") and auditor ("auditor"), plus a ledger check. For tests marked transaction=True."""
    from registry.services import ledger_check_record

    call_command("seed_demo", companies=4, stdout=StringIO())
    ledger_check_record()
