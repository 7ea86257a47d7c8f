"""The participants' accounts as order entry, the matcher and settlement find them: an organization's
holding and trading funds accounts, and the CNY asset. Below the services and the matcher, which both
use them (trading's modules depend one way: matching <- matcher <- services <- tasks)."""

from __future__ import annotations

from typing import Any

from registry.models import Account, Asset


def participant_accounts(organization_ids: set[int]) -> dict[int, tuple[Account, Account]]:
    """{organization id: (holding account, cash account)}."""
    found: dict[int, dict[str, Account]] = {}
    for account in Account.objects.filter(organization_id__in=organization_ids, kind__in=[Account.Kind.HOLDING, Account.Kind.CASH]):
        found.setdefault(account.organization_id, {})[account.kind] = account
    return {
        org_id: (kinds[Account.Kind.HOLDING], kinds[Account.Kind.CASH])
        for org_id, kinds in found.items()
        if Account.Kind.HOLDING in kinds and Account.Kind.CASH in kinds
    }


_account_cache: dict[int, tuple[Account, Account]] = {}
_cash_asset: list[Asset] = []


def participant_accounts_cached(organization_ids: set[int]) -> dict[int, tuple[Account, Account]]:
    """`participant_accounts`, remembered by this process: which accounts an organization has never
    changes (their status is read fresh under the balance lock by the ledger)."""
    missing = organization_ids - _account_cache.keys()
    if missing:
        _account_cache.update(participant_accounts(missing))
    return {org_id: _account_cache[org_id] for org_id in organization_ids if org_id in _account_cache}


def cash_asset() -> Asset:
    if not _cash_asset:
        _cash_asset.append(Asset.objects.get(code="CNY"))
    return _cash_asset[0]


_fees_account: list[Account] = []


def fees_account() -> Account:
    """The exchange's fee account (SYS-FEES)."""
    if not _fees_account:
        _fees_account.append(Account.objects.get(kind=Account.Kind.EXCHANGE_FEES))
    return _fees_account[0]


def participants_forget(**kwargs: Any) -> None:
    """Forgets the remembered rows (after migrate, and after the test runner flushes the database)."""
    _account_cache.clear()
    _cash_asset.clear()
    _fees_account.clear()
