"""The ledger: assets, accounts, balances in four buckets, and append-only transfers.

Every change of any bucket is a Transfer row, so every balance can be recomputed from the transfers
alone (registry.selectors.ledger_verify). Amounts are integers in the asset's smallest unit: fen for
CNY, tonnes for allowances and offsets.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.provinces import PROVINCE_CHOICES
from core.money import format_minor_units


class Asset(models.Model):
    class Kind(models.TextChoices):
        CASH = "cash", "Cash"
        ALLOWANCE = "allowance", "Allowance (CEA)"
        OFFSET = "offset", "Offset (CCER)"

    code = models.CharField(max_length=16, unique=True, help_text="CNY, CEA21, CEA19-20, CCER ...")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    vintage = models.CharField(max_length=9, blank=True, help_text="The compliance year(s) of a CEA: 2021, 2019-2020")
    decimals = models.PositiveSmallIntegerField(default=0, help_text="2 for CNY (amounts in fen), 0 for tonnes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.code

    def format(self, amount: int) -> str:
        return format_minor_units(amount, self.decimals)


class Account(models.Model):
    class Kind(models.TextChoices):
        HOLDING = "holding", _("Registry holding account")
        CASH = "cash", _("Trading funds account")
        NATIONAL_ISSUANCE = "national_issuance", "National issuance account"
        PROVINCIAL = "provincial", "Provincial account"
        RETIREMENT = "retirement", "Retirement account"
        CANCELLATION = "cancellation", "Cancellation account"
        EXCHANGE_FEES = "exchange_fees", "Exchange fee account"

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    ORGANIZATION_KINDS = frozenset({Kind.HOLDING, Kind.CASH})
    CASH_KINDS = frozenset({Kind.CASH, Kind.EXCHANGE_FEES})
    SINGLETON_KINDS = frozenset({Kind.NATIONAL_ISSUANCE, Kind.RETIREMENT, Kind.CANCELLATION, Kind.EXCHANGE_FEES})
    # Units in these accounts have left circulation: "holdings" in the conservation proof exclude them.
    OUT_OF_CIRCULATION_KINDS = frozenset({Kind.RETIREMENT, Kind.CANCELLATION})

    number = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="registry_accounts"
    )
    province = models.CharField(max_length=2, choices=PROVINCE_CHOICES, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    status_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        permissions = [
            ("issue_allowances", "Can issue allowances into the national issuance account"),
            ("freeze_holdings", "Can freeze and unfreeze accounts and holdings"),
            ("manage_cash", "Can record cash deposits and withdrawals"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["holding", "cash"], organization__isnull=False)
                | (~Q(kind__in=["holding", "cash"]) & Q(organization__isnull=True)),
                name="account_owner_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["organization", "kind"], condition=Q(organization__isnull=False), name="account_one_per_kind"
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["national_issuance", "retirement", "cancellation", "exchange_fees"]),
                name="account_singleton_system",
            ),
            models.UniqueConstraint(
                fields=["province"], condition=Q(kind="provincial"), name="account_one_per_province"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def holds(self, asset: Asset) -> bool:
        return (asset.kind == Asset.Kind.CASH) == (self.kind in self.CASH_KINDS)


class Bucket(models.TextChoices):
    AVAILABLE = "available", "Available"
    RESERVED = "reserved", "Reserved"
    PENDING = "pending", "Pending (T+1)"
    FROZEN = "frozen", "Frozen"


class Balance(models.Model):
    """What one account holds of one asset, split into buckets. Changed only with a Transfer."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="balances")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="balances")
    available = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)
    frozen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account_id", "asset_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "asset"], name="balance_one_per_account_asset"),
            *[
                models.CheckConstraint(condition=Q(**{f"{bucket}__gte": 0}), name=f"balance_{bucket}_not_negative")
                for bucket in Bucket.values
            ],
        ]

    def __str__(self) -> str:
        return f"{self.account.number} {self.asset.code}"

    @property
    def total(self) -> int:
        return self.available + self.reserved + self.pending + self.frozen


class Transfer(models.Model):
    """One movement of a positive amount of one asset from one (account, bucket) to another.

    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE). Issuance and cash deposits have no
    source (value enters the registry); cash withdrawals have no destination (it leaves for the bank).
    """

    class Kind(models.TextChoices):
        ISSUANCE = "issuance", "Issuance"
        ALLOCATION = "allocation", "Allocation"
        TRANSFER = "transfer", "Transfer"
        RESERVE = "reserve", "Reserve"
        RELEASE = "release", "Release"
        TRADE_SETTLEMENT = "trade_settlement", "Trade settlement"
        FEE = "fee", "Fee"
        PENDING_RELEASE = "pending_release", "T+1 release"
        SURRENDER = "surrender", "Surrender"
        CANCELLATION = "cancellation", "Voluntary cancellation"
        CLAWBACK = "clawback", "Claw-back"
        DEDUCTION = "deduction", "Deduction"
        DEPOSIT = "deposit", "Cash deposit"
        WITHDRAWAL = "withdrawal", "Cash withdrawal"
        FREEZE = "freeze", "Freeze"
        UNFREEZE = "unfreeze", "Unfreeze"

    ENTERING_KINDS = frozenset({Kind.ISSUANCE, Kind.DEPOSIT})
    LEAVING_KINDS = frozenset({Kind.WITHDRAWAL})
    # Between two buckets of one account.
    BUCKET_KINDS = frozenset({Kind.RESERVE, Kind.RELEASE, Kind.PENDING_RELEASE, Kind.FREEZE, Kind.UNFREEZE})
    # Available to available, between two accounts (transfer_create).
    ACCOUNT_TO_ACCOUNT_KINDS = frozenset(
        {Kind.TRANSFER, Kind.ALLOCATION, Kind.CLAWBACK, Kind.DEDUCTION, Kind.SURRENDER, Kind.CANCELLATION}
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    source = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="debits")
    source_bucket = models.CharField(max_length=16, choices=Bucket.choices, blank=True)
    destination = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="credits")
    destination_bucket = models.CharField(max_length=16, choices=Bucket.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=64, blank=True, db_index=True, help_text="What caused it: trade:17, plan:3")
    external_reference = models.CharField(max_length=64, blank=True, help_text="The bank's record of a deposit or withdrawal")
    memo = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=(Q(source__isnull=False) & ~Q(source_bucket="")) | (Q(source__isnull=True) & Q(source_bucket="")),
                name="transfer_source_has_bucket",
            ),
            models.CheckConstraint(
                condition=(Q(destination__isnull=False) & ~Q(destination_bucket=""))
                | (Q(destination__isnull=True) & Q(destination_bucket="")),
                name="transfer_destination_has_bucket",
            ),
            models.CheckConstraint(
                condition=Q(source__isnull=False) | Q(kind__in=["issuance", "deposit"]),
                name="transfer_only_entries_lack_source",
            ),
            models.CheckConstraint(
                condition=Q(destination__isnull=False) | Q(kind="withdrawal"),
                name="transfer_only_withdrawals_lack_destination",
            ),
            models.UniqueConstraint(
                fields=["kind", "external_reference"],
                condition=~Q(external_reference=""),
                name="transfer_external_reference_once",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "asset"]),
            models.Index(fields=["destination", "asset"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.amount} {self.asset_id}"


class LedgerCheck(models.Model):
    """The outcome of one run of the ledger proof (the hourly job or `check_ledger`)."""

    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    balances_checked = models.PositiveIntegerField()
    transfers_checked = models.PositiveBigIntegerField()
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'OK' if self.ok else 'FAILED'}"
