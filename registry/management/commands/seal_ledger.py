from typing import Any

from django.core.management.base import BaseCommand, CommandError

from registry.seal import ledger_seal


class Command(BaseCommand):
    help = "Seals every transfer committed since the last block into new hash-chained blocks (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--block-size", type=int, help="Transfers per block at most (default: SEAL_BLOCK_SIZE)")

    def handle(self, *args: Any, block_size: int | None = None, **options: Any) -> None:
        if block_size is not None and block_size < 1:
            raise CommandError("--block-size must be at least 1")
        result = ledger_seal(block_size=block_size)
        if result.horizon is None:
            raise CommandError("transactions that may still commit transfers did not finish in time; nothing sealed, try again")
        if result.blocks:
            self.stdout.write(
                f"Sealed {result.transfers_sealed} transfers into blocks {result.blocks[0].height}-{result.blocks[-1].height}; "
                f"head {result.blocks[-1].block_hash}"
            )
        else:
            self.stdout.write("Nothing new to seal.")
