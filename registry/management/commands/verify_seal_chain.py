from typing import Any

from django.core.management.base import BaseCommand, CommandError

from registry.models import SealCheck
from registry.seal import ledger_seal_verify, seal_check_record


class Command(BaseCommand):
    help = "Recomputes the ledger seal chain from the transfers. Exits 1 naming the first broken block."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--record", action="store_true", help="Also keep the outcome as a SealCheck row")

    def handle(self, *args: Any, record: bool = False, **options: Any) -> None:
        # A SealCheck and a SealReport answer the same questions under the same names.
        outcome = seal_check_record(source=SealCheck.Source.COMMAND) if record else ledger_seal_verify()
        self.stdout.write(f"{outcome.blocks_checked} blocks and {outcome.transfers_checked} transfers checked")
        if not outcome.ok:
            self.stderr.write(outcome.problem)
            raise CommandError(f"seal chain broken at block {outcome.broken_height}")
        head = f"head block {outcome.head_height} {outcome.head_hash}" if outcome.head_height else "no blocks yet"
        self.stdout.write(self.style.SUCCESS(f"seal chain OK: {head}"))
