from typing import Any

from django.core.management.base import BaseCommand, CommandError

from registry.selectors import ledger_verify
from registry.services import ledger_check_record


class Command(BaseCommand):
    help = "Recomputes every balance from the transfers and proves conservation per asset. Exits 1 on any mismatch."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--record", action="store_true", help="Also keep the outcome as a LedgerCheck row")

    def handle(self, *args: Any, record: bool = False, **options: Any) -> None:
        report = ledger_verify()
        if record:
            ledger_check_record(report)
        for code, totals in sorted(report.assets.items()):
            self.stdout.write(
                f"{code:10} entered {totals.entered:>20} left {totals.left:>16} "
                f"retired+cancelled {totals.out_of_circulation:>16} holdings {totals.holdings:>20}"
            )
        self.stdout.write(f"{report.balances_checked} balances and {report.transfers_checked} transfers checked")
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger check failed: {len(report.problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("ledger OK: every balance matches its transfers and every asset is conserved"))
