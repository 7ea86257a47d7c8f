"""Every write to the ledger. All of them end in `ledger_post`, the one place that locks balances,
checks them, updates them and appends the transfers.

Concurrency: balances are locked through `balances_lock` only, always in (account, asset) order, so
two postings never wait on each other in a cycle. Callers that hold a transaction open (trading
batches) may post many movements at once: one UPDATE for the balances, one INSERT for the transfers.

Authorization: the privileged services (issue, freeze, cash) check the actor's permission and scope
here. The movement services (transfer, reserve, release, retire) are called by other services
(trading, allocation, compliance) that have already decided the actor may act on the account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from accounts.selectors import organization_in_scope
from core.audit import audit_record
from core.db import Prepared, statements_execute
from core.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    AlreadyExists,
    AmountTooLarge,
    AssetNotAllowed,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    NonPositiveAmount,
    PermissionDenied,
)
from registry.models import Account, Asset, Balance, Bucket, LedgerCheck, Transfer
from registry.selectors import LedgerReport, ledger_verify


@dataclass(frozen=True)
class Movement:
    """One transfer to post: `amount` of `asset` from (source, source_bucket) to (destination, destination_bucket)."""

    kind: str
    asset: Asset
    amount: int
    source: Account | None = None
    source_bucket: str = ""
    destination: Account | None = None
    destination_bucket: str = ""
    reference: str = ""
    external_reference: str = ""
    memo: str = ""


# Functions called with every posting's transfers, inside its transaction, after they are written:
# the detail an app keeps of some asset's movements (offsets: which serial ranges moved). A hook that
# raises undoes the posting. Registered in an AppConfig.ready(), so that the registry imports no app.
PostingHook = Callable[[list[Transfer]], None]
_posting_hooks: list[PostingHook] = []


def posting_hook_register(hook: PostingHook) -> None:
    """Calls `hook` after every posting (once, however often registered)."""
    if hook not in _posting_hooks:
        _posting_hooks.append(hook)


def _is_user(actor: Any) -> bool:
    return getattr(actor, "pk", None) is not None


def require_permission(actor: Any, permission: str) -> None:
    if not (_is_user(actor) and actor.is_active and actor.has_perm(permission)):
        raise PermissionDenied()


def require_account_in_scope(actor: Any, account: Account) -> None:
    """Provincial regulators act on their own province's organizations only."""
    if account.organization is not None and not organization_in_scope(actor, account.organization):
        raise PermissionDenied(_("This account belongs to an organization outside your scope."))
    if account.organization is None and not (actor.is_superuser or actor.has_perm("accounts.view_all_organizations")):
        raise PermissionDenied(_("Only national staff may act on system accounts."))


# 10^15 fen is ten trillion yuan; 10^15 t is far beyond any cap. Keeps every sum inside BIGINT.
MAX_AMOUNT = 10**15


def _validate_amount(amount: Any) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise NonPositiveAmount(_("The amount must be a positive whole number, not %(amount)s.") % {"amount": repr(amount)}, field="amount")
    if amount > MAX_AMOUNT:
        raise AmountTooLarge(_("The amount must be at most %(max)s.") % {"max": f"{MAX_AMOUNT:,}"}, field="amount")


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for this action."), field="reason")
    return reason


BUCKETS = tuple(Bucket.values)  # (Bucket.values builds a new list at every use; postings use it often)
# The buckets as a message names them (the labels are the balance tables' column headings).
BUCKET_WORDS = {
    Bucket.AVAILABLE: gettext_lazy("available"), Bucket.RESERVED: gettext_lazy("reserved"),
    Bucket.PENDING: gettext_lazy("pending"), Bucket.FROZEN: gettext_lazy("frozen"),
    Bucket.NOT_CARRIED: gettext_lazy("not carried over"),
}
_BALANCE_FIELDS = ["id", "account_id", "asset_id", *BUCKETS]
_ACCOUNT_FIELDS = ["id", "number", "name", "kind", "organization_id", "province", "status", "status_reason"]
_BALANCE_SELECT = ", ".join(f"b.{name}" for name in _BALANCE_FIELDS)
_ACCOUNT_SELECT = ", ".join(f"a.{name}" for name in _ACCOUNT_FIELDS)
_TRANSFER_COLUMNS = [
    "created_at", "kind", "asset_id", "amount", "source_id", "source_bucket", "destination_id", "destination_bucket",
    "actor_id", "reference", "external_reference", "memo",
]


_BALANCE_UPDATE_ONE = Prepared(f"UPDATE registry_balance SET {', '.join(f'{b} = %s' for b in BUCKETS)} WHERE id = %s")
# Postings of up to this many transfers or balance rows (order entry's, a matcher batch's few
# releases) run prepared statements: a few shapes only, each prepared once per connection.
_PREPARED_ROWS = 4


