"""Pages and downloads: the auditors' compliance table, account statements, the public disclosure.

Views parse the query, ask the selectors and pick the format; every download is audited
(reports.services.export_record)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.provinces import PROVINCES, province_name
from accounts.selectors import sees_all_organizations
from core.csv import csv_response
from core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from enforcement.selectors import decisions_to_approve, disclosures_published, halts_in_force
from registry.models import Asset
from registry.selectors import account_get_for, accounts_visible_to
from registry.status_changes import changes_to_decide
from reports import compliance_export, export_jobs, exports
from reports.selectors import (
    COMPLIANCE_PERMISSION,
    SORTS,
    STATUSES,
    compliance_rows_arranged,
    compliance_scope,
    compliance_table,
    data_snapshot,
    disclosed_periods,
    disclosure_rows,
    net_by_asset,
    opening_balances,
    period_get,
    periods,
    report_provinces,
    statement_lines,
    statement_transfers,
)
from reports.services import export_record


class ExportTooLarge(InvalidInput):
    code = "export_too_large"


COMPLIANCE_FORMATS = ("html", "csv", "xlsx", "pdf")
STATEMENT_FORMATS = ("html", "csv", "xlsx")
PAGE_ROWS = 500


def _domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Domain errors as pages: not found is a 404, not allowed a 403, bad input a 400 that says why."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except PermissionDenied as error:
            raise HttpForbidden(error.message) from None
        except DomainError as error:
            query = request.GET.copy()
            query["format"] = "xlsx"
            return render(request, "reports/refused.html", {"error": error, "xlsx_query": query.urlencode()},
                          status=error.status)

    return wrapper


def _pager_query(request: HttpRequest) -> str:
    """The page's query without its page number, for the pager's links."""
    return _query_without(request, "page")


def _format(request: HttpRequest, allowed: tuple[str, ...]) -> str:
    return _choice(request, "format", allowed, default="html")  # type: ignore[return-value]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """What the user may export: compliance tables (auditors, regulators) and account statements."""
    may_read_compliance = request.user.has_perm(COMPLIANCE_PERMISSION)
    accounts = accounts_visible_to(request.user).order_by("number")
    return render(request, "reports/index.html", {
        "periods": periods() if may_read_compliance else [],
        "may_read_compliance": may_read_compliance,
        "provinces": report_provinces(request.user) if may_read_compliance else [],
        "accounts": accounts[:50],
        "more_accounts": accounts.count() > 50,
        "exports": export_jobs.export_jobs_recent(request.user)[:10] if may_read_compliance else [],
        "may_read_market": _may_read_market(request.user),
        "is_member": _member_of(request.user) is not None,
        "retention_hours": settings.REPORTS_EXPORT_RETENTION_HOURS,
    })


@login_required
@_domain_errors
def statement_find(request: HttpRequest) -> HttpResponse:
    """The index's "open a statement" form: an account number to its statement (404 if out of scope)."""
    number = (request.GET.get("number") or "").strip().upper()
    account = account_get_for(request.user, number)
    return redirect("reports-statement", number=account.number)


# --- the compliance table ---


def _choice(request: HttpRequest, name: str, allowed: Any, default: str | None = None) -> str | None:
    chosen = request.GET.get(name) or default
    if chosen is not None and chosen not in allowed:
        raise InvalidInput(_("%(name)s must be one of: %(allowed)s.") % {"name": name, "allowed": ", ".join(allowed)},
                           field=name)
    return chosen


