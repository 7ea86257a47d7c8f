"""The ledger: assets, accounts, balances in four buckets, and append-only transfers.

Every change of any bucket is a Transfer row, so every balance can be recomputed from the transfers
alone (registry.selectors.ledger_verify). Amounts are integers in the asset's smallest unit: fen for
CNY, tonnes for allowances and offsets.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import localtime
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.provinces import PROVINCE_CHOICES
from core.money import format_minor_units
from registry.names import account_name, asset_name


class Asset(models.Model):
    class Kind(models.TextChoices):
        CASH = "cash", _("Cash")
        ALLOWANCE = "allowance", _("Allowance (CEA)")
        OFFSET = "offset", _("Offset (CCER)")

    code = models.CharField(_("code"), max_length=16, unique=True, help_text=_("CNY, CEA21, CEA19-20, CCER ..."))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    vintage = models.CharField(_("vintage"), max_length=9, blank=True, help_text=_("The compliance year(s) of a CEA: 2021, 2019-2020"))
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=0, help_text=_("2 for CNY (amounts in fen), 0 for tonnes"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def display_name(self) -> str:
        """The name in the active language (a reference asset's; any other as entered)."""
        return asset_name(self.name, self.vintage)

    def format(self, amount: int) -> str:
        return format_minor_units(amount, self.decimals)


class Account(models.Model):
    class Kind(models.TextChoices):
        HOLDING = "holding", _("Registry holding account")
        CASH = "cash", _("Trading funds account")
        NATIONAL_ISSUANCE = "national_issuance", _("National issuance account")
        PROVINCIAL = "provincial", _("Provincial account")
        RETIREMENT = "retirement", _("Retirement account")
        CANCELLATION = "cancellation", _("Cancellation account")
        EXCHANGE_FEES = "exchange_fees", _("Exchange fee account")
        GOVERNMENT_REVENUE = "government_revenue", _("Government revenue account")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    ORGANIZATION_KINDS = frozenset({Kind.HOLDING, Kind.CASH})
    # The government revenue account receives the proceeds of paid allocation (auctions).
    CASH_KINDS = frozenset({Kind.CASH, Kind.EXCHANGE_FEES, Kind.GOVERNMENT_REVENUE})
    SINGLETON_KINDS = frozenset({Kind.NATIONAL_ISSUANCE, Kind.RETIREMENT, Kind.CANCELLATION, Kind.EXCHANGE_FEES,
                                 Kind.GOVERNMENT_REVENUE})
    # Units in these accounts have left circulation: "holdings" in the conservation proof exclude them.
    OUT_OF_CIRCULATION_KINDS = frozenset({Kind.RETIREMENT, Kind.CANCELLATION})

    number = models.CharField(_("number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), null=True, blank=True, on_delete=models.PROTECT, related_name="registry_accounts"
    )
    province = models.CharField(_("province"), max_length=2, choices=PROVINCE_CHOICES, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
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
                condition=Q(kind__in=["national_issuance", "retirement", "cancellation", "exchange_fees", "government_revenue"]),
                name="account_singleton_system",
            ),
            models.UniqueConstraint(
                fields=["province"], condition=Q(kind="provincial"), name="account_one_per_province"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.display_name}"

    @property
    def display_name(self) -> str:
        """The name in the active language (a system account's; an organization's account's as entered)."""
        return account_name(self.name, self.province)

    def holds(self, asset: Asset) -> bool:
        return (asset.kind == Asset.Kind.CASH) == (self.kind in self.CASH_KINDS)


class Bucket(models.TextChoices):
    AVAILABLE = "available", _("Available")
    RESERVED = "reserved", _("Reserved")
    PENDING = "pending", _("Pending (T+1)")
    FROZEN = "frozen", _("Frozen")
    # Allowances beyond a company's carry-over cap (carryover app): still the company's and shown in
    # its holding, but never available again, so they can be neither sold, transferred nor surrendered.
    NOT_CARRIED = "not_carried", _("Not carried over")


class Balance(models.Model):
    """What one account holds of one asset, split into buckets. Changed only with a Transfer."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="balances")
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="balances")
    available = models.BigIntegerField(_("available"), default=0)
    reserved = models.BigIntegerField(_("reserved"), default=0)
    pending = models.BigIntegerField(_("pending"), default=0)
    frozen = models.BigIntegerField(_("frozen"), default=0)
    not_carried = models.BigIntegerField(_("not carried over"), default=0)

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
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
        return self.available + self.reserved + self.pending + self.frozen + self.not_carried

    @property
    def live(self) -> int:
        """What it holds in every bucket but `not_carried`: what keeps its account from closing."""
        return self.total - self.not_carried

    @staticmethod
    def total_expression() -> models.Expression:
        """`total` in the database, for annotations and sums: every bucket."""
        return F("available") + F("reserved") + F("pending") + F("frozen") + F("not_carried")


class Transfer(models.Model):
    """One movement of a positive amount of one asset from one (account, bucket) to another.

    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE). Issuance and cash deposits have no
    source (value enters the registry); cash withdrawals have no destination (it leaves for the bank).
    """

    class Kind(models.TextChoices):
        ISSUANCE = "issuance", _("Issuance")
        ALLOCATION = "allocation", _("Allocation")
        TRANSFER = "transfer", _("Transfer")
        RESERVE = "reserve", _("Reserve")
        RELEASE = "release", _("Release")
        TRADE_SETTLEMENT = "trade_settlement", _("Trade settlement")
        FEE = "fee", _("Fee")
        PENDING_RELEASE = "pending_release", _("T+1 release")
        SURRENDER = "surrender", _("Surrender")
        CANCELLATION = "cancellation", _("Voluntary cancellation")
        CLAWBACK = "clawback", _("Claw-back")
        DEDUCTION = "deduction", _("Deduction")
        DEPOSIT = "deposit", _("Cash deposit")
        WITHDRAWAL = "withdrawal", _("Cash withdrawal")
        FREEZE = "freeze", _("Freeze")
        UNFREEZE = "unfreeze", _("Unfreeze")
        CARRY_OVER = "carry_over", _("Not carried over (carry-over cap)")
        CLOSING_CANCELLATION = "closing_cancellation", _("Cancelled at the account's closing (not carried over)")

    ENTERING_KINDS = frozenset({Kind.ISSUANCE, Kind.DEPOSIT})
    LEAVING_KINDS = frozenset({Kind.WITHDRAWAL})
    # Between two buckets of one account.
    BUCKET_KINDS = frozenset({Kind.RESERVE, Kind.RELEASE, Kind.PENDING_RELEASE, Kind.FREEZE, Kind.UNFREEZE, Kind.CARRY_OVER})
    # Available to available, between two accounts (transfer_create).
    ACCOUNT_TO_ACCOUNT_KINDS = frozenset(
        {Kind.TRANSFER, Kind.ALLOCATION, Kind.CLAWBACK, Kind.DEDUCTION, Kind.SURRENDER, Kind.CANCELLATION}
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount"))
    source = models.ForeignKey(Account, verbose_name=_("source"), null=True, blank=True, on_delete=models.PROTECT, related_name="debits")
    source_bucket = models.CharField(_("source bucket"), max_length=16, choices=Bucket.choices, blank=True)
    destination = models.ForeignKey(Account, verbose_name=_("destination"), null=True, blank=True, on_delete=models.PROTECT, related_name="credits")
    destination_bucket = models.CharField(_("destination bucket"), max_length=16, choices=Bucket.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True, help_text=_("What caused it: trade:17, plan:3"))
    external_reference = models.CharField(_("external reference"), max_length=64, blank=True, help_text=_("The bank's record of a deposit or withdrawal"))
    memo = models.CharField(_("memo"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
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
        return f"#{self.pk} {self.get_kind_display()} {self.amount:,} {self.asset_id}"


class AccountStatusChange(models.Model):
    """A regulator's proposal to freeze, unfreeze or close an account, or to freeze or unfreeze part
    of one of its holdings (`asset`, `amount`: a judicial or regulatory freeze), decided by another
    regulator: the approval does it (registry.services.account_freeze, account_unfreeze,
    account_close, which cancels what a closing account holds not carried over, holdings_freeze or
    holdings_unfreeze); a rejection leaves the account as it is. One proposal at a time per account."""

    class Action(models.TextChoices):
        FREEZE = "freeze", _("Freeze")
        UNFREEZE = "unfreeze", _("Unfreeze")
        CLOSE = "close", pgettext_lazy("an account", "Close")
        FREEZE_HOLDING = "freeze_holding", _("Freeze part of a holding")
        UNFREEZE_HOLDING = "unfreeze_holding", _("Unfreeze part of a holding")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed, awaiting a second regulator")
        APPROVED = "approved", _("Approved and done")
        REJECTED = "rejected", _("Rejected")

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="status_changes")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text=_("Of a holding's freeze or unfreeze"))
    amount = models.PositiveBigIntegerField(_("amount"), null=True, blank=True,
                                            help_text=_("Of a holding's freeze or unfreeze, in the asset's smallest unit"))
    reason = models.CharField(_("reason"), max_length=500)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("account status change")
        verbose_name_plural = _("account status changes")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(status="proposed"), name="account_status_change_one_proposed"),
            # A holding's freeze names the asset and a positive amount; a change of the account's status neither.
            models.CheckConstraint(
                condition=Q(action__in=["freeze_holding", "unfreeze_holding"], asset__isnull=False, amount__gt=0)
                | (~Q(action__in=["freeze_holding", "unfreeze_holding"]) & Q(asset__isnull=True, amount__isnull=True)),
                name="account_status_change_holding_has_amount",
            ),
        ]

    def __str__(self) -> str:
        if self.asset_id:
            return gettext("%(action)s: %(holding)s in %(account)s (%(status)s)") % {
                "action": self.get_action_display(), "holding": self.holding_shown, "account": self.account.number,
                "status": self.get_status_display()}
        return gettext("%(action)s %(account)s (%(status)s)") % {
            "action": self.get_action_display(), "account": self.account.number, "status": self.get_status_display()}

    @property
    def holding_shown(self) -> str:
        """"40 CEA21": how much of which holding a holding's freeze or unfreeze moves ("" for the others)."""
        return f"{self.asset.format(self.amount)} {self.asset.code}" if self.asset_id else ""


class LedgerCheck(models.Model):
    """The outcome of one run of the ledger proof (the hourly job or `check_ledger`)."""

    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True, db_index=True)
    ok = models.BooleanField(_("OK"))
    balances_checked = models.PositiveIntegerField(_("balances checked"))
    transfers_checked = models.PositiveBigIntegerField(_("transfers checked"))
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{localtime(self.checked_at):%Y-%m-%d %H:%M %Z} {gettext('OK') if self.ok else gettext('FAILED')}"


