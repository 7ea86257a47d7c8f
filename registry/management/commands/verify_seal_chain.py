from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import InvalidInput
from registry.models import SealCheck
from registry.seal import ledger_seal_verify, seal_check_record
from registry.seal_publication import published_heads_compare, published_heads_read


def aware_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-04T10:00:00+08:00")
    return moment


class Command(BaseCommand):
    help = (
        "Recomputes the ledger seal chain from the transfers. Exits 1 naming the first broken block. "
        "With --against, also requires every head in a published, signed file of seal heads."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--record", action="store_true", help="Also keep the outcome as a SealCheck row")
        parser.add_argument("--against", type=Path, metavar="FILE", nargs="+", default=[],
                            help="Published files of seal heads (each signed in FILE.sig): each head must be in the database, unchanged")
        parser.add_argument("--as-of", type=aware_time, metavar="TIME",
                            help="With --against: only heads sealed at or before this ISO 8601 time (a database restored to it)")

    def handle(self, *args: Any, record: bool = False, against: list[Path], as_of: datetime | None = None,
               **options: Any) -> None:
        # A SealCheck and a SealReport answer the same questions under the same names.
        outcome = seal_check_record(source=SealCheck.Source.COMMAND) if record else ledger_seal_verify()
        self.stdout.write(f"{outcome.blocks_checked} blocks and {outcome.transfers_checked} transfers checked")
        if not outcome.ok:
            self.stderr.write(outcome.problem)
            raise CommandError(f"seal chain broken at block {outcome.broken_height}")
        head = f"head block {outcome.head_height} {outcome.head_hash}" if outcome.head_height else "no blocks yet"
        self.stdout.write(self.style.SUCCESS(f"seal chain OK: {head}"))
        if not against:
            return
        try:
            heads = [head for path in against for head in published_heads_read(path)]
        except InvalidInput as error:
            raise CommandError(error.message) from None
        problems, latest = published_heads_compare(heads, as_of=as_of)
        files = ", ".join(map(str, against))
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"the database does not hold {len(problems)} of the heads published in {files}")
        if latest is None:
            self.stdout.write(f"no head in {files} to compare (signatures OK)")
            return
        self.stdout.write(self.style.SUCCESS(
            f"published heads OK: signatures verified; the database holds every head in {files} up to block "
            f"{latest['height']} {latest['head_hash']} ({latest['sealed_transfers']} transfers)"
        ))