def _balance_statements(rows: list[Balance]) -> list[tuple[str, list[Any]]]:
    """The UPDATEs writing the balance rows' buckets, one per chunk of 1,000 rows."""
    columns = ["id", *BUCKETS]
    statements = []
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        params = [getattr(row, column) for row in chunk for column in columns]
        if len(chunk) == 1:
            sql = _BALANCE_UPDATE_ONE
            params = params[1:] + params[:1]
        elif connection.vendor == "postgresql":
            values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
            sets = ", ".join(f"{b} = v.{b}" for b in BUCKETS)
            sql = f"UPDATE registry_balance AS b SET {sets} FROM (VALUES {values}) AS v({', '.join(columns)}) WHERE b.id = v.id"
        else:
            cases = " ".join(["WHEN %s THEN %s"] * len(chunk))
            sets = ", ".join(f"{bucket} = CASE id {cases} END" for bucket in BUCKETS)
            params = [value for bucket in BUCKETS for row in chunk for value in (row.pk, getattr(row, bucket))]
            params += [row.pk for row in chunk]
            sql = f"UPDATE registry_balance SET {sets} WHERE id IN ({', '.join(['%s'] * len(chunk))})"
        statements.append((sql, params))
    return statements


def _ledger_write(balances: list[Balance], transfers: list[Transfer]) -> list[Transfer]:
    """Writes the balances' buckets and inserts the transfers (up to 1,000 per INSERT), setting their
    ids (RETURNING keeps the order). On PostgreSQL a posting of up to 1,000 rows is one round trip."""
    created_at = timezone.now()
    stored_at = connection.ops.adapt_datetimefield_value(created_at)
    row = "(" + ", ".join(["%s"] * len(_TRANSFER_COLUMNS)) + ")"
    statements = _balance_statements(balances)
    with connection.cursor() as cursor:
        for start in range(0, len(transfers), 1000):
            chunk = transfers[start : start + 1000]
            params: list[Any] = []
            for transfer in chunk:
                transfer.created_at = created_at
                params += [
                    stored_at, transfer.kind, transfer.asset_id, transfer.amount, transfer.source_id, transfer.source_bucket,
                    transfer.destination_id, transfer.destination_bucket, transfer.actor_id, transfer.reference,
                    transfer.external_reference, transfer.memo,
                ]
            sql = f"INSERT INTO registry_transfer ({', '.join(_TRANSFER_COLUMNS)}) VALUES {', '.join([row] * len(chunk))} RETURNING id"
            statements.append((Prepared(sql) if len(chunk) <= _PREPARED_ROWS else sql, params))
            statements_execute(cursor, statements)
            statements = []
            for transfer, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                transfer.pk = transfer.id = pk
                transfer._state.adding = False
                transfer._state.db = connection.alias
    return transfers


def balances_lock(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Balance]:
    """Locks the balance rows of these (account id, asset id) pairs in (account, asset) order, and
    returns them with their accounts read fresh in the same query (for the frozen/closed checks).

    Rows that do not exist yet are inserted first (ON CONFLICT DO NOTHING, so racing inserters both
    go on); rows are normally created with their account or asset, so this is rare.
    """
    wanted = sorted(set(keys))
    account_ids = {account_id for account_id, _ in wanted}
    asset_ids = {asset_id for _, asset_id in wanted}

    def lock() -> dict[tuple[int, int], Balance]:
        # Locks a superset (every asset of every account named) in one query; the order stays fixed.
        # The account rows are locked too (in the same order), so a status change (freeze, close),
        # which locks the same way, is either seen by a posting or waits for it.
        # Plain SQL: this runs for every posting, and the ORM spends more time building it than the
        # database spends answering it.
        accounts_in = ", ".join(["%s"] * len(account_ids))
        assets_in = ", ".join(["%s"] * len(asset_ids))
        sql = (
            f"SELECT {_BALANCE_SELECT}, {_ACCOUNT_SELECT} FROM registry_balance b "
            f"JOIN registry_account a ON a.id = b.account_id "
            f"WHERE b.account_id IN ({accounts_in}) AND b.asset_id IN ({assets_in}) ORDER BY b.account_id, b.asset_id"
        )
        if connection.vendor == "postgresql":
            sql += " FOR NO KEY UPDATE OF b, a"
        if len(account_ids) * len(asset_ids) <= _PREPARED_ROWS:
            sql = Prepared(sql)
        with connection.cursor() as cursor:
            statements_execute(cursor, [(sql, [*account_ids, *asset_ids])])
            rows = cursor.fetchall()
        locked = {}
        width = len(_BALANCE_FIELDS)
        for row in rows:
            balance = Balance.from_db(connection.alias, _BALANCE_FIELDS, row[:width])
            balance.account = Account.from_db(connection.alias, _ACCOUNT_FIELDS, row[width:])
            locked[(balance.account_id, balance.asset_id)] = balance
        return locked

    locked = lock()
    missing = [key for key in wanted if key not in locked]
    if missing:
        Balance.objects.bulk_create(
            [Balance(account_id=account_id, asset_id=asset_id) for account_id, asset_id in missing], ignore_conflicts=True
        )
        locked = lock()
    return locked


