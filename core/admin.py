from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import DomainError
from core.models import AuditEvent
from core.money import format_grouped


def grouped_column(field: str, description: Any, *, decimals: int = 0) -> Callable[[Any, Model], str]:
    """An admin column (list_display, readonly_fields) showing `field` with thousands separators:
    tonnes as "3,000", fen (decimals=2) as yuan, "50,000,000.00". Sorts by the field."""

    @admin.display(description=description, ordering=field)
    def column(modeladmin: Any, obj: Model) -> str:
        value = getattr(obj, field)
        return "—" if value is None else format_grouped(value, decimals)

    return column


# Django 5.2's admin index names its table's columns for screen readers with strings its own zh_Hans
# catalogue lacks; marked here so that this project's catalogue (LOCALE_PATHS, read first) has them.
DJANGO_ADMIN_STRINGS = [gettext_noop("Model name"), gettext_noop("Add link"), gettext_noop("Change or view list link")]

# The units an admin shows an integer field in (UnitsAdmin.units).
YUAN = "yuan"  # fen, shown as yuan with two decimals: 5000000000 -> "50,000,000.00"
YUAN_PER_TONNE = "yuan/t"  # a price in fen per tonne, the same way
TONNES = "t"  # whole tonnes: 3000 -> "3,000"
COUNT = "n"  # a count: 12345 -> "12,345"
_UNIT_LABELS = {YUAN: _("{field} (CNY)"), YUAN_PER_TONNE: _("{field} (CNY/t)"), TONNES: _("{field} (t)")}
# Names of market time zones in the pages' language; any other zone is named by its key.
_ZONE_NAMES = {"Asia/Shanghai": _("Beijing time")}


def market_zone_name() -> str:
    """The market time zone (settings.TIME_ZONE) as the admin names it: "Beijing time" for Asia/Shanghai."""
    name = _ZONE_NAMES.get(settings.TIME_ZONE)
    return str(name) if name is not None else settings.TIME_ZONE


def format_market_time(moment: datetime) -> str:
    """An aware moment in market time, to the second: "2026-12-04 21:00:05"."""
    return f"{moment.astimezone(ZoneInfo(settings.TIME_ZONE)):%Y-%m-%d %H:%M:%S}"


def _shown_column(field: models.Field, label: Any, render: Callable[[Any], str]) -> Callable[[Model], str]:
    def column(obj: Model) -> str:
        value = getattr(obj, field.attname)
        return "—" if value is None else render(value)

    column.short_description = label  # type: ignore[attr-defined]
    column.admin_order_field = field.name  # type: ignore[attr-defined]
    return column


class UnitsAdmin(admin.ModelAdmin):
    """Shows the registry's units on the list and on the detail page: each field named in `units`
    (YUAN, YUAN_PER_TONNE, TONNES, COUNT) with thousands separators (fen as yuan with two decimals), and every
    date-time in market time with the zone in its label ("Created at (Beijing time)"). Each such field
    `f` gets a read-only display `f_shown` (unless the class defines its own), which list_display and
    the detail page use instead of `f`; an editable field stays an input on the form. The detail page
    also shows the fields no form edits (created_at ...), which Django's leaves out."""

    units: dict[str, str] = {}

    def __init__(self, model: type[Model], admin_site: admin.AdminSite) -> None:
        self.shown_fields: dict[str, str] = {}
        for field in model._meta.concrete_fields:
            name = f"{field.name}_shown"
            if hasattr(self, name):  # the class shows it its own way (an asset's units ...)
                self.shown_fields[field.name] = name
                continue
            if field.name in self.units:
                unit = self.units[field.name]
                decimals = 2 if unit in (YUAN, YUAN_PER_TONNE) else 0
                label = format_lazy(_UNIT_LABELS[unit], field=field.verbose_name) if unit in _UNIT_LABELS else field.verbose_name
                render: Callable[[Any], str] = lambda value, decimals=decimals: format_grouped(value, decimals)  # noqa: E731
            elif isinstance(field, models.DateTimeField):
                label = format_lazy(_("{field} ({zone})"), field=field.verbose_name, zone=_lazy_zone_name)
                render = format_market_time
            else:
                continue
            setattr(self, name, _shown_column(field, label, render))
            self.shown_fields[field.name] = name
        self.automatic_fields = [self.shown_fields[field.name] for field in model._meta.concrete_fields
                                 if not field.editable and field.name in self.shown_fields]
        super().__init__(model, admin_site)
        self.list_display = [self.shown_fields.get(name, name) if isinstance(name, str) else name
                             for name in self.list_display]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_with_shown(list(super().get_readonly_fields(request, obj)), obj)

    def readonly_with_shown(self, readonly: list[str], obj: Any = None) -> list[str]:
        """`readonly` and the displays that show them (and, on a record's page, the fields no form edits)."""
        shown = [self.shown_fields[name] for name in readonly if name in self.shown_fields]
        return readonly + shown + [name for name in self.automatic_fields if obj is not None and name not in shown]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        # On an editable form a display replaces its field where get_readonly_fields lists it (a
        # subclass's override that does not call this class's lists none: its fields stay as they are).
        editable = obj is None or self.has_change_permission(request, obj)
        readonly = set(self.get_readonly_fields(request, obj))
        shown: list[Any] = []
        for name in fields:
            if isinstance(name, str) and name in self.shown_fields and (not editable or self.shown_fields[name] in readonly):
                name = self.shown_fields[name]
            if name not in shown:
                shown.append(name)
        return shown + [name for name in self.automatic_fields
                        if obj is not None and name not in shown and (not editable or name in readonly)]


