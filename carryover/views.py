"""The company's carry-over statements: for each approved plan window, its cap, its holding and what
was not carried over (with the ledger transfers that marked it). A user sees only its own
organizations' statements; regulators review every company's in the admin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carryover.selectors import statements_for


@login_required
def statements(request: HttpRequest) -> HttpResponse:
    return render(request, "carryover/statements.html", {
        "statements": statements_for(request.user),
        "reviews": request.user.has_perm("carryover.view_carryoverwindow"),
    })
