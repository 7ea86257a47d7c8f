"""One instrument per CEA vintage (with its matching position), created after every `migrate` for
vintages that have none.

Starting reference prices follow the market's history (RULEBOOK.md: Market facts); the exchange
operator's end of day moves them from then on.
"""

from typing import Any

STARTING_REFERENCE_PRICES = {  # fen
    "CEA19-20": 54_22,
    "CEA21": 54_22,
    "CEA22": 55_00,
    "CEA23": 79_42,
    "CEA24": 97_49,
    "CEA25": 97_49,
}
DEFAULT_REFERENCE_PRICE = 97_49


def instruments_sync(using: str = "default", **kwargs: Any) -> None:
    from registry.models import Asset
    from trading.models import Instrument, MatchingPosition

    for asset in Asset.objects.using(using).filter(kind=Asset.Kind.ALLOWANCE, instrument__isnull=True):
        instrument = Instrument.objects.using(using).create(
            symbol=asset.code, asset=asset, reference_price=STARTING_REFERENCE_PRICES.get(asset.code, DEFAULT_REFERENCE_PRICE)
        )
        MatchingPosition.objects.using(using).create(instrument=instrument)
