"""Pages: an account's balances and statement (the dashboard is web.views.dashboard)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import NotFound
from registry.selectors import account_balances, account_get_for, account_transfers


@login_required
def account_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        account = account_get_for(request.user, number)
    except NotFound:
        raise Http404("No such account") from None
    page = Paginator(account_transfers(account), 50).get_page(request.GET.get("page"))
    return render(
        request, "registry/account_detail.html", {"account": account, "balances": account_balances(account), "page": page}
    )
