import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trading import services
from trading.clock import trading_day
from trading.errors import EndOfDayPending
from trading.matcher import matching_sweep


class Command(BaseCommand):
    help = "Closes a trading day: expires open orders, settles, sets the close and releases pending allowances."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--day", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: today in market time)")
        parser.add_argument("--wait", type=float, default=60.0, help="Seconds to wait for the matcher")

    def handle(self, *args: Any, day: dt.date | None, wait: float, **options: Any) -> None:
        day = day or trading_day()
        services.end_of_day_expire(day=day)
        deadline = time.monotonic() + wait
        while True:
            matching_sweep()  # does the matching itself when no matcher process holds the instrument
            try:
                bars = services.end_of_day_close(day=day)
                break
            except EndOfDayPending as pending:
                if time.monotonic() > deadline:
                    raise CommandError(pending.message) from None
                time.sleep(0.5)
        for bar in bars:
            self.stdout.write(
                f"{bar.instrument.symbol} {day}: close {bar.close / 100:.2f}, volume {bar.volume:,} t, "
                f"turnover {bar.turnover / 100:,.2f} CNY, {bar.trade_count} trades"
            )
        self.stdout.write(self.style.SUCCESS(f"day {day} closed ({len(bars)} instrument(s); others were already closed)"))
