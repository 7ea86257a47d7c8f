from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from core.audit import audit_record
from core.models import AuditEvent


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