class _LazyZoneName:
    def __str__(self) -> str:
        return market_zone_name()


_lazy_zone_name = _LazyZoneName()


def _snapshot(obj: Model, fields: list[str]) -> dict[str, Any]:
    return {name: str(getattr(obj, name)) for name in fields}


class AuditedModelAdmin(UnitsAdmin):
    """Admin edits write an audit event (before/after of the changed fields) in the same transaction."""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        fields = list(form.changed_data) if change else [f.name for f in obj._meta.concrete_fields if f.name in form.fields]
        before = {name: str(form.initial.get(name)) for name in fields} if change else None
        super().save_model(request, obj, form, change)
        action = f"{obj._meta.model_name}.{'change' if change else 'create'}"
        audit_record(actor=request.user, action=action, obj=obj, before=before, after=_snapshot(obj, fields))

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: Any, change: bool) -> None:
        """Inline rows (a period's benchmark table ...) are audited one by one like the object itself."""
        changed = [(inline_form, list(inline_form.changed_data)) for inline_form in formset.forms
                   if inline_form.has_changed() and inline_form not in formset.deleted_forms]
        deleted = [(inline_form.instance._meta.model_name, str(inline_form.instance), inline_form.instance.pk)
                   for inline_form in formset.deleted_forms if inline_form.instance.pk]
        super().save_formset(request, form, formset, change)
        for inline_form, fields in changed:
            obj = inline_form.instance
            created = not inline_form.initial
            audit_record(
                actor=request.user, action=f"{obj._meta.model_name}.{'create' if created else 'change'}", obj=obj,
                before=None if created else {name: str(inline_form.initial.get(name)) for name in fields},
                after=_snapshot(obj, fields),
            )
        for model_name, text, pk in deleted:
            audit_record(actor=request.user, action=f"{model_name}.delete", object_type=model_name, object_id=pk,
                         before={"repr": text})

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_record(actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, before={"repr": str(obj)})
        super().delete_model(request, obj)


class ReadOnlyAdmin(UnitsAdmin):
    """For append-only records: visible, searchable, never edited through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "object_type", "object_id", "ip"]
    list_filter = ["action", "object_type", "created_at"]
    search_fields = ["actor_label", "action", "object_id"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]

    @admin.display(description=_("object type"), ordering="object_type")
    def object_type_shown(self, event: AuditEvent) -> str:
        """A model's type ("allocation.allocationplan") by the model's name in the reader's language."""
        try:
            return str(apps.get_model(event.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return event.object_type

    @admin.display(description=_("actor label"), ordering="actor_label")
    def actor_label_shown(self, event: AuditEvent) -> str:
        """A user's name as it is; the jobs' "system" (core.audit) in the reader's language."""
        return gettext("system") if event.actor_id is None and event.actor_label == "system" else event.actor_label


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Recorded in the audit trail."))


def action_with_reason(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], *, title: str,
    apply: Callable[[Any, str], Any],
) -> HttpResponse | None:
    """An admin action in two steps: a confirmation page that lists the objects and asks for a
    reason, then `apply(obj, reason)` (a service call) for each object, with one message per outcome."""
    return action_with_form(modeladmin, request, queryset, title=title, form_class=ReasonForm,
                            apply=lambda obj, data: apply(obj, data["reason"]))


def action_with_form(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], *, title: str,
    form_class: type[forms.Form], apply: Callable[[Any, dict[str, Any]], Any],
) -> HttpResponse | None:
    """`action_with_reason` with a form of more fields than the reason: `apply(obj, cleaned_data)`."""
    form = form_class(request.POST if "confirm" in request.POST else None)
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data)
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, gettext("%(action)s: %(count)s done.") % {"action": title, "count": f"{done:,}"},
                                    messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "opts": modeladmin.model._meta,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    }
    return TemplateResponse(request, "admin/confirm_with_reason.html", context)


def import_job_response(model_admin: admin.ModelAdmin, request: HttpRequest, job_id: int, *, kind: str, title: str,
                        done_url: Callable[[Any], str | None] | None = None) -> HttpResponse:
    """The page of an admin import's job (core.import_jobs): its progress bar, refreshed every second
    while it runs, then what it saved or every row's error. Only its creator (or a superuser) sees it."""
    from django.http import Http404

    from core.models import ImportJob

    job = ImportJob.objects.filter(pk=job_id, kind=kind).first()
    if job is None or not (job.created_by_id == request.user.pk or request.user.is_superuser):
        raise Http404("No such import")
    from core.import_preview import field_label

    context = {**model_admin.admin_site.each_context(request), "title": title, "opts": model_admin.model._meta,
               "job": job, "done_url": done_url(job) if done_url and job.status == ImportJob.Status.DONE else None,
               "errors": [{**error, "field": field_label(error.get("field", ""))}
                          for error in (job.result or {}).get("errors", [])]}
    return TemplateResponse(request, "admin/import_job.html", context)