@login_required
@_domain_errors
def compliance(request: HttpRequest, period: str) -> HttpResponse:
    file_format = _format(request, COMPLIANCE_FORMATS)
    status = _choice(request, "status", STATUSES)
    sort = _choice(request, "sort", SORTS, default="name")
    scope, province = compliance_scope(request.user, request.GET.get("province") or None)
    table = compliance_table(period_get(period), scope, province)
    compliance_rows_arranged(table, status=status, sort=sort)
    title = compliance_export.title(table, status)
    if file_format == "html":
        page = Paginator(table.rows, PAGE_ROWS).get_page(request.GET.get("page"))
        return render(request, "reports/compliance.html", {
            "table": table, "page": page, "title": title, "provinces": report_provinces(request.user),
            "summary": compliance_export.status_summary(table), "pager_query": _pager_query(request),
            # Production halts in force (enforcement), flagged beside the unit.
            "halted": {d.organization.uscc for d in halts_in_force().values()},
            "may_choose_province": sees_all_organizations(request.user), "statuses": STATUSES, "status": status,
            "sort": sort, "sorts": list(SORTS), "query": _query_without(request, "format", "page"),
            "sort_query": _query_without(request, "sort", "page"),
        })
    if file_format == "pdf" and len(table.rows) > settings.REPORTS_PDF_MAX_ROWS:
        raise ExportTooLarge(
            _("The PDF holds at most %(max)s rows and this table has %(rows)s: filter it by province, or download "
              "the XLSX, which holds every row.") % {"max": f"{settings.REPORTS_PDF_MAX_ROWS:,}", "rows": f"{len(table.rows):,}"},
            field="format",
        )
    if export_jobs.export_as_job(file_format, len(table.rows)):
        job = export_jobs.export_job_start(user=request.user, period=table.period.code, province=province, status=status,
                                           sort=sort, file_format=file_format, rows=len(table.rows))
        return redirect("reports-export-job", job_id=job.pk)
    snapshot, generated = data_snapshot(table.period), timezone.now()
    filters = {"province": province or "", "status": status or "", "sort": sort}
    event = export_record(actor=request.user, report="compliance", subject=table.period.code, file_format=file_format,
                          rows=len(table.rows), filters={"province": province or "", **({"status": status} if status else {})})
    report_id = f"NCR-{table.period.code}-{event.pk:08d}"  # the export's audit event names it
    filename = compliance_export.filename(table.period.code, province, status, file_format)
    if file_format == "csv":
        return csv_response(filename, compliance_export.header(), compliance_export.cells(table))
    if file_format == "xlsx":
        content = compliance_export.xlsx(table, title=title, snapshot=snapshot, generated=generated,
                                         report_id=report_id, filters=filters)
        return exports.attachment(content, filename=filename, content_type=exports.XLSX_TYPE)
    content = compliance_export.pdf(table, title=title, snapshot=snapshot, generated=generated, report_id=report_id)
    return exports.attachment(content, filename=filename, content_type="application/pdf")


@login_required
@_domain_errors
def export_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A large export's job: its progress (the page refreshes itself), then a download link or why it failed."""
    job = export_jobs.export_job_get(request.user, job_id)
    return render(request, "reports/export_job.html", {"job": job, "refresh_seconds": 2})


@login_required
@_domain_errors
def export_job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = export_jobs.export_job_get(request.user, job_id)
    path = export_jobs.export_job_download(user=request.user, job=job)
    content_type = {"pdf": "application/pdf", "zip": "application/zip"}.get(job.file_format, exports.XLSX_TYPE)
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type)


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# --- the regulator's home ---


@login_required
def regulator_home(request: HttpRequest) -> HttpResponse:
    """What waits for this regulator, and the state of the market it regulates."""
    from accounts.selectors import is_regulator, user_province
    from reports.regulator import market_state, workload
    from trading.clock import trading_day
    from trading.selectors import market_overview

    if not is_regulator(request.user):
        raise HttpForbidden
    national = sees_all_organizations(request.user)
    return render(request, "reports/regulator.html", {
        "work": workload(request.user), "market": market_state(request.user), "prices": market_overview(trading_day()),
        "decisions_to_approve": decisions_to_approve(request.user), "status_changes_to_decide": changes_to_decide(request.user),
        "today": timezone.localdate(), "scope": _("China") if national else province_name(user_province(request.user)),
    })


# --- account statements ---


def _date(request: HttpRequest, name: str) -> dt.date | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("%(value)r is not a date (YYYY-MM-DD).") % {"value": raw}, field=name) from None


def _statement_header() -> list[str]:
    return [_("Transfer"), _("Time"), _("Kind"), _("Asset"), _("In"), _("Out"), _("Balance"), _("Counterparty"),
            _("Buckets"), _("Reference"), _("Memo")]