class SealBlock(models.Model):
    """A block of the ledger's seal chain: every transfer with an id after the previous block's last and
    up to `last_transfer_id`, hashed (SHA-256, registry.seal) together with the previous block's hash.
    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE), like the transfers it seals."""

    height = models.PositiveBigIntegerField(_("height"), unique=True)
    first_transfer_id = models.BigIntegerField(_("first transfer id"))
    last_transfer_id = models.BigIntegerField(_("last transfer id"), unique=True)
    transfer_count = models.PositiveIntegerField(_("transfer count"))
    previous_hash = models.CharField(_("previous hash"), max_length=64, unique=True, help_text=_("The previous block's hash (64 zeros for the first)"))
    block_hash = models.CharField(_("block hash"), max_length=64, unique=True)
    sealed_at = models.DateTimeField(_("sealed at"), db_index=True)

    class Meta:
        verbose_name = _("seal block")
        verbose_name_plural = _("seal blocks")
        ordering = ["-height"]
        constraints = [
            models.CheckConstraint(condition=Q(height__gte=1), name="sealblock_height_positive"),
            models.CheckConstraint(condition=Q(transfer_count__gte=1), name="sealblock_not_empty"),
            models.CheckConstraint(
                condition=Q(first_transfer_id__lte=models.F("last_transfer_id")), name="sealblock_ids_in_order"
            ),
        ]

    def __str__(self) -> str:
        return gettext("block %(height)s (%(hash)s)") % {"height": self.height, "hash": self.block_hash[:12]}


