"""The embedded default that `make run` starts (SQLite, tasks in-process, matching inline right after
each order commits), in a subprocess on a database of its own: two demo traders cross, the orders
match and the trade settles. The rest of the suite runs on PostgreSQL, so this is what keeps the
plain SQL of the hot paths honest on SQLite."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", "--companies", "2", verbosity=0)
from accounts.models import User
from registry.selectors import ledger_verify
from trading.models import Instrument, Trade
from trading.services import order_place
price = f"{Instrument.objects.get(symbol='CEA21').reference_price / 100:.2f}"
buy, _ = order_place(user=User.objects.get(username="trader001"), instrument="CEA21", side="buy", price=price,
                     quantity=7, client_order_id="embedded-buy")
sell, _ = order_place(user=User.objects.get(username="trader002"), instrument="CEA21", side="sell", price=price,
                      quantity=7, client_order_id="embedded-sell")
buy.refresh_from_db()
trade = Trade.objects.get(buy_order=buy, sell_order=sell)
print(json.dumps({"vendor": django.db.connection.vendor, "buy": buy.status, "sell": sell.status,
                  "quantity": trade.quantity, "settled": trade.settled_at is not None,
                  "ledger_problems": ledger_verify().problems}))
"""


def test_two_demo_traders_cross_match_and_settle_on_sqlite(tmp_path):
    (tmp_path / "embedded_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        f"DATABASES['default']['NAME'] = {str(tmp_path / 'db.sqlite3')!r}  # noqa: F405\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path}:{ROOT}", "DJANGO_SETTINGS_MODULE": "embedded_settings",
             "MARKET_HOURS": "always"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"vendor": "sqlite", "buy": "filled", "sell": "filled", "quantity": 7, "settled": True,
                       "ledger_problems": []}  # (the suite's ledger proof does not reach this database: proven here)
    assert "Traceback" not in result.stderr, result.stderr  # matching failures are logged, not raised
