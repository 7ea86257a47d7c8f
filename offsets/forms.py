"""The offset registry pages' forms: they parse input only; the services decide and refuse."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.provinces import PROVINCE_CHOICES
from core.errors import DomainError
from core.numbers import QuantityFormField
from offsets.models import Methodology, Project
from registry.models import Asset

DATE = forms.DateInput(attrs={"type": "date"})


def form_error(form: forms.Form, error: DomainError) -> None:
    """A service's refusal shown next to the field it names (or above the form), with its code."""
    form.add_error(error.field if error.field in form.fields else None, ValidationError(error.message, code=error.code))


class MethodologyForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=200)
    sector = forms.CharField(label=_("Sector"), max_length=100)


class ProjectForm(forms.Form):
    identifier = forms.CharField(label=_("Identifier"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=Organization.objects.exclude(kind=Organization.Kind.SYSTEM).order_by("name"))
    province = forms.ChoiceField(label=_("Province"), choices=PROVINCE_CHOICES)
    methodology = forms.ModelChoiceField(label=_("Methodology"), queryset=Methodology.objects.filter(status=Methodology.Status.ACTIVE))
    crediting_start = forms.DateField(label=_("Crediting period start"), widget=DATE)
    crediting_end = forms.DateField(label=_("Crediting period end"), widget=DATE)
    registration_date = forms.DateField(label=_("Registration date"), widget=DATE)


class IssuanceForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.filter(status=Project.Status.REGISTERED))
    vintage = forms.IntegerField(label=_("Vintage year"), min_value=2000, max_value=2100)
    monitoring_start = forms.DateField(label=_("Monitoring period start"), widget=DATE)
    monitoring_end = forms.DateField(label=_("Monitoring period end"), widget=DATE)
    quantity = QuantityFormField(name="quantity", label=_("Quantity (t)"), minimum=1)
    reason = forms.CharField(label=_("Note for the approving regulator"), max_length=500, required=False)


class ProjectStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Project.Status.choices)


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


_RANGE = re.compile(r"^\s*(\d+)\s*(?:[-–~]\s*(\d+))?\s*$")


def ranges_parse(text: str) -> list[list[int]] | None:
    """"1-100, 250-260, 300" -> [[1, 100], [250, 260], [300, 300]]; "" -> None (oldest first)."""
    parts = [part for part in re.split(r"[,;\s]+(?=\d)", text.strip()) if part.strip()] if text.strip() else []
    if not parts:
        return None
    ranges = []
    for part in parts:
        match = _RANGE.match(part)
        if match is None:
            raise ValidationError(_("Write serial ranges as first-last, separated by commas: 1-100, 250-260."), code="invalid")
        first = int(match.group(1))
        ranges.append([first, int(match.group(2) or first)])
    return ranges


class CancellationForm(forms.Form):
    asset = forms.ChoiceField(label=_("Asset"))
    quantity = QuantityFormField(name="quantity", label=_("Quantity (t)"), minimum=1)
    purpose = forms.CharField(label=_("Purpose"), max_length=500, help_text=_("What the cancellation offsets: an event, a product, a year of operations"))
    beneficiary = forms.CharField(label=_("On behalf of"), max_length=200, required=False)
    blocks = forms.CharField(label=_("Serial ranges (CCER, optional)"), max_length=2000, required=False,
                             help_text=_("Leave empty to cancel the oldest credits first; or write ranges such as 1-100, 250-260"))
    # One id per form shown: submitting the same form twice cancels once.
    client_request_id = forms.CharField(label="", widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["asset"].choices = [(code, code) for code in Asset.objects.filter(
            kind__in=[Asset.Kind.ALLOWANCE, Asset.Kind.OFFSET]).order_by("kind", "code").values_list("code", flat=True)]
        if not self.is_bound:
            self.initial["client_request_id"] = uuid.uuid4().hex

    def clean_blocks(self) -> list[list[int]] | None:
        return ranges_parse(self.cleaned_data.get("blocks") or "")


class SerialSearchForm(forms.Form):
    serial = QuantityFormField(name="serial", label=_("Serial number"), minimum=1)