def _check_movement(movement: Movement) -> None:
    """What can be checked before locking: the amount, the buckets, which assets an account holds."""
    _validate_amount(movement.amount)
    for account, bucket in ((movement.source, movement.source_bucket), (movement.destination, movement.destination_bucket)):
        if account is None:
            continue
        if bucket not in BUCKETS:
            raise InvalidInput(_("Unknown bucket %(bucket)s.") % {"bucket": repr(bucket)})
        if not account.holds(movement.asset):
            raise AssetNotAllowed(_("Account %(account)s cannot hold %(asset)s.") % {"account": account.number, "asset": movement.asset.code}, field="asset")
    if movement.source is None and movement.kind not in Transfer.ENTERING_KINDS:
        raise InvalidInput(_("Only issuance and deposits create value."))
    if movement.destination is None and movement.kind not in Transfer.LEAVING_KINDS:
        raise InvalidInput(_("Only withdrawals take value out of the registry."))
    if movement.source is not None and movement.source.kind in Account.OUT_OF_CIRCULATION_KINDS:
        raise InvalidInput(_("Units in %(account)s have left circulation for good.") % {"account": movement.source.number}, field="source")
    # Units not carried over stay there for good, but for their cancellation when the account closes;
    # only the carry-over cap's marking puts them there.
    if (movement.source_bucket == Bucket.NOT_CARRIED) != (movement.kind == Transfer.Kind.CLOSING_CANCELLATION):
        raise InvalidInput(_("Allowances not carried over can no longer be moved."), field="source_bucket")
    if movement.kind == Transfer.Kind.CLOSING_CANCELLATION and (
        movement.destination is None or movement.destination.kind != Account.Kind.CANCELLATION
    ):
        raise InvalidInput(_("Allowances not carried over are cancelled only into the cancellation account."), field="destination")
    if (movement.destination_bucket == Bucket.NOT_CARRIED) != (movement.kind == Transfer.Kind.CARRY_OVER):
        raise InvalidInput(_("Only the carry-over cap marks allowances as not carried over."), field="kind")
    if movement.kind in Transfer.BUCKET_KINDS and movement.source != movement.destination:
        raise InvalidInput(_("A %(kind)s moves units between the buckets of one account.") % {"kind": movement.kind}, field="kind")


def _check_status(movement: Movement, source: Account | None, destination: Account | None) -> None:
    """Checks on the accounts as read under the balance lock: closed accounts take part in nothing;
    a frozen account lets nothing leave its available bucket (but a freeze)."""
    for account in (source, destination):
        if account is not None and account.status == Account.Status.CLOSED:
            raise AccountClosed(_("Account %(account)s is closed.") % {"account": account.number}, field="account")
    if (
        source is not None
        and source.status == Account.Status.FROZEN
        and movement.source_bucket == Bucket.AVAILABLE
        # A freeze, and the carry-over cap's marking, keep the units in the account.
        and not (movement.kind in (Transfer.Kind.FREEZE, Transfer.Kind.CARRY_OVER) and source == destination)
    ):
        raise AccountFrozen(_("Account %(account)s is frozen: %(reason)s") % {"account": source.number, "reason": source.status_reason}, field="account")