class SealCheck(models.Model):
    """One recomputation of the seal chain: by an auditor (the page), an operator (the command) or the job."""

    class Source(models.TextChoices):
        PAGE = "page", _("Auditor page")
        COMMAND = "command", _("Command")
        JOB = "job", _("Scheduled job")

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), db_index=True)
    ok = models.BooleanField(_("OK"))
    broken_height = models.PositiveBigIntegerField(_("broken height"), null=True, blank=True, help_text=_("The first block that does not hold"))
    problem = models.CharField(_("problem"), max_length=500, blank=True)
    blocks_checked = models.PositiveBigIntegerField(_("blocks checked"))
    transfers_checked = models.PositiveBigIntegerField(_("transfers checked"))
    head_height = models.PositiveBigIntegerField(_("head height"), null=True, blank=True)
    head_hash = models.CharField(_("head hash"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("run by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("seal check")
        verbose_name_plural = _("seal checks")
        ordering = ["-finished_at", "-id"]
        permissions = [("run_seal_check", "Can recompute the ledger seal chain")]

    def __str__(self) -> str:
        outcome = gettext("OK") if self.ok else gettext("BROKEN at block %(height)s") % {"height": self.broken_height}
        return f"{localtime(self.finished_at):%Y-%m-%d %H:%M %Z} {outcome}"