def _amount(asset: Asset, value: int) -> Any:
    """A number cell in the asset's unit: yuan with two places for CNY, whole tonnes otherwise."""
    return exports.cny(value) if asset.decimals == 2 else value


@login_required
@_domain_errors
def statement(request: HttpRequest, number: str) -> HttpResponse:
    account = account_get_for(request.user, number)
    file_format = _format(request, STATEMENT_FORMATS)
    date_from, date_to = _date(request, "from"), _date(request, "to")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput(_("The start date is after the end date."), field="from")
    asset = None
    if code := (request.GET.get("asset") or "").strip():
        asset = Asset.objects.filter(code=code).first()
        if asset is None or not account.holds(asset):
            raise InvalidInput(_("%(asset)s is not an asset this account holds.") % {"asset": code}, field="asset")
    transfers = statement_transfers(account, asset=asset, date_from=date_from, date_to=date_to)
    opening = opening_balances(account, asset=asset, date_from=date_from)
    assets = {a.pk: a for a in Asset.objects.all()}
    filters = {"from": str(date_from or ""), "to": str(date_to or ""), "asset": asset.code if asset else ""}
    if file_format == "html":
        page = Paginator(transfers.values_list("id", flat=True), PAGE_ROWS).get_page(request.GET.get("page"))
        ids = list(page.object_list)
        page_opening = dict(opening)
        if ids:
            for asset_id, net in net_by_asset(account, transfers.filter(id__lt=ids[0])).items():
                page_opening[asset_id] = page_opening.get(asset_id, 0) + net
        closing = dict(opening)
        for asset_id, net in net_by_asset(account, transfers).items():
            closing[asset_id] = closing.get(asset_id, 0) + net
        return render(request, "reports/statement.html", {
            "account": account, "page": page, "lines": list(statement_lines(account, transfers.filter(id__in=ids), page_opening)),
            "balances": [(assets[asset_id], opening.get(asset_id, 0), closing[asset_id]) for asset_id in sorted(closing)],
            "filters": filters, "asset_choices": [a for a in assets.values() if account.holds(a)],
            "pager_query": _pager_query(request),
        })
    export_record(actor=request.user, report="statement", subject=account.number, file_format=file_format,
                  rows=transfers.count(), filters=filters)

    def cells() -> Iterator[list[Any]]:
        for asset_id, amount in sorted(opening.items(), key=lambda item: assets[item[0]].code):
            yield ["", date_from, _("Opening balance"), assets[asset_id].code, None, None,
                   _amount(assets[asset_id], amount), "", "", "", ""]
        for line in statement_lines(account, transfers, opening):
            yield [line.transfer_id, line.created_at if file_format == "xlsx" else timezone.localtime(line.created_at).isoformat(),
                   line.kind, line.asset.code, _amount(line.asset, line.credit), _amount(line.asset, line.debit),
                   _amount(line.asset, line.balance), line.counterparty, line.buckets, line.reference, line.memo]

    filename = f"statement-{account.number}.{file_format}"
    if file_format == "csv":
        return csv_response(filename, _statement_header(), cells())
    title = _("Statement %(number)s") % {"number": account.number}
    content = exports.xlsx_bytes(sheet=account.number, header=_statement_header(), rows=cells(),
                                 about=compliance_export.about(title, data_snapshot(), timezone.now()) + [
                                     (_("From"), date_from), (_("To"), date_to), (_("Asset"), asset.code if asset else _("all"))])
    return exports.attachment(content, filename=filename, content_type=exports.XLSX_TYPE)


# --- public disclosure (no login) ---


def disclosure_index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/disclosure_index.html", {"periods": disclosed_periods()})


@_domain_errors
def disclosure_period(request: HttpRequest, period: str) -> HttpResponse:
    compliance_period = period_get(period)
    province = request.GET.get("province") or None
    rows = disclosure_rows(compliance_period, province)
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    return render(request, "reports/disclosure_period.html", {
        "period": compliance_period, "page": page, "province": province, "pager_query": _pager_query(request),
        "provinces": [(code, province_name(code)) for code in sorted(PROVINCES)],
        "published": compliance_period.results.exists(),
        "disclosures": disclosures_published(compliance_period),
        "index_url": reverse("disclosure-index"),
    })