def ledger_post(
    movements: Sequence[Movement],
    *,
    actor: Any = None,
    locked: dict[tuple[int, int], Balance] | None = None,
    savepoint: bool = True,
) -> list[Transfer]:
    """Applies the movements atomically: all or none. Raises a DomainError and writes nothing when a
    movement is invalid or a source bucket would go below zero.

    `locked`: balances the caller already holds from `balances_lock` in this transaction (they must
    cover every movement). `savepoint=False` saves two round trips on hot paths whose callers let any
    error end their transaction anyway.
    """
    if not movements:
        return []
    for movement in movements:
        _check_movement(movement)
    keys = set()
    for movement in movements:
        if movement.source is not None:
            keys.add((movement.source.pk, movement.asset.pk))
        if movement.destination is not None:
            keys.add((movement.destination.pk, movement.asset.pk))
    with transaction.atomic(savepoint=savepoint):
        balances = locked if locked is not None and keys <= locked.keys() else balances_lock(keys)
        # Work on copies of the bucket values: the caller's Balance objects change only once every
        # movement has passed (a refusal leaves them as they were, like the database).
        values = {key: {bucket: getattr(balance, bucket) for bucket in BUCKETS} for key, balance in balances.items()}
        touched: set[tuple[int, int]] = set()
        for movement in movements:
            source_key = (movement.source.pk, movement.asset.pk) if movement.source is not None else None
            destination_key = (movement.destination.pk, movement.asset.pk) if movement.destination is not None else None
            _check_status(
                movement,
                balances[source_key].account if source_key else None,
                balances[destination_key].account if destination_key else None,
            )
            if source_key is not None:
                held = values[source_key][movement.source_bucket]
                if held < movement.amount:
                    raise InsufficientBalance(
                        _("Account %(account)s has %(held)s %(asset)s %(bucket)s, less than the %(needed)s needed.") % {
                            "account": balances[source_key].account.number, "held": movement.asset.format(held),
                            "asset": movement.asset.code, "bucket": BUCKET_WORDS[movement.source_bucket],
                            "needed": movement.asset.format(movement.amount),
                        },
                        field="amount",
                    )
                values[source_key][movement.source_bucket] = held - movement.amount
                touched.add(source_key)
            if destination_key is not None:
                values[destination_key][movement.destination_bucket] += movement.amount
                touched.add(destination_key)
        changed = {}
        for key in touched:
            balance = balances[key]
            for bucket, value in values[key].items():
                setattr(balance, bucket, value)
            changed[key] = balance
        actor_user = actor if _is_user(actor) else None
        transfers = _ledger_write(
            list(changed.values()),
            [
                Transfer(
                    kind=movement.kind,
                    asset=movement.asset,
                    amount=movement.amount,
                    source=movement.source,
                    source_bucket=movement.source_bucket,
                    destination=movement.destination,
                    destination_bucket=movement.destination_bucket,
                    actor=actor_user,
                    reference=movement.reference,
                    external_reference=movement.external_reference,
                    memo=movement.memo,
                )
                for movement in movements
            ]
        )
        for hook in _posting_hooks:
            hook(transfers)
        return transfers


def _transfer_audit(actor: Any, action: str, transfer: Transfer, **extra: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=transfer,
        after={
            "kind": transfer.kind,
            "asset": transfer.asset.code,
            "amount": transfer.amount,
            "source": transfer.source.number if transfer.source else None,
            "source_bucket": transfer.source_bucket,
            "destination": transfer.destination.number if transfer.destination else None,
            "destination_bucket": transfer.destination_bucket,
            "reference": transfer.reference,
            **extra,
        },
    )


def _post_one(movement: Movement, *, actor: Any, action: str, **audit_extra: Any) -> Transfer:
    with transaction.atomic():
        (transfer,) = ledger_post([movement], actor=actor)
        _transfer_audit(actor, action, transfer, **audit_extra)
    return transfer


# --- system accounts and opening accounts ---


def system_account(kind: str, *, province: str = "") -> Account:
    if kind == Account.Kind.PROVINCIAL:
        return Account.objects.get(kind=kind, province=province)
    return Account.objects.get(kind=kind)


def _balances_create(accounts: Iterable[Account], assets: Iterable[Asset]) -> None:
    assets = list(assets)
    Balance.objects.bulk_create(
        [Balance(account=account, asset=asset) for account in accounts for asset in assets if account.holds(asset)],
        ignore_conflicts=True,
    )


def accounts_open(*, organization: Organization, actor: Any) -> list[Account]:
    """Opens the registry holding account and the trading funds account of an organization
    (idempotent), with a zero balance row for every asset each can hold."""
    if organization.kind == Organization.Kind.SYSTEM:
        raise InvalidInput(_("System organizations hold no participant accounts."), field="organization")
    with transaction.atomic():
        opened = []
        for kind, prefix in ((Account.Kind.HOLDING, "HA"), (Account.Kind.CASH, "CA")):
            account, created = Account.objects.get_or_create(
                organization=organization,
                kind=kind,
                defaults={"number": f"{prefix}-{organization.uscc}", "name": organization.name},
            )
            if created:
                audit_record(actor=actor, action="account.open", obj=account, after={"number": account.number, "kind": kind})
            opened.append(account)
        _balances_create(opened, Asset.objects.all())
    return opened


def asset_create(*, code: str, name: str, kind: str, vintage: str = "", actor: Any) -> Asset:
    """A new asset (a new CEA vintage), with a zero balance row in every account that can hold it."""
    require_permission(actor, "registry.add_asset")
    code = code.strip().upper()
    if not code:
        raise InvalidInput(_("An asset needs a code."), field="code")
    if kind not in Asset.Kind.values:
        raise InvalidInput(_("Unknown asset kind %(kind)s.") % {"kind": repr(kind)}, field="kind")
    with transaction.atomic():
        if Asset.objects.filter(code=code).exists():
            raise AlreadyExists(_("Asset %(asset)s already exists.") % {"asset": code}, field="code")
        asset = Asset.objects.create(
            code=code, name=name, kind=kind, vintage=vintage, decimals=2 if kind == Asset.Kind.CASH else 0
        )
        _balances_create(Account.objects.all(), [asset])
        audit_record(actor=actor, action="asset.create", obj=asset, after={"code": code, "kind": kind, "vintage": vintage})
    return asset


