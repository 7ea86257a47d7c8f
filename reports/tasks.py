from celery import shared_task

from reports.export_jobs import export_files_purge, export_job_task

__all__ = ["export_files_purge_task", "export_job_task"]


@shared_task
def export_files_purge_task() -> int:
    """Hourly: deletes export jobs' files past REPORTS_EXPORT_RETENTION_HOURS."""
    return export_files_purge()