# --- clearing reports (trading.clearing) ---


def _member_of(user: Any) -> Any:
    """The exchange member (an organization with a holding account) the user belongs to, or None."""
    from accounts.access import access_of

    organization = access_of(user).organization
    if organization is None or not organization.registry_accounts.filter(kind="holding").exists():
        return None
    return organization


def _may_read_market(user: Any) -> bool:
    return user.has_perm("trading.operate_market") or user.has_perm(COMPLIANCE_PERMISSION)


def _report_day(request: HttpRequest) -> dt.date:
    from trading.clock import trading_day

    return _date(request, "day") or trading_day()


@login_required
@_domain_errors
def clearing_statement(request: HttpRequest) -> HttpResponse:
    """A member's daily clearing statement: its own organization's trades by mode, fees, and each
    account's opening and closing balances by bucket with the transfers between (page, CSV, PDF)."""
    from trading import clearing

    organization = _member_of(request.user)
    if organization is None:
        raise PermissionDenied(_("Clearing statements are for the members of the exchange, each for its own organization."))
    day = _report_day(request)
    file_format = _format(request, ("html", "csv", "pdf"))
    statement = clearing.clearing_statement(organization, day)
    if file_format == "html":
        return render(request, "reports/clearing.html", {"statement": statement, "buckets": clearing.BUCKETS})
    rows = clearing.statement_rows(statement)
    event = export_record(actor=request.user, report="clearing", subject=f"{organization.uscc}:{day}", file_format=file_format,
                          rows=len(rows), filters={"day": str(day)})
    filename = f"clearing-{organization.uscc}-{day}"
    if file_format == "csv":
        return csv_response(f"{filename}.csv", clearing.STATEMENT_HEADER, rows)
    content = exports.pdf_bytes("reports/clearing_pdf.html", {
        "statement": statement, "buckets": clearing.BUCKETS, "report_id": f"NCR-CLR-{event.pk:08d}",
        "generated": timezone.localtime(), "snapshot": data_snapshot()})
    return exports.attachment(content, filename=f"{filename}.pdf", content_type="application/pdf")


@login_required
@_domain_errors
def market_report(request: HttpRequest) -> HttpResponse:
    """The exchange's daily market report: per instrument the listed open, high, low, VWAP and close,
    listed and block volume and turnover, and the members active (page, CSV, PDF)."""
    from trading import clearing

    if not _may_read_market(request.user):
        raise PermissionDenied(_("The market report is for the exchange operator, regulators and auditors."))
    day = _report_day(request)
    file_format = _format(request, ("html", "csv", "pdf"))
    report = clearing.market_report(day)
    if file_format == "html":
        return render(request, "reports/market_report.html", {"report": report})
    header = ["instrument", "open", "high", "low", "vwap", "close", "listed_volume", "listed_turnover", "listed_trades",
              "block_volume", "block_turnover", "block_trades", "auction_volume", "auction_turnover", "auction_trades"]

    def price(value: int | None) -> str:
        return "" if value is None else f"{value / 100:.2f}"

    rows = [[row.instrument.symbol, price(row.open), price(row.high), price(row.low), price(row.vwap), price(row.close),
             row.listed_volume, price(row.listed_turnover), row.listed_trades, row.block_volume, price(row.block_turnover),
             row.block_trades, row.auction_volume, price(row.auction_turnover), row.auction_trades] for row in report.instruments]
    event = export_record(actor=request.user, report="market", subject=str(day), file_format=file_format, rows=len(rows),
                          filters={"day": str(day)})
    if file_format == "csv":
        return csv_response(f"market-report-{day}.csv", header, rows)
    content = exports.pdf_bytes("reports/market_report_pdf.html", {
        "report": report, "report_id": f"NCR-MKT-{event.pk:08d}", "generated": timezone.localtime()})
    return exports.attachment(content, filename=f"market-report-{day}.pdf", content_type="application/pdf")
