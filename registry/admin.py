"""The regulators' and operators' admin for the registry. Ledger records are read-only here; every
change goes through a registry service (actions with a confirmation page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.selectors import organizations_visible_to
from core.admin import (
    COUNT,
    AuditedModelAdmin,
    ReadOnlyAdmin,
    ReasonForm,
    UnitsAdmin,
    action_with_form,
    action_with_reason,
)
from core.money import format_grouped
from core.numbers import NumberRefused, parse_price
from registry import services, status_changes
from registry.models import Account, AccountStatusChange, Asset, Balance, LedgerCheck, SealBlock, SealCheck, Transfer
from registry.selectors import accounts_visible_to


class AccountInline(admin.TabularInline):
    model = Account
    fields = ["number", "kind", "status", "status_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ["name", "uscc", "kind", "sector", "province", "status"]
    list_filter = ["kind", "sector", "province", "status"]
    search_fields = ["name", "uscc"]
    inlines = [AccountInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return organizations_visible_to(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None) -> list[str]:
        return self.readonly_with_shown(["uscc", "created_at"] if obj else ["created_at"], obj)

    def save_model(self, request: HttpRequest, obj: Organization, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and obj.kind != Organization.Kind.SYSTEM:
            services.accounts_open(organization=obj, actor=request.user)


def _in_asset_units(field: str, description: str) -> Any:
    """A column showing `field` in its row's asset's units, with separators: "50,000,000.00 CNY" (yuan), "3,000 t"."""

    @admin.display(description=description, ordering=field)
    def column(modeladmin: Any, obj: Any) -> str:
        asset = obj.asset
        unit = _("CNY") if asset.kind == Asset.Kind.CASH else (asset.code if asset.decimals else _("t"))
        return f"{format_grouped(getattr(obj, field), asset.decimals)} {unit}"

    return column


class BalanceInline(admin.TabularInline):
    model = Balance
    fields = ["asset", "available_shown", "reserved_shown", "pending_shown", "frozen_shown", "not_carried_shown"]
    readonly_fields = fields
    available_shown = _in_asset_units("available", gettext_lazy("Available"))
    reserved_shown = _in_asset_units("reserved", gettext_lazy("Reserved"))
    pending_shown = _in_asset_units("pending", gettext_lazy("Pending"))
    frozen_shown = _in_asset_units("frozen", gettext_lazy("Frozen"))
    not_carried_shown = _in_asset_units("not_carried", gettext_lazy("Not carried over"))
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HoldingChangeForm(ReasonForm):
    """Which holding, how much of it, and why (a court's order, a regulator's inquiry)."""

    asset = forms.ModelChoiceField(label=_("Asset"), queryset=Asset.objects.all())
    amount = forms.CharField(label=_("Amount"), max_length=32,
                             help_text=_("Tonnes of an allowance or offset; yuan, with at most two decimals, of cash."),
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    field_order = ["asset", "amount", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        asset, text = data.get("asset"), data.get("amount")
        if asset is not None and text is not None:
            try:
                data["amount"] = parse_price(text, field="amount", places=asset.decimals)
            except NumberRefused as refused:
                self.add_error("amount", getattr(refused, "detail", refused.message))
            else:
                if data["amount"] <= 0:
                    self.add_error("amount", _("The amount must be positive."))
        return data


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "kind", "organization", "province", "status"]
    list_filter = ["kind", "status", "organization__province", "province"]
    search_fields = ["number", "name", "organization__name", "organization__uscc"]
    list_select_related = ["organization"]
    inlines = [BalanceInline]
    actions = ["propose_freezing", "propose_unfreezing", "propose_closing", "propose_freezing_holding", "propose_unfreezing_holding"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return accounts_visible_to(request.user)

    @admin.display(description=_("name"), ordering="name")
    def name_shown(self, account: Account) -> str:
        return account.display_name

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _propose(self, request: HttpRequest, queryset: QuerySet[Account], action: str, title: str) -> HttpResponse | None:
        return action_with_reason(
            self, request, queryset, title=title,
            apply=lambda account, reason: status_changes.change_propose(account=account, action=action, reason=reason, actor=request.user),
        )

    @admin.action(description=_("Propose freezing the selected accounts (no outgoing movements; a second regulator decides)"),
                  permissions=["freeze"])
    def propose_freezing(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        return self._propose(request, queryset, AccountStatusChange.Action.FREEZE, _("Propose freezing accounts"))

    @admin.action(description=_("Propose unfreezing the selected accounts (a second regulator decides)"), permissions=["freeze"])
    def propose_unfreezing(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        return self._propose(request, queryset, AccountStatusChange.Action.UNFREEZE, _("Propose unfreezing accounts"))

    @admin.action(description=_("Propose closing the selected accounts (a second regulator decides)"), permissions=["freeze"])
    def propose_closing(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        return self._propose(request, queryset, AccountStatusChange.Action.CLOSE, _("Propose closing accounts"))

    def _propose_holding(self, request: HttpRequest, queryset: QuerySet[Account], action: str, title: str) -> HttpResponse | None:
        return action_with_form(
            self, request, queryset, title=title, form_class=HoldingChangeForm,
            apply=lambda account, data: status_changes.change_propose(
                account=account, action=action, asset=data["asset"], amount=data["amount"], reason=data["reason"], actor=request.user),
        )

    @admin.action(description=_("Propose freezing part of a holding of the selected accounts (a second regulator decides)"),
                  permissions=["freeze"])
    def propose_freezing_holding(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        return self._propose_holding(request, queryset, AccountStatusChange.Action.FREEZE_HOLDING, _("Propose freezing part of a holding"))

    @admin.action(description=_("Propose unfreezing part of a holding of the selected accounts (a second regulator decides)"),
                  permissions=["freeze"])
    def propose_unfreezing_holding(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        return self._propose_holding(request, queryset, AccountStatusChange.Action.UNFREEZE_HOLDING,
                                     _("Propose unfreezing part of a holding"))

    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.freeze_holdings")


@admin.register(AccountStatusChange)
class AccountStatusChangeAdmin(ReadOnlyAdmin):
    """Freezings, unfreezings and closings of accounts, and freezes of part of a holding, proposed from
    the accounts' list ("Propose ..."); another regulator approves (the change is made) or rejects them here."""

    list_display = ["account", "action", "holding", "status", "reason", "holds_now", "proposed_by", "proposed_at", "decided_by",
                    "decided_at", "decision_note"]
    list_filter = ["status", "action"]
    search_fields = ["account__number", "account__organization__name", "account__organization__uscc"]
    actions = ["approve_changes", "reject_changes"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountStatusChange]:
        return status_changes.changes_visible_to(request.user).prefetch_related("account__balances__asset")

    @admin.display(description=_("of the holding"))
    def holding(self, change: AccountStatusChange) -> str:
        return change.holding_shown or "—"

    @admin.display(description=_("holds now"))
    def holds_now(self, change: AccountStatusChange) -> str:
        """What the account holds, so that the checker sees what an approval freezes or releases, and
        for a closing what it cancels (allowances not carried over) or why it would be refused (anything else);
        for a holding's freeze or unfreeze, that holding's available and frozen amounts."""
        if change.asset_id:
            balance = next((balance for balance in change.account.balances.all() if balance.asset_id == change.asset_id), None)
            return _("%(available)s available, %(frozen)s frozen") % {
                "available": change.asset.format(balance.available if balance else 0), "frozen": change.asset.format(balance.frozen if balance else 0)}
        held = [balance for balance in change.account.balances.all() if balance.total]
        return "; ".join(
            (_("%(amount)s %(asset)s not carried over (cancelled at approval)")
             if not balance.live and change.action == AccountStatusChange.Action.CLOSE
             else "%(amount)s %(asset)s") % {"amount": balance.asset.format(balance.total), "asset": balance.asset.code}
            for balance in held) or "—"

    @admin.action(description=_("Approve the selected changes (they are made now)"), permissions=["freeze"])
    def approve_changes(self, request: HttpRequest, queryset: QuerySet[AccountStatusChange]) -> HttpResponse | None:
        return action_with_reason(
            self, request, queryset, title=_("Approve account status changes"),
            apply=lambda change, note: status_changes.change_approve(change=change, actor=request.user, note=note),
        )

    @admin.action(description=_("Reject the selected changes"), permissions=["freeze"])
    def reject_changes(self, request: HttpRequest, queryset: QuerySet[AccountStatusChange]) -> HttpResponse | None:
        return action_with_reason(
            self, request, queryset, title=_("Reject account status changes"),
            apply=lambda change, reason: status_changes.change_reject(change=change, actor=request.user, reason=reason),
        )

    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.freeze_holdings")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "kind", "asset", "amount_shown", "source", "source_bucket", "destination", "destination_bucket",
                    "reference"]
    amount_shown = _in_asset_units("amount", gettext_lazy("Amount"))
    list_filter = ["kind", "asset", "created_at"]
    search_fields = ["reference", "external_reference", "source__number", "destination__number", "memo"]
    list_select_related = ["asset", "source", "destination"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transfer]:
        visible = accounts_visible_to(request.user)
        queryset = super().get_queryset(request)
        if request.user.is_superuser or request.user.has_perm("accounts.view_all_organizations"):
            return queryset
        return queryset.filter(Q(source__in=visible) | Q(destination__in=visible))


