"""CCER traded on the exchange: the settled trade moves the seller's oldest serials to the buyer."""

from offsets.models import BlockMovement, SerialBlock
from registry.models import Asset, Transfer
from tests.offsets.helpers import ccer_issue
from tests.trading.conftest import balance, fund, place
from trading.models import Instrument, MatchingPosition, Trade


def test_a_settled_ccer_trade_moves_whole_serial_ranges(company_a, company_b, holding_a, holding_b, trader_a, trader_b,
                                                        national_regulator, exchange_operator):
    instrument = Instrument.objects.create(symbol="CCER", asset=Asset.objects.get(code="CCER"), reference_price=60_00)
    MatchingPosition.objects.create(instrument=instrument)
    fund(company_b, regulator=national_regulator, operator=exchange_operator, allowances=0)
    ccer_issue(company_a, 500, national_regulator, vintage=2025)
    ccer_issue(company_a, 100, national_regulator, vintage=2024, identifier="P-OLDER")  # serials 501-600, the oldest

    place(trader_a, "sell", "60.00", 150, instrument="CCER")
    place(trader_b, "buy", "60.00", 150, instrument="CCER")

    trade = Trade.objects.get()
    assert trade.settled_at is not None
    assert balance(company_b, "CCER")[2] == 150  # pending (T+1)
    assert list(SerialBlock.objects.filter(account=holding_b).order_by("first_serial").values_list("first_serial", "last_serial")) == [
        (1, 50), (501, 600)]
    settlement = Transfer.objects.get(kind=Transfer.Kind.TRADE_SETTLEMENT, asset__code="CCER")
    assert sorted(BlockMovement.objects.filter(transfer=settlement).values_list("first_serial", "last_serial")) == [(1, 50), (501, 600)]
