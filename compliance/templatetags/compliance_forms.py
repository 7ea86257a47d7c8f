"""Form fields rendered with their errors tied to the input (aria-describedby), for screen readers."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def field_input(field: BoundField) -> SafeString:
    attrs: dict[str, str] = {}
    described = [f"{field.auto_id}_help"] if field.help_text else []
    if field.errors:
        described.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
