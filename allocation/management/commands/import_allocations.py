from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from allocation.models import CompliancePeriod
from allocation.services import ImportRefused, allocation_import
from core.errors import DomainError
from core.numbers import NumberRefused, parse_decimal


class Command(BaseCommand):
    help = "Imports a CSV or XLSX of allocation lines as a draft plan (all rows or none)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--period", required=True, help="Compliance period code, e.g. 2021")
        parser.add_argument("--vintage", help="CEA vintage to issue (default: the period's only or latest vintage)")
        parser.add_argument("--user", help="The regulator drafting the plan (username); default: the system (an operator's batch)")
        parser.add_argument("--issue-percent", default="70", help="Share of the computed allocation to issue (default 70)")
        parser.add_argument("--true-up", action="store_true",
                            help="A true-up: the file holds verified output; issue or claw back the difference to the final allocation")

    def handle(self, *args: Any, file: Path, period: str, vintage: str | None, user: str | None, issue_percent: str,
               true_up: bool = False, **options: Any) -> None:
        from allocation.models import AllocationPlan

        compliance_period = CompliancePeriod.objects.filter(code=period).first()
        if compliance_period is None:
            raise CommandError(f"no compliance period {period}")
        actor = None
        if user is not None:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user}")
        vintages = compliance_period.vintages.order_by("code")
        asset = vintages.filter(code=vintage).first() if vintage else vintages.last()
        if asset is None:
            raise CommandError(f"period {period} has no vintage {vintage or ''}".strip())
        try:
            percent = parse_decimal(issue_percent, field="issue_percent", places=2, below=1000)
        except NumberRefused as refused:
            raise CommandError(f"--issue-percent: {refused.detail}") from None
        if not file.exists():
            raise CommandError(f"no file {file}")
        try:
            with file.open("rb") as stream:
                plan = allocation_import(
                    period=compliance_period, vintage=asset, stream=stream, filename=file.name, actor=actor,
                    issue_percent=percent,
                    kind=AllocationPlan.Kind.TRUE_UP if true_up else AllocationPlan.Kind.PRE_ALLOCATION,
                )
        except ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(f"row {error.row}: {error.field}: {error.message}")
            raise CommandError(refused.message) from None
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from None
        self.stdout.write(
            f"plan {plan.pk} ({plan.get_kind_display()}): {plan.lines.count()} units, computed {plan.total_computed:,} t, "
            f"to issue {plan.total_issue:,} t and claw back {plan.total_clawback:,} t of {asset.code}; status draft"
        )
