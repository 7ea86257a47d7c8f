from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

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


def _snapshot(obj: Model, fields: list[str]) -> dict[str, Any]:
    return {name: str(getattr(obj, name)) for name in fields}


class AuditedModelAdmin(admin.ModelAdmin):
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


class ReadOnlyAdmin(admin.ModelAdmin):
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


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded in the audit trail.")


def action_with_reason(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], *, title: str,
    apply: Callable[[Any, str], Any],
) -> HttpResponse | None:
    """An admin action in two steps: a confirmation page that lists the objects and asks for a
    reason, then `apply(obj, reason)` (a service call) for each object, with one message per outcome."""
    form = ReasonForm(request.POST if "confirm" in request.POST else None)
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data["reason"])
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
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