# --- allowances ---


def allowances_issue(*, asset: Asset, amount: int, actor: Any, reference: str = "", memo: str = "") -> Transfer:
    """Creates `amount` allowances (or offsets) of `asset` in the national issuance account.

    The maker-checker rule (two regulators) is enforced by the allocation app that calls this.
    """
    require_permission(actor, "registry.issue_allowances")
    if asset.kind == Asset.Kind.CASH:
        raise AssetNotAllowed(_("Cash enters the registry only as a deposit."), field="asset")
    movement = Movement(
        kind=Transfer.Kind.ISSUANCE,
        asset=asset,
        amount=amount,
        destination=system_account(Account.Kind.NATIONAL_ISSUANCE),
        destination_bucket=Bucket.AVAILABLE,
        reference=reference,
        memo=memo,
    )
    return _post_one(movement, actor=actor, action="registry.issue")


def allowances_issue_and_allocate(
    *, asset: Asset, allocations: list[tuple[Account, int]], actor: Any, reference: str, memo: str = "",
    audited_by_caller: bool = False,
) -> list[Transfer]:
    """Creates the allowances of an approved plan in the national issuance account and hands them to
    the units' holding accounts, all in one posting (one lock pass, one UPDATE, one INSERT), or not
    at all. The maker-checker rule is the allocation app's, which calls this on approval.

    `audited_by_caller`: the caller (an offset issuance's approval) writes the one audit event of the
    change in the same transaction; otherwise this records `registry.issue_and_allocate`."""
    require_permission(actor, "registry.issue_allowances")
    if asset.kind == Asset.Kind.CASH:
        raise AssetNotAllowed(_("Cash enters the registry only as a deposit."), field="asset")
    allocations = [(account, amount) for account, amount in allocations if amount]
    total = sum(amount for _, amount in allocations)
    if not total:
        raise InvalidInput(_("Nothing to issue."), field="allocations")
    national = system_account(Account.Kind.NATIONAL_ISSUANCE)
    movements = [Movement(kind=Transfer.Kind.ISSUANCE, asset=asset, amount=total, destination=national,
                          destination_bucket=Bucket.AVAILABLE, reference=reference, memo=memo)]
    movements += [
        Movement(kind=Transfer.Kind.ALLOCATION, asset=asset, amount=amount, source=national, source_bucket=Bucket.AVAILABLE,
                 destination=account, destination_bucket=Bucket.AVAILABLE, reference=reference, memo=memo)
        for account, amount in allocations
    ]
    if audited_by_caller:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("audited_by_caller: call inside the transaction that records the audit event")
        return ledger_post(movements, actor=actor)
    with transaction.atomic():
        transfers = ledger_post(movements, actor=actor)
        audit_record(actor=actor, action="registry.issue_and_allocate", object_type="registry.asset", object_id=asset.pk,
                     after={"asset": asset.code, "total": total, "units": len(allocations), "reference": reference})
    return transfers


def allowances_clawback(
    *, asset: Asset, clawbacks: list[tuple[Account, int]], actor: Any, reference: str, memo: str = ""
) -> list[Transfer]:
    """Takes allowances back from units' available holdings into the national issuance account (a
    true-up below what was pre-allocated), in one posting, all or none."""
    require_permission(actor, "registry.issue_allowances")
    national = system_account(Account.Kind.NATIONAL_ISSUANCE)
    movements = [
        Movement(kind=Transfer.Kind.CLAWBACK, asset=asset, amount=amount, source=account, source_bucket=Bucket.AVAILABLE,
                 destination=national, destination_bucket=Bucket.AVAILABLE, reference=reference, memo=memo)
        for account, amount in clawbacks if amount
    ]
    if not movements:
        raise InvalidInput(_("Nothing to claw back."), field="clawbacks")
    with transaction.atomic():
        transfers = ledger_post(movements, actor=actor)
        audit_record(actor=actor, action="registry.clawback", object_type="registry.asset", object_id=asset.pk,
                     after={"asset": asset.code, "total": sum(m.amount for m in movements), "units": len(movements),
                            "reference": reference})
    return transfers


def transfer_create(
    *,
    source: Account,
    destination: Account,
    asset: Asset,
    amount: int,
    actor: Any,
    kind: str = Transfer.Kind.TRANSFER,
    reference: str = "",
    memo: str = "",
) -> Transfer:
    """Moves available units from one account to another (allocation, claw-back, deduction ...)."""
    if kind not in Transfer.ACCOUNT_TO_ACCOUNT_KINDS:
        raise InvalidInput(_("%(kind)s is not a transfer between accounts.") % {"kind": repr(kind)}, field="kind")
    if source.pk == destination.pk:
        raise InvalidInput(_("Source and destination are the same account."), field="destination")
    movement = Movement(
        kind=kind,
        asset=asset,
        amount=amount,
        source=source,
        source_bucket=Bucket.AVAILABLE,
        destination=destination,
        destination_bucket=Bucket.AVAILABLE,
        reference=reference,
        memo=memo,
    )
    return _post_one(movement, actor=actor, action=f"registry.{kind}")


