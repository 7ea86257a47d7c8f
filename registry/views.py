"""Pages: an account's balances and statement (the dashboard is web.views.dashboard), the
auditors' seal chain, and the chain's head for everyone (/disclosure/seal/)."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import NotFound
from registry.models import SealCheck
from registry.seal import seal_check_record
from registry.seal_publication import PUBLIC_KEY_FILE, public_key_hex, public_key_pem, seal_head
from registry.selectors import account_balances, account_get_for, account_transfers, seal_chain_overview, seal_check_get


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


@login_required
@permission_required("registry.view_sealblock", raise_exception=True)
@require_http_methods(["GET", "POST"])
def seal_chain(request: HttpRequest) -> HttpResponse:
    """The latest blocks and checks; POST (auditors) recomputes the chain now and shows the outcome."""
    if request.method == "POST":
        if not request.user.has_perm("registry.run_seal_check"):
            raise PermissionDenied
        check = seal_check_record(actor=request.user, source=SealCheck.Source.PAGE)
        return redirect("seal-check", pk=check.pk)
    return render(request, "registry/seal_chain.html", {"overview": seal_chain_overview()})


@login_required
@permission_required("registry.view_sealcheck", raise_exception=True)
def seal_check(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        check, block = seal_check_get(pk)
    except NotFound:
        raise Http404("No such seal check") from None
    return render(request, "registry/seal_check.html", {"check": check, "broken_block": block})


@require_GET
def seal_disclosure(request: HttpRequest) -> HttpResponse:
    """Public: the seal chain's head and the key that signs the published daily files, so that anyone
    can keep a copy of the head and later check the registry against it."""
    return render(request, "registry/seal_disclosure.html", {
        "head": seal_head(), "public_key_hex": public_key_hex(), "public_key_pem": public_key_pem(),
        "public_key_file": PUBLIC_KEY_FILE,
    })


@require_GET
def seal_disclosure_json(request: HttpRequest) -> JsonResponse:
    head = seal_head()
    return JsonResponse({"head": head.as_json() if head else None, "public_key": public_key_hex()})
