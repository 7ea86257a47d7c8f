import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deploy.backup import restore_drill
from registry.management.commands.verify_seal_chain import aware_time


class Command(BaseCommand):
    help = (
        "Restores the newest base backup (and the archived WAL after it) into a fresh PostgreSQL on a free "
        "loopback port, runs check_ledger and verify_seal_chain --against the published seal heads on it, "
        "and prints a JSON report (restored to, RTO, RPO, head and transfers). Exits 1 unless all holds."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--backup-dir", type=Path, default=os.environ.get("BACKUP_DIR"), metavar="DIR",
                            help="Base backups in DIR/base, archived WAL in DIR/wal (default: BACKUP_DIR)")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--target-time", type=aware_time, metavar="TIME", help="Restore to this ISO 8601 time")
        target.add_argument("--target-name", metavar="NAME", help="Restore to this restore point (pg_create_restore_point)")
        parser.add_argument("--primary-url", default=os.environ.get("DATABASE_URL"), metavar="URL",
                            help="The live primary, whose archiving sets the RPO (default: DATABASE_URL)")

    def handle(self, *args: Any, backup_dir: Path | None, target_time: Any, target_name: str | None,
               primary_url: str | None, **options: Any) -> None:
        if backup_dir is None:
            raise CommandError("give --backup-dir or set BACKUP_DIR")
        if not os.environ.get("DATABASE_URL"):
            raise CommandError("set DATABASE_URL: its user, password and database name are used on the restored copy")
        try:
            report = restore_drill(
                backup_dir=backup_dir, published_dir=Path(settings.SEAL_PUBLISH_DIR), database_url=os.environ["DATABASE_URL"],
                primary_url=primary_url, target_time=target_time, target_name=target_name,
            )
        except RuntimeError as error:
            raise CommandError(f"restore failed: {error}") from None
        self.stdout.write(json.dumps(report, indent=1, ensure_ascii=False))
        if not report["ok"]:
            raise CommandError("restore drill failed: see check_ledger, verify_seal_chain and head_matches_published above")