def _bucket_move(
    *, kind: str, account: Account, asset: Asset, amount: int, source_bucket: str, destination_bucket: str,
    actor: Any, reference: str, memo: str = "", action: str,
) -> Transfer:
    movement = Movement(
        kind=kind,
        asset=asset,
        amount=amount,
        source=account,
        source_bucket=source_bucket,
        destination=account,
        destination_bucket=destination_bucket,
        reference=reference,
        memo=memo,
    )
    return _post_one(movement, actor=actor, action=action)


def balance_reserve(*, account: Account, asset: Asset, amount: int, actor: Any, reference: str = "") -> Transfer:
    """Available -> reserved (an order is accepted)."""
    return _bucket_move(
        kind=Transfer.Kind.RESERVE, account=account, asset=asset, amount=amount, source_bucket=Bucket.AVAILABLE,
        destination_bucket=Bucket.RESERVED, actor=actor, reference=reference, action="registry.reserve",
    )


def balance_release(*, account: Account, asset: Asset, amount: int, actor: Any, reference: str = "") -> Transfer:
    """Reserved -> available (an order is cancelled, expires or fills at a better price)."""
    return _bucket_move(
        kind=Transfer.Kind.RELEASE, account=account, asset=asset, amount=amount, source_bucket=Bucket.RESERVED,
        destination_bucket=Bucket.AVAILABLE, actor=actor, reference=reference, action="registry.release",
    )


def pending_release(*, account: Account, asset: Asset, amount: int, actor: Any = None, reference: str = "") -> Transfer:
    """Pending -> available (T+1: allowances bought on an earlier day become sellable)."""
    return _bucket_move(
        kind=Transfer.Kind.PENDING_RELEASE, account=account, asset=asset, amount=amount, source_bucket=Bucket.PENDING,
        destination_bucket=Bucket.AVAILABLE, actor=actor, reference=reference, action="registry.pending_release",
    )


def holdings_freeze(*, account: Account, asset: Asset, amount: int, reason: str, actor: Any) -> Transfer:
    """Available -> frozen: a judicial or regulatory freeze of part of a holding."""
    require_permission(actor, "registry.freeze_holdings")
    require_account_in_scope(actor, account)
    reason = require_reason(reason)
    return _bucket_move(
        kind=Transfer.Kind.FREEZE, account=account, asset=asset, amount=amount, source_bucket=Bucket.AVAILABLE,
        destination_bucket=Bucket.FROZEN, actor=actor, reference="", memo=reason, action="registry.freeze",
    )


def holdings_unfreeze(*, account: Account, asset: Asset, amount: int, reason: str, actor: Any) -> Transfer:
    """Frozen -> available."""
    require_permission(actor, "registry.freeze_holdings")
    require_account_in_scope(actor, account)
    reason = require_reason(reason)
    return _bucket_move(
        kind=Transfer.Kind.UNFREEZE, account=account, asset=asset, amount=amount, source_bucket=Bucket.FROZEN,
        destination_bucket=Bucket.AVAILABLE, actor=actor, reference="", memo=reason, action="registry.unfreeze",
    )


def _account_lock(account: Account, *, closing: bool = False) -> tuple[Account, dict[tuple[int, int], Balance]]:
    """Locks an account the way postings do (its balance rows with it, in the same order), and
    returns the row as it is now, with the locked balances. `closing`: the cancellation account's
    balances of the same assets are locked in the same statement (and order), for
    `_not_carried_cancel`."""
    keys = list(Balance.objects.filter(account=account).values_list("account_id", "asset_id"))
    if closing and keys:
        cancellation = system_account(Account.Kind.CANCELLATION)
        keys += [(cancellation.pk, asset_id) for _, asset_id in keys]
    if keys:
        balances = balances_lock(keys)
        return balances[keys[0]].account, balances
    return Account.objects.select_for_update(no_key=True).get(pk=account.pk), {}


