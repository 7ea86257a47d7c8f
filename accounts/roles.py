"""The roles of RULEBOOK.md as Django groups, and the permissions each role holds.

Permissions are named by string so that this module imports no other app. `roles_sync` (run after
every migrate) makes the groups match this table exactly.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NATIONAL_REGULATOR = "national_regulator", _("National regulator")
    PROVINCIAL_REGULATOR = "provincial_regulator", _("Provincial regulator")
    EXCHANGE_OPERATOR = "exchange_operator", _("Exchange operator")
    COMPANY_TRADER = "company_trader", _("Company trader")
    COMPLIANCE_OFFICER = "compliance_officer", _("Company compliance officer")
    VERIFIER = "verifier", _("Verifier")
    AUDITOR = "auditor", _("Auditor")


# Roles whose staff may never trade (RULEBOOK.md: Actors and roles).
NON_TRADING_ROLES = frozenset(
    {Role.NATIONAL_REGULATOR, Role.PROVINCIAL_REGULATOR, Role.EXCHANGE_OPERATOR, Role.VERIFIER, Role.AUDITOR}
)

_READ_REGISTRY = [
    "accounts.view_organization",
    "accounts.view_membership",
    "registry.view_asset",
    "registry.view_account",
    "registry.view_balance",
    "registry.view_transfer",
    "registry.view_accountstatuschange",
    "core.view_auditevent",
]

# The ledger seal chain's page (/audit/seal-chain/).
_READ_SEAL = ["registry.view_sealblock", "registry.view_sealcheck"]

_READ_ALLOCATION = [
    "allocation.view_complianceperiod",
    "allocation.view_benchmark",
    "allocation.view_allocationplan",
    "allocation.view_allocationline",
    "allocation.view_deduction",
    "allocation.view_emittingunit",
    "allocation.view_allocationcut",
]

# The carry-over cap's windows and statements (carryover app).
_READ_CARRY_OVER = ["carryover.view_carryoverwindow", "carryover.view_carryoverline"]

_READ_MARKET = [
    "trading.view_auction",
    "trading.view_instrument",
    "trading.view_order",
    "trading.view_trade",
    "trading.view_dailybar",
    "trading.view_holiday",
]

# Enforcement (enforcement/): regulators open cases and propose decisions, a second regulator approves;
# regulators confirm companies' disclosures; auditors read.
_READ_ENFORCEMENT = ["enforcement.view_fraudcase", "enforcement.view_decision", "enforcement.view_disclosure"]
_ENFORCE = _READ_ENFORCEMENT + ["enforcement.add_fraudcase", "enforcement.add_decision", "enforcement.approve_decision",
                                "enforcement.confirm_disclosure"]

# Surveillance (the exchange operator decides on alerts; national regulators read, escalations included).
_READ_SURVEILLANCE = ["surveillance.view_alert", "surveillance.view_partygroup", "surveillance.view_groupmember"]

# The offset registry (offsets): reading it; a national regulator also registers and issues (maker-checker).
_READ_OFFSETS = ["offsets.view_methodology", "offsets.view_project", "offsets.view_issuance", "offsets.view_serialblock",
                 "offsets.view_blockmovement", "offsets.view_certificate"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.NATIONAL_REGULATOR: _READ_REGISTRY
    + _READ_MARKET
    + [
        "accounts.view_all_organizations",
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.view_user",
        "registry.issue_allowances",
        "registry.freeze_holdings",
        "registry.add_asset",
        "trading.halt_market",
        "trading.add_auction",  # announces paid-allocation auctions; the exchange operator approves
    ]
    + _READ_SURVEILLANCE
    + _READ_ALLOCATION
    + [
        "allocation.add_complianceperiod",
        "allocation.change_complianceperiod",
        "allocation.add_benchmark",
        "allocation.change_benchmark",
        "allocation.add_emittingunit",  # (units are also made by the imports that first name them)
        "allocation.change_emittingunit",
        "allocation.add_allocationplan",
        "allocation.approve_allocationplan",
        "compliance.add_verifiedemission",
        "compliance.view_verifiedemission",
        "compliance.view_surrender",
        "compliance.view_complianceresult",
        "compliance.view_obligation",
        "compliance.view_emissionreport",
        "compliance.view_verifierassignment",
        "compliance.add_verifierassignment",
        "compliance.change_verifierassignment",
    ]
    + _READ_CARRY_OVER
    + ["carryover.add_carryoverwindow", "carryover.change_carryoverwindow", "carryover.approve_carryoverwindow"]
    + _ENFORCE
    + _READ_SEAL
    + _READ_OFFSETS
    + ["offsets.add_methodology", "offsets.change_methodology", "offsets.add_project", "offsets.change_project", "offsets.add_issuance",
       "offsets.approve_issuance"],
    Role.PROVINCIAL_REGULATOR: _READ_REGISTRY
    + _READ_MARKET
    + [
        "accounts.view_province_organizations",
        "accounts.add_organization",
        "accounts.change_organization",
        "registry.freeze_holdings",
    ]
    + _READ_ALLOCATION
    + ["allocation.add_allocationplan"]  # proposes for its province; national regulators approve
    + ["compliance.add_verifiedemission", "compliance.view_verifiedemission", "compliance.view_surrender",
       "compliance.view_complianceresult", "compliance.view_obligation", "compliance.view_emissionreport",
       "compliance.confirm_emissionreport", "compliance.view_verifierassignment", "compliance.add_verifierassignment",
       "compliance.change_verifierassignment"]
    + _ENFORCE,
    Role.EXCHANGE_OPERATOR: _READ_REGISTRY
    + _READ_MARKET
    + ["accounts.view_all_organizations", "registry.manage_cash", "trading.operate_market", "trading.halt_market",
       "trading.approve_auction", "trading.add_holiday", "trading.change_holiday", "trading.delete_holiday"]
    + _READ_SURVEILLANCE
    + ["surveillance.decide_alert", "surveillance.add_partygroup", "surveillance.change_partygroup",
       "surveillance.delete_partygroup", "surveillance.add_groupmember", "surveillance.change_groupmember",
       "surveillance.delete_groupmember"],
    Role.AUDITOR: _READ_REGISTRY + _READ_MARKET + _READ_ALLOCATION + _READ_CARRY_OVER + _READ_OFFSETS
    + ["accounts.view_all_organizations", "accounts.view_user", "compliance.view_verifiedemission",
       "compliance.view_surrender", "compliance.view_complianceresult", "compliance.view_obligation",
       "compliance.view_emissionreport", "compliance.view_verifierassignment"]
    + _READ_ENFORCEMENT
    + _READ_SEAL + ["registry.run_seal_check"],
    # Verifiers see and verify the reports of the units assigned to them (compliance.selectors).
    Role.VERIFIER: ["compliance.verify_emissionreport"],
    # Company staff act only on their own organization's accounts (accounts.selectors).
    Role.COMPANY_TRADER: ["trading.trade"],
    Role.COMPLIANCE_OFFICER: ["compliance.surrender", "compliance.view_obligation", "compliance.add_emissionreport",
                              "enforcement.add_disclosure", "offsets.cancel_units"],
}


def roles_sync(**kwargs: object) -> None:
    """Creates the role groups and sets their permissions to exactly ROLE_PERMISSIONS."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # post_migrate reaches apps one at a time: make every app's permissions exist before naming them.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)

    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is None:
                raise LookupError(f"role {role} names unknown permission {name}")
            wanted.append(permission)
        group.permissions.set(wanted)