class AssetForm(forms.ModelForm):
    class Meta:
        model = Asset
        fields = ["code", "name", "kind", "vintage"]


@admin.register(Asset)
class AssetAdmin(UnitsAdmin):
    list_display = ["code", "name", "kind", "vintage", "decimals"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    form = AssetForm

    @admin.display(description=_("name"), ordering="name")
    def name_shown(self, asset: Asset) -> str:
        return asset.display_name

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Asset, form: forms.ModelForm, change: bool) -> None:
        # Through the service: it also opens a zero balance in every account that can hold the asset.
        created = services.asset_create(actor=request.user, **{name: form.cleaned_data[name] for name in AssetForm.Meta.fields})
        obj.pk = created.pk


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "ok", "balances_checked", "transfers_checked"]
    units = {"balances_checked": COUNT, "transfers_checked": COUNT}
    list_filter = ["ok"]
    date_hierarchy = "checked_at"


@admin.register(SealBlock)
class SealBlockAdmin(ReadOnlyAdmin):
    list_display = ["height", "first_transfer_id", "last_transfer_id", "transfer_count", "block_hash", "sealed_at"]
    units = {"transfer_count": COUNT}
    date_hierarchy = "sealed_at"
    show_full_result_count = False


@admin.register(SealCheck)
class SealCheckAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "ok", "broken_height", "blocks_checked", "transfers_checked", "source", "run_by"]
    units = {"blocks_checked": COUNT, "transfers_checked": COUNT}
    list_filter = ["ok", "source"]
    list_select_related = ["run_by"]
    date_hierarchy = "finished_at"
