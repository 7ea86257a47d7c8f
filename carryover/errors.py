from django.utils.translation import gettext_lazy

from core.errors import DomainError


class WindowNotInState(DomainError):
    code = "carry_over_state"
    status = 409
    default_message = gettext_lazy("The carry-over window is not in a state that allows this.")


class WindowStillOpen(DomainError):
    code = "window_open"
    status = 409
    default_message = gettext_lazy("The plan window has not closed: a period of it is still open.")


class ComputationStale(DomainError):
    code = "computation_stale"
    status = 409
    default_message = gettext_lazy("The window's parameters changed after the computation: compute it again.")


class SameRegulator(DomainError):
    code = "carry_over_maker_checker"
    status = 403
    default_message = gettext_lazy("A carry-over computation must be approved by a regulator other than the one who "
                                   "computed or submitted it.")
