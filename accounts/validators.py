from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

# python-stdnum explains a refusal in English only: its reasons, in the caller's language.
REASONS = {
    stdnum_errors.InvalidLength: gettext_lazy("the number has an invalid length"),
    stdnum_errors.InvalidFormat: gettext_lazy("the number has an invalid format"),
    stdnum_errors.InvalidChecksum: gettext_lazy("the number's checksum or check digit is invalid"),
    stdnum_errors.InvalidComponent: gettext_lazy("one of the parts of the number is invalid or unknown"),
}


def validate_uscc(value: str) -> None:
    """GB 32100-2015: 18 characters, region digits, and the check character at the end."""
    try:
        stdnum_uscc.validate(value)
    except stdnum_errors.ValidationError as error:
        reason = next((str(text) for kind, text in REASONS.items() if isinstance(error, kind)),
                      str(error.message).rstrip(".").lower())
        raise ValidationError(
            _("%(value)s is not a valid Unified Social Credit Code: %(reason)s"),
            code="invalid_uscc",
            params={"value": value, "reason": reason},
        ) from None
    if stdnum_uscc.compact(value) != value:
        raise ValidationError(_("Write the code as 18 upper-case characters without spaces."), code="invalid_uscc")