def _not_carried_cancel(account: Account, balances: dict[tuple[int, int], Balance], actor: Any) -> dict[str, int]:
    """At an account's closing: what it holds in no bucket but `not_carried` (allowances over the
    carry-over cap, which can never leave it otherwise) is cancelled into the cancellation account.
    Anything else held refuses the closing. Returns the tonnes cancelled by asset code."""
    own = [balance for (account_id, _asset), balance in sorted(balances.items()) if account_id == account.pk]
    if any(balance.live for balance in own):
        raise AccountNotEmpty(_("Account %(account)s still holds value.") % {"account": account.number}, field="account")
    stranded = [balance for balance in own if balance.not_carried]
    if not stranded:
        return {}
    # The cancellation account's balances were locked with the account's (`_account_lock(closing=True)`).
    cancellation = next(balance.account for (account_id, _asset), balance in balances.items() if account_id != account.pk)
    movements = [
        Movement(kind=Transfer.Kind.CLOSING_CANCELLATION, asset=balance.asset, amount=balance.not_carried, source=account,
                 source_bucket=Bucket.NOT_CARRIED, destination=cancellation, destination_bucket=Bucket.AVAILABLE,
                 reference=f"account_close:{account.pk}")
        for balance in stranded
    ]
    ledger_post(movements, actor=actor, locked=balances)
    return {movement.asset.code: movement.amount for movement in movements}


STATUS_TRANSITIONS = {
    "account.freeze": ({Account.Status.OPEN}, Account.Status.FROZEN),
    "account.unfreeze": ({Account.Status.FROZEN}, Account.Status.OPEN),
    "account.close": ({Account.Status.OPEN, Account.Status.FROZEN}, Account.Status.CLOSED),
}
STATUS_REFUSALS = {
    "account.freeze": gettext_lazy("Account %(account)s is %(status)s; cannot freeze it."),
    "account.unfreeze": gettext_lazy("Account %(account)s is %(status)s; cannot unfreeze it."),
    "account.close": gettext_lazy("Account %(account)s is %(status)s; cannot close it."),
}


def _account_set_status(*, account: Account, reason: str, actor: Any, action: str) -> Account:
    """Moves an account to its next status, checked against the locked row (not the caller's copy)."""
    allowed_from, status = STATUS_TRANSITIONS[action]
    closing = action == "account.close"
    with transaction.atomic():
        locked, balances = _account_lock(account, closing=closing)
        if locked.status not in allowed_from:
            raise InvalidInput(STATUS_REFUSALS[action] % {"account": locked.number, "status": str(locked.get_status_display()).lower()}, field="account")
        after: dict[str, Any] = {"status": status, "status_reason": reason}
        if closing and (cancelled := _not_carried_cancel(locked, balances, actor)):
            after["not_carried_cancelled"] = cancelled
        before = {"status": locked.status, "status_reason": locked.status_reason}
        Account.objects.filter(pk=locked.pk).update(status=status, status_reason=reason)
        audit_record(actor=actor, action=action, obj=locked, before=before, after=after)
    account.status, account.status_reason = status, reason
    return account


def account_freeze(*, account: Account, reason: str, actor: Any) -> Account:
    """No value leaves the account's available buckets until it is unfrozen; incoming value still lands."""
    require_permission(actor, "registry.freeze_holdings")
    require_account_in_scope(actor, account)
    return _account_set_status(account=account, reason=require_reason(reason), actor=actor, action="account.freeze")


def account_unfreeze(*, account: Account, reason: str, actor: Any) -> Account:
    require_permission(actor, "registry.freeze_holdings")
    require_account_in_scope(actor, account)
    return _account_set_status(account=account, reason=require_reason(reason), actor=actor, action="account.unfreeze")


def account_close(*, account: Account, reason: str, actor: Any) -> Account:
    """An account closes only at zero balance in every bucket of every asset, but for allowances not
    carried over: those could never leave it, so the closing cancels them (in the same transaction)."""
    require_permission(actor, "registry.freeze_holdings")
    require_account_in_scope(actor, account)
    return _account_set_status(account=account, reason=require_reason(reason), actor=actor, action="account.close")


# --- cash ---


def _cash_movement_idempotent(*, kind: str, account: Account, amount: int, bank_reference: str) -> Transfer | None:
    """A bank record is booked once: the same record again returns the first booking."""
    existing = Transfer.objects.filter(kind=kind, external_reference=bank_reference).first()
    if existing is None:
        return None
    same_account = existing.destination_id == account.pk if kind == Transfer.Kind.DEPOSIT else existing.source_id == account.pk
    if not same_account or existing.amount != amount:
        raise IdempotencyConflict(_("Bank record %(reference)s was already booked differently.") % {"reference": bank_reference}, field="bank_reference")
    return existing


def _cash_check(account: Account, bank_reference: str) -> tuple[Asset, str]:
    if account.kind != Account.Kind.CASH:
        raise AssetNotAllowed(_("Account %(account)s is not a trading funds account.") % {"account": account.number}, field="account")
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise InvalidInput(_("Give the settlement bank's reference for this movement."), field="bank_reference")
    max_length = Transfer._meta.get_field("external_reference").max_length
    if len(bank_reference) > max_length:
        raise InvalidInput(_("The bank reference is at most %(max)s characters.") % {"max": max_length}, field="bank_reference")
    return Asset.objects.get(kind=Asset.Kind.CASH), bank_reference


