from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError


def validate_uscc(value: str) -> None:
    """GB 32100-2015: 18 characters, region digits, and the check character at the end."""
    try:
        stdnum_uscc.validate(value)
    except StdnumError as error:
        raise ValidationError(
            "%(value)s is not a valid Unified Social Credit Code: %(reason)s",
            code="invalid_uscc",
            params={"value": value, "reason": str(error.message).rstrip(".").lower()},
        ) from None
    if stdnum_uscc.compact(value) != value:
        raise ValidationError("Write the code as 18 upper-case characters without spaces.", code="invalid_uscc")
