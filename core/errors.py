"""Domain errors: one hierarchy, each class with a stable `code` that API clients may rely on.

Services raise these; the API exception handler (core.api) turns them into
`{"code", "message", "field"}` and the pages into form errors. Never return error strings.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy


class DomainError(Exception):
    code = "domain_error"
    status = 400
    default_message = gettext_lazy("The request could not be carried out.")

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        # Translated now, in the language of the request that caused it: a default message, or a
        # message given lazily (gettext_lazy), becomes a plain string. Give messages through gettext
        # with %(name)s placeholders, never as plain or f-strings (tests/core/test_translations.py).
        self.message = str(message or self.default_message)
        self.field = field
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


# --- bad input (400) ---
class InvalidInput(DomainError):
    code = "invalid"
    default_message = gettext_lazy("The value is not valid.")


class NonPositiveAmount(DomainError):
    code = "non_positive_amount"
    default_message = gettext_lazy("The amount must be a positive whole number.")


class AmountTooLarge(DomainError):
    code = "amount_too_large"
    default_message = gettext_lazy("The amount is larger than the registry accepts.")


class UnknownAsset(DomainError):
    code = "unknown_asset"
    default_message = gettext_lazy("No such asset.")


class UnknownAccount(DomainError):
    code = "unknown_account"
    status = 404
    default_message = gettext_lazy("No such account.")


class AssetNotAllowed(DomainError):
    code = "asset_not_allowed"
    default_message = gettext_lazy("This account cannot hold this asset.")


class InvalidUSCC(DomainError):
    code = "invalid_uscc"
    default_message = gettext_lazy("Not a valid Unified Social Credit Code.")


# --- refused by the state of things (409) ---
class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    status = 409
    default_message = gettext_lazy("The balance is too small for this movement.")


class AccountFrozen(DomainError):
    code = "account_frozen"
    status = 409
    default_message = gettext_lazy("The account is frozen.")


class AccountClosed(DomainError):
    code = "account_closed"
    status = 409
    default_message = gettext_lazy("The account is closed.")


class AccountNotEmpty(DomainError):
    code = "account_not_empty"
    status = 409
    default_message = gettext_lazy("An account closes only at zero balance.")


class StatusChangePending(DomainError):
    code = "status_change_pending"
    status = 409
    default_message = gettext_lazy("A change of this account is already proposed.")


class StatusChangeDecided(DomainError):
    code = "status_change_decided"
    status = 409
    default_message = gettext_lazy("This change has already been decided.")


class StatusChangeMakerChecker(DomainError):
    code = "status_change_maker_checker"
    status = 403
    default_message = gettext_lazy("A change of an account's status is approved or rejected by a regulator other than the one who proposed it.")


class AlreadyExists(DomainError):
    code = "already_exists"
    status = 409
    default_message = gettext_lazy("This already exists.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    default_message = gettext_lazy("This key was already used for a different request.")


class IdempotencyKeyMismatch(DomainError):
    code = "idempotency_key_mismatch"
    status = 422
    default_message = gettext_lazy("The Idempotency-Key header and the request's own id differ.")


class ImportRefused(DomainError):
    """A file of rows with errors: nothing was saved. `errors` lists every row's error."""

    code = "import_refused"
    default_message = gettext_lazy("The file has errors; nothing was saved.")

    def __init__(self, errors: list) -> None:  # type: ignore[type-arg]
        rows = len({getattr(error, "row", index) for index, error in enumerate(errors)})  # rows, not errors
        super().__init__(gettext("%(count)s row(s) have errors; nothing was saved.") % {"count": rows}, field="file")
        self.errors = errors


class RequestTooLarge(DomainError):
    code = "request_too_large"
    status = 413
    default_message = gettext_lazy("The request body is too large.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = gettext_lazy("Too many requests: try again shortly.")

    def __init__(self, retry_after: int) -> None:
        super().__init__(gettext("Too many requests: try again in %(seconds)s s.") % {"seconds": retry_after})
        self.retry_after = retry_after


# --- who may do what ---
class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = gettext_lazy("You are not allowed to do this.")


class NotEligible(DomainError):
    code = "not_eligible"
    status = 403
    default_message = gettext_lazy("Your role or organization does not allow this.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = gettext_lazy("Not found.")


class TwoFactorRequired(DomainError):
    code = "two_factor_required"
    status = 403
    default_message = gettext_lazy("This account must pass two-factor authentication first: enrol or verify at /account/two-factor/.")


class InvalidCode(DomainError):
    code = "invalid_code"
    default_message = gettext_lazy("That code is not valid. Enter the current six-digit code from your authenticator app.")

    def __init__(self, message: str | None = None, *, field: str | None = "code") -> None:
        super().__init__(message, field=field)
