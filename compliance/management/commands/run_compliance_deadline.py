from typing import Any

from django.core.management.base import BaseCommand, CommandError

from allocation.models import CompliancePeriod
from compliance.services import compliance_deadline_run


class Command(BaseCommand):
    help = "Runs a period's compliance deadline job (statuses, shortfalls, fine basis, deductions). Safe to run twice."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", required=True)

    def handle(self, *args: Any, period: str, **options: Any) -> None:
        compliance_period = CompliancePeriod.objects.filter(code=period).first()
        if compliance_period is None:
            raise CommandError(f"no compliance period {period}")

        def progress(done: int, total: int) -> None:
            if done == total or done % 1000 == 0:
                self.stdout.write(f"{done:,} / {total:,} units")

        counts = compliance_deadline_run(period=compliance_period, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{period}: A {counts['A']}, B {counts['B']}, C {counts['C']}"))
