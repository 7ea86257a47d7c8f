"""The national compliance PDF as an export job (reports.export_jobs): 3,700 units (China's key
emitting units) with their results, the job's PDF made as a worker makes it, laid out in parts of
REPORTS_PDF_CHUNK_ROWS rows by REPORTS_PDF_PROCESSES processes. Prints JSON: rows, seconds (wall, and
CPU of all the processes), the peak RSS of the largest process (the job's, forked for the measure, or
one of its layout processes), pages and bytes; also the XLSX of the same table as a job.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/export_bench.py [--units 3700]

Target (issue 16, item 7): the national PDF in under 60 s on a 2-core machine, memory bounded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import time

from _setup import django_ready
from allocation_bench import units


def run_job(job_id: int) -> dict[str, float]:
    """Runs the job in a forked child (as a worker process would) and returns its wall and CPU seconds and peak RSS."""
    from django.db import connections

    connections.close_all()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: the job, then out without running the parent's clean-up
        code = 1
        try:
            from reports.export_jobs import export_job_run

            code = 0 if export_job_run(job_id) == "done" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": round(seconds, 2), "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "peak_rss_mb": round(after.ru_maxrss / 1024, 1), "exit": os.waitstatus_to_exitcode(status)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=3_700)
    options = parser.parse_args()
    django_ready()
    from bench_fixtures import bench_user
    from django.conf import settings
    from django.db.models import Max
    from pypdf import PdfReader

    from accounts.models import Organization
    from accounts.roles import Role
    from allocation.models import CompliancePeriod
    from allocation.services import period_create
    from compliance.models import ComplianceResult
    from registry.models import Asset
    from reports.export_jobs import file_path
    from reports.models import ExportJob

    maker, auditor = bench_user("bench-maker", Role.NATIONAL_REGULATOR), bench_user("bench-auditor", Role.AUDITOR)
    year = max(CompliancePeriod.objects.aggregate(last=Max("last_year"))["last"] or 2030, 2030) + 2
    period = period_create(code=f"E{year}", first_year=year, last_year=year, vintages=[Asset.objects.get(code="CEA23")],
                           surrender_deadline=dt.date.today() - dt.timedelta(days=1), actor=maker)
    codes = units(options.units)
    # The deadline job's results, as reference data for the export (the compliance bench times the job itself).
    rng = random.Random(7)
    results = []
    for organization in Organization.objects.filter(uscc__in=codes):
        allocated, verified = rng.randint(500_000, 6_000_000), rng.randint(300_000, 6_000_000)
        shortfall = max(0, verified - allocated - rng.randint(0, 100_000))
        status = "A" if not shortfall else rng.choice("BC")
        results.append(ComplianceResult(period=period, organization=organization, allocated=allocated,
                                        verified_emissions=verified if status != "C" else None, obligation=verified,
                                        surrendered_allowances=verified - shortfall, surrendered_offsets=0,
                                        shortfall=shortfall, status=status,
                                        fine_basis_low=shortfall * 5 * 6_000 if status == "B" else 0,
                                        fine_basis_high=shortfall * 10 * 6_000 if status == "B" else 0))
    ComplianceResult.objects.bulk_create(results, batch_size=2000)

    figures = {}
    for file_format in ("xlsx", "pdf"):  # the XLSX first: a peak RSS is the largest of the processes so far
        job = ExportJob.objects.create(report="compliance", subject=period.code, file_format=file_format,
                                       report_id=f"NCR-{period.code}-BENCH", rows=len(results),
                                       filename=f"compliance-{period.code}.{file_format}", created_by=auditor,
                                       params={"status": "", "sort": "name"})
        measured = run_job(job.pk)
        job.refresh_from_db()
        figures[file_format] = {**measured, "status": job.status, "rows": job.rows_done, "pages": job.pages,
                                "bytes": job.size, "message": job.message}
        path = file_path(job.file)
        if file_format == "pdf" and path is not None and path.exists():
            reader = PdfReader(path)
            figures["pdf"]["pages_read"] = len(reader.pages)
            last = reader.pages[-1].extract_text()
            figures["pdf"]["numbered"] = f"Page {len(reader.pages)} of {len(reader.pages)}" in last
        if path is not None:
            path.unlink(missing_ok=True)
    pdf = figures["pdf"]
    print(json.dumps({
        "benchmark": "export", "units": len(results), "load_average": round(os.getloadavg()[0], 1),
        "chunk_rows": settings.REPORTS_PDF_CHUNK_ROWS, "processes": settings.REPORTS_PDF_PROCESSES, "rows": pdf["rows"], "seconds": pdf["seconds"],
        "cpu_seconds": pdf["cpu_seconds"], "peak_rss_mb": pdf["peak_rss_mb"], "pages": pdf["pages"], "pdf": pdf,
        "xlsx": figures["xlsx"], "targets_met": pdf["status"] == "done" and pdf["seconds"] < 60,
    }))


if __name__ == "__main__":
    main()
