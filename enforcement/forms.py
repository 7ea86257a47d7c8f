"""The enforcement pages' forms: they parse input only; the services decide and refuse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from allocation.models import CompliancePeriod
from core.errors import DomainError
from core.money import parse_minor_units
from core.numbers import QuantityFormField
from enforcement.models import Decision, FraudCase


class YuanFormField(forms.CharField):
    """An amount in yuan with at most two decimals, given to the services in fen."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = (super().to_python(value) or "").replace(",", "").strip()
        if not text:
            return None
        try:
            return parse_minor_units(text, 2, field=self.label)
        except DomainError as error:
            raise ValidationError(error.message, code=error.code) from None


def _periods() -> list[tuple[int, str]]:
    return [(p.pk, p.code) for p in CompliancePeriod.objects.order_by("-first_year")]


def _organizations(queryset: Any) -> list[tuple[int, str]]:
    return [(o.pk, f"{o.name} ({o.uscc})") for o in queryset.exclude(kind=Organization.Kind.SYSTEM).order_by("name")]


class CaseForm(forms.Form):
    organization = forms.TypedChoiceField(label=_("Organization"), coerce=int)
    subject = forms.ChoiceField(label=_("Against"), choices=FraudCase.Subject.choices)
    period = forms.TypedChoiceField(label=_("Period of the data"), coerce=int)
    summary = forms.CharField(label=_("Summary"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    gains = YuanFormField(label=_("Illegal gains (CNY)"), required=False, help_text=_("Leave empty when there were none"))

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = _organizations(organizations)
        self.fields["period"].choices = _periods()


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Decision"), choices=Decision.Kind.choices)
    organization = forms.TypedChoiceField(label=_("Organization"), coerce=int)
    period = forms.TypedChoiceField(label=_("Period"), coerce=int, help_text=_("The period not complied with (a fraud case gives its own)"))
    case = forms.TypedChoiceField(label=_("Fraud case"), coerce=int, required=False, empty_value=None)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=500)
    facts = forms.CharField(label=_("Facts"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    amount = YuanFormField(label=_("Amount (CNY)"), required=False, help_text=_("Fines and confiscation"))
    quantity = QuantityFormField(name="quantity", label=_("Quantity (t)"), required=False, help_text=_("Forced surrender"))
    percent = forms.CharField(label=_("Share of the allocation cut (percent)"), required=False, max_length=8)
    individual_name = forms.CharField(label=_("Responsible individual"), required=False, max_length=200)

    def __init__(self, *args: Any, organizations: Any, cases: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = _organizations(organizations)
        self.fields["period"].choices = _periods()
        self.fields["case"].choices = [("", "—")] + [(c.pk, str(c)) for c in cases.filter(status=FraudCase.Status.OPEN)]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class DisclosureForm(forms.Form):
    period = forms.TypedChoiceField(label=_("Compliance period"), coerce=int)
    emissions = QuantityFormField(name="emissions", label=_("Emissions (tCO2e)"), minimum=0)
    facilities = forms.CharField(label=_("Emitting facilities"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("Each unit, line or boiler, with its capacity"))
    methods = forms.CharField(label=_("Methods"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("How the emissions were monitored and calculated"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = _periods()


class ArchiveForm(forms.Form):
    period = forms.ChoiceField(label=_("Compliance period"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(code, code) for _pk, code in _periods()]
