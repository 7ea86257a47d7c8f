"""The compliance pages' forms: they parse input only; the services decide and refuse."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from allocation.models import CompliancePeriod, EmittingUnit
from compliance.models import EmissionReport
from core.errors import DomainError
from core.numbers import QuantityFormField
from offsets.forms import ranges_parse
from registry.models import Asset


def form_error(form: forms.Form, error: DomainError) -> None:
    """A service's refusal shown next to the field it names (or above the form), with its code."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, ValidationError(error.message, code=error.code))


def _period_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in CompliancePeriod.objects.order_by("-first_year").values_list("code", flat=True)]


class SurrenderForm(forms.Form):
    period = forms.ChoiceField(label=_("Compliance period"))
    asset = forms.ChoiceField(label=_("Asset"))
    quantity = QuantityFormField(name="quantity", label=_("Quantity (t)"), minimum=1)
    blocks = forms.CharField(label=_("Serial ranges (CCER, optional)"), max_length=2000, required=False,
                             help_text=_("Leave empty to surrender the oldest eligible credits first; or write ranges such as 1-100, 250-260"))
    # One id per form shown: submitting the same form twice surrenders once.
    client_request_id = forms.CharField(label="", widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = _period_choices()
        share = (settings.COMPLIANCE_OFFSET_SHARE * 100).normalize()  # 0.05 -> 5
        self.fields["asset"].help_text = _(
            "An allowance vintage of the period, or CCER offsets (at most %(share)s%% of the obligation)") % {"share": f"{share:f}"}
        self.fields["asset"].choices = [(code, code) for code in Asset.objects.filter(
            kind__in=[Asset.Kind.ALLOWANCE, Asset.Kind.OFFSET]).order_by("kind", "code").values_list("code", flat=True)]
        if not self.is_bound:
            self.initial["client_request_id"] = uuid.uuid4().hex
            latest = CompliancePeriod.objects.order_by("-first_year").first()
            vintage = latest.vintages.order_by("code").first() if latest else None
            if vintage is not None:  # the usual choice: the latest period's own vintage
                self.initial["asset"] = vintage.code


    def clean_blocks(self) -> list[list[int]] | None:
        return ranges_parse(self.cleaned_data.get("blocks") or "")


class EmissionReportForm(forms.Form):
    """A company with several units chooses the unit (one report per unit); with one unit, there is no choice."""

    period = forms.ChoiceField(label=_("Compliance period"))
    unit = forms.ChoiceField(label=_("Emitting unit"), help_text=_("Your company has several units: file one report for each"))
    emissions = QuantityFormField(name="emissions", label=_("Emissions (tCO2e)"), minimum=0)
    attachment = forms.FileField(label=_("Attachment"), help_text=_("The emission report: PDF, XLSX or CSV, at most 10 MB"),
                                 widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.xlsx,.csv"}))

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = _period_choices()
        units = list(EmittingUnit.objects.filter(organization=organization).order_by("code"))
        if len(units) > 1:
            self.fields["unit"].choices = [("", "---------")] + [
                (unit.code, f"{unit.code} · {unit.get_sector_display()}" + (f" · {unit.name}" if unit.name and unit.name != organization.name else ""))
                for unit in units]
        else:
            del self.fields["unit"]


class VerifyForm(forms.Form):
    verified_emissions = QuantityFormField(name="verified_emissions", label=_("Verified emissions (tCO2e)"), minimum=0)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ObjectionForm(forms.Form):
    reason = forms.CharField(label=_("Why do you object?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=EmissionReport.Decision.choices, widget=forms.RadioSelect)
    corrected_emissions = QuantityFormField(name="corrected_emissions", label=_("Corrected verified emissions (tCO2e)"),
                                            minimum=0, required=False,
                                             help_text=_("Only when the objection is upheld"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
