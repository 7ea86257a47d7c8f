from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from allocation.models import CompliancePeriod
from compliance.errors import VerifiedEmissionsRefused
from compliance.services import verified_emissions_import
from core.errors import DomainError


class Command(BaseCommand):
    help = ("Records confirmed verified emissions from a CSV or XLSX (uscc,verified_emissions), refusing the whole file "
            "on any bad row (at most IMPORT_MAX_ROWS rows).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--period", required=True)
        parser.add_argument("--user", help="The confirming regulator (username); default: the system")

    def handle(self, *args: Any, file: Path, period: str, user: str | None, **options: Any) -> None:
        compliance_period = CompliancePeriod.objects.filter(code=period).first()
        if compliance_period is None:
            raise CommandError(f"no compliance period {period}")
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user}")
        if not file.exists():
            raise CommandError(f"no file {file}")
        try:
            with file.open("rb") as stream:
                count = verified_emissions_import(period=compliance_period, stream=stream, filename=file.name, actor=actor)
        except VerifiedEmissionsRefused as refused:
            for problem in refused.errors:
                self.stderr.write(str(problem))
            raise CommandError(refused.message) from None
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from None
        self.stdout.write(f"recorded verified emissions of {count} units for {period}")