def _post_cash(movement: Movement, *, actor: Any, action: str) -> Transfer:
    account = movement.destination or movement.source
    assert account is not None
    try:
        return _post_one(movement, actor=actor, action=action)
    except IntegrityError:
        # Two bookings of one bank record raced: the unique constraint let one through; the other
        # returns it (or a conflict if it differs).
        existing = _cash_movement_idempotent(
            kind=movement.kind, account=account, amount=movement.amount, bank_reference=movement.external_reference
        )
        if existing is None:
            raise
        return existing


def cash_deposit(*, account: Account, amount: int, bank_reference: str, actor: Any) -> Transfer:
    """Credits a participant's trading funds with money received by the settlement bank."""
    require_permission(actor, "registry.manage_cash")
    cny, bank_reference = _cash_check(account, bank_reference)
    _validate_amount(amount)
    existing = _cash_movement_idempotent(kind=Transfer.Kind.DEPOSIT, account=account, amount=amount, bank_reference=bank_reference)
    if existing:
        return existing
    movement = Movement(
        kind=Transfer.Kind.DEPOSIT, asset=cny, amount=amount, destination=account,
        destination_bucket=Bucket.AVAILABLE, external_reference=bank_reference,
    )
    return _post_cash(movement, actor=actor, action="cash.deposit")


def cash_withdraw(*, account: Account, amount: int, bank_reference: str, actor: Any) -> Transfer:
    """Pays available trading funds out to the participant's bank account."""
    require_permission(actor, "registry.manage_cash")
    cny, bank_reference = _cash_check(account, bank_reference)
    _validate_amount(amount)
    existing = _cash_movement_idempotent(kind=Transfer.Kind.WITHDRAWAL, account=account, amount=amount, bank_reference=bank_reference)
    if existing:
        return existing
    movement = Movement(
        kind=Transfer.Kind.WITHDRAWAL, asset=cny, amount=amount, source=account,
        source_bucket=Bucket.AVAILABLE, external_reference=bank_reference,
    )
    return _post_cash(movement, actor=actor, action="cash.withdraw")


# --- leaving circulation ---


def _out_of_circulation(
    *, kind: str, destination: Account, account: Account, asset: Asset, amount: int, actor: Any, reference: str, memo: str,
    audited_by_caller: bool,
) -> Transfer:
    """Available -> the retirement or cancellation account. `audited_by_caller`: the caller writes the
    one audit event of the change, naming this transfer, in the same transaction; otherwise this
    records `registry.<kind>`."""
    if not audited_by_caller:
        return transfer_create(source=account, destination=destination, asset=asset, amount=amount, actor=actor, kind=kind,
                               reference=reference, memo=memo)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audited_by_caller: call inside the transaction that records the audit event")
    (transfer,) = ledger_post([Movement(
        kind=kind, asset=asset, amount=amount, source=account, source_bucket=Bucket.AVAILABLE,
        destination=destination, destination_bucket=Bucket.AVAILABLE, reference=reference, memo=memo,
    )], actor=actor)
    return transfer


def allowances_retire(
    *, account: Account, asset: Asset, amount: int, actor: Any, reference: str = "", audited_by_caller: bool = False
) -> Transfer:
    """Available -> the retirement account: units surrendered for compliance. Irreversible.
    (`audited_by_caller`: compliance's surrender audits the change itself.)"""
    if asset.kind == Asset.Kind.CASH:
        raise AssetNotAllowed(_("Cash cannot be surrendered."), field="asset")
    return _out_of_circulation(kind=Transfer.Kind.SURRENDER, destination=system_account(Account.Kind.RETIREMENT), account=account,
                               asset=asset, amount=amount, actor=actor, reference=reference, memo="",
                               audited_by_caller=audited_by_caller)


def allowances_cancel(
    *, account: Account, asset: Asset, amount: int, actor: Any, reference: str = "", memo: str = "", audited_by_caller: bool = False
) -> Transfer:
    """Available -> the cancellation account: voluntary cancellation by the holder. Irreversible.
    (`audited_by_caller`: the offset registry's certificate audits the change itself.)"""
    if asset.kind == Asset.Kind.CASH:
        raise AssetNotAllowed(_("Cash cannot be cancelled."), field="asset")
    return _out_of_circulation(kind=Transfer.Kind.CANCELLATION, destination=system_account(Account.Kind.CANCELLATION),
                               account=account, asset=asset, amount=amount, actor=actor, reference=reference, memo=memo,
                               audited_by_caller=audited_by_caller)


# --- the ledger's proof of itself ---


def ledger_check_record(report: LedgerReport | None = None) -> LedgerCheck:
    """Keeps the outcome of the ledger proof (run now unless given), so auditors see when it last passed."""
    report = report or ledger_verify()
    return LedgerCheck.objects.create(
        ok=report.ok,
        balances_checked=report.balances_checked,
        transfers_checked=report.transfers_checked,
        problems=report.problems[:1000],
    )
