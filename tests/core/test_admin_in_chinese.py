"""Every string the regulator and auditor see in zh-hans is Chinese (issue 16, item 4).

- The catalogue: for every model of the project's apps registered in the admin, its name (singular
  and plural), its app's name, every field's verbose name and help text, every choice label, every
  list column's title and every action's description has a Simplified Chinese translation that is
  not the English text.
- The pages: a national regulator and an auditor whose language is zh-hans walk the admin index, every
  model's list, one record's detail page of each, the import and review pages and the regulator's
  home; no run of Latin text on them is one of the project's admin labels in English (as in
  "选择allocation plan查看", the bug that opened the issue).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.db import models
from django.test import Client
from django.urls import get_resolver
from django.utils.translation import override

from accounts.models import Organization, User
from accounts.roles import Role
from allocation.models import AllocationPlan
from core.admin import DJANGO_ADMIN_STRINGS, UnitsAdmin
from tests.auth import login

APPS = ("accounts", "allocation", "compliance", "core", "registry", "reports", "trading", "web", "demo")
CJK = re.compile(r"[\u3400-\u9fff]")
# Read the same in both languages on purpose: the languages' own names (settings.LANGUAGES), which
# the language choice shows each in itself, and "ID", Django's name for the automatic primary key.
SAME_IN_BOTH = {"English", "简体中文", "ID"}


def _project_admins() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return sorted(((model, model_admin) for model, model_admin in admin.site._registry.items()
                   if model._meta.app_label in APPS), key=lambda pair: pair[0]._meta.label)


def _labels(model: type[models.Model], model_admin: admin.ModelAdmin) -> Iterator[tuple[str, Any]]:
    """(where, text) for every label of the model the admin shows."""
    opts = model._meta
    yield f"{opts.label} app name", opts.app_config.verbose_name
    yield f"{opts.label} verbose_name", opts.verbose_name
    yield f"{opts.label} verbose_name_plural", opts.verbose_name_plural
    for field in opts.get_fields():
        if field.auto_created and (not field.concrete or getattr(field, "primary_key", False)):
            continue  # reverse relations (named by the other model) and the automatic "ID"
        yield f"{opts.label}.{field.name} verbose_name", field.verbose_name
        if field.help_text:
            yield f"{opts.label}.{field.name} help_text", field.help_text
        for value, label in getattr(field, "flatchoices", None) or ():
            yield f"{opts.label}.{field.name} choice {value!r}", label
    for name in model_admin.list_display:
        if name != "__str__":
            yield f"{opts.label} list column {name}", label_for_field(name, model, model_admin)
    for name in model_admin.actions or ():
        action = getattr(model_admin, name) if isinstance(name, str) else name
        yield f"{opts.label} action {getattr(action, '__name__', name)}", action.short_description


def _in(language: str, text: Any) -> str:
    with override(language):
        return str(text)


def test_the_project_registers_its_models_in_the_admin_through_units_admin():
    admins = _project_admins()
    assert len(admins) >= 24  # the walk below covers them all, not a handful
    # Every one shows fen, tonnes and times the registry's way (core.admin.UnitsAdmin), except
    # Django's own user admin mixed in (it keeps its fieldsets).
    assert [model._meta.label for model, model_admin in admins if not isinstance(model_admin, UnitsAdmin)] == []


def _site_texts() -> list[tuple[str, Any]]:
    """The admin site's header and titles, as the URLconf sets them (imported first: a test may run
    before any request has loaded it)."""
    get_resolver().url_patterns  # noqa: B018
    return [(f"admin site {name}", getattr(admin.site, name)) for name in ("site_header", "site_title", "index_title")]


def test_every_label_of_the_projects_admin_models_has_a_chinese_translation():
    texts = [*_site_texts(), *(label for model, model_admin in _project_admins() for label in _labels(model, model_admin))]
    untranslated = []
    for where, text in texts:
        english, chinese = _in("en", text), _in("zh-hans", text)
        if english not in SAME_IN_BOTH and (chinese == english or not CJK.search(chinese)):
            untranslated.append(f"{where}: {english!r} -> {chinese!r}")
    assert untranslated == []


def test_the_catalogue_check_would_catch_an_untranslated_label():
    """The check above fails on a label with no translation (it is not vacuous)."""
    from django.utils.translation import gettext_lazy

    field = models.CharField(gettext_lazy("a label nobody translated"))
    assert _in("zh-hans", field.verbose_name) == _in("en", field.verbose_name)
    assert not CJK.search(_in("zh-hans", field.verbose_name))


# --- the pages ---

# Text that is data, not a label: the audit record's before/after (JSON of field names and values).
_DATA_ROWS = ("field-before", "field-after")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside <script>, <style> and the data rows above, and the
    labels of buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[str] = []
        self._open: list[bool] = []  # per open element: is its text hidden?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.runs.append(attributes["value"] or "")
        if tag in _VOID:
            return
        hidden = tag in ("script", "style") or any(row in (attributes.get("class") or "").split() for row in _DATA_ROWS)
        self._open.append(hidden or bool(self._open and self._open[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not (self._open and self._open[-1]) and data.strip():
            self.runs.append(data)


# Between two runs of Latin text: Chinese characters, full-width punctuation, brackets and quotes, and
# punctuation that ends a word ("Kind:"), but not the dots and colons inside a code ("plan.approve",
# "trade:17"), which are data.
_SEPARATORS = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef()\[\]{}/|·›‹«»—–\"“”']+|[:;,.!?](?=\s|$)")


def _latin_runs(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    runs = set()
    for text in parser.runs:
        for run in _SEPARATORS.split(text):
            run = " ".join(run.split()).lower()
            if run:
                runs.add(run)
    return runs


def _english_labels() -> set[str]:
    """The project's admin labels in English, lower case (single letters and codes aside), the roles'
    names and codes (the users' list and filter show them), the strings of Django's admin that this
    project translates (core.admin.DJANGO_ADMIN_STRINGS) and the site's header and titles, as runs
    of Latin text."""
    labels = set()
    texts = [text for model, model_admin in _project_admins() for _where, text in _labels(model, model_admin)]
    site = [run for _where, text in _site_texts() for run in _SEPARATORS.split(_in("en", text))]  # "…: administration"
    for text in [*texts, *Role.labels, *Role.values, *DJANGO_ADMIN_STRINGS, *site]:
        english = " ".join(_in("en", text).split())
        if english not in SAME_IN_BOTH and len(english) > 2 and english != english.upper():
            labels.add(english.lower())
    return labels


def test_the_page_check_finds_an_english_label_among_chinese_text():
    labels = _english_labels()
    assert "allocation plan" in labels and "verified emissions" in labels and "national regulator" in labels
    page = ("<h1>选择allocation plan查看</h1><script>var kind = 'Kind';</script><p>配额分配方案</p>"
            '<div class="form-row field-after"><div class="readonly">{"status": "draft"}</div></div><p>plan.submit</p>'
            "<label>Status:</label>")
    assert _latin_runs(page) & labels == {"allocation plan", "status"}


def _client_in_chinese(user: User) -> Client:
    user.language = "zh-hans"
    user.save(update_fields=["language"])
    return login(Client(), user)


def _pages(client: Client, user: User) -> Iterator[str]:
    """The admin pages the user may open: the index, each model's list and its first record's detail,
    then the plan review and import pages and the regulator's home where the user may see them."""
    yield "/admin/"
    for model, _model_admin in _project_admins():
        opts = model._meta
        changelist = f"/admin/{opts.app_label}/{opts.model_name}/"
        if client.get(changelist).status_code != 200:
            continue  # not this user's (the index does not list it either)
        yield changelist
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            yield f"{changelist}{first.pk}/change/"
    plan = AllocationPlan.objects.order_by("pk").first()
    yield f"/admin/allocation/allocationplan/{plan.pk}/review/"
    if user.has_perm("allocation.add_allocationplan"):
        yield "/admin/allocation/allocationplan/import/"
    if user.has_perm("compliance.add_verifiedemission"):
        yield "/admin/compliance/verifiedemission/import/"
    if user.has_perm("allocation.approve_allocationplan"):
        yield "/regulator/"


# Names in Django's own help text: the keys of a Mac ("Hold down Control, or Command on a Mac").
KEY_NAMES = {"control", "command"}


def _data_names() -> set[str]:
    """What users typed or chose as names (usernames, organizations' names), lower case: data that may
    read like a label (a user called "verifier", a province's regulator "shandong...")."""
    return {name.lower() for name in [*User.objects.values_list("username", flat=True),
                                      *Organization.objects.values_list("name", flat=True)]}


def _walk(username: str) -> tuple[list[str], list[str]]:
    user = User.objects.get(username=username)
    client = _client_in_chinese(user)
    labels = _english_labels() - _data_names() - KEY_NAMES
    walked, english = [], []
    for url in _pages(client, user):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'lang="zh-hans"' in html, url
        walked.append(url)
        english += [f"{url}: {run!r}" for run in sorted(_latin_runs(html) & labels)]
    return walked, english


@pytest.mark.django_db(transaction=True)
def test_the_national_regulator_sees_every_admin_page_in_chinese(demo):
    walked, english = _walk("regulator1")
    assert len([url for url in walked if url.endswith("/change/")]) >= 15 and "/regulator/" in walked
    assert english == [], "\n".join(english)


@pytest.mark.django_db(transaction=True)
def test_the_auditor_sees_every_admin_page_in_chinese(demo):
    walked, english = _walk("auditor")
    assert "/admin/registry/transfer/" in walked and "/admin/core/auditevent/" in walked
    assert english == [], "\n".join(english)


@pytest.mark.django_db(transaction=True)
def test_the_audit_trail_names_object_types_the_system_and_roles_in_chinese(demo):
    client = _client_in_chinese(User.objects.get(username="regulator1"))
    plans = client.get("/admin/core/auditevent/?object_type=allocation.allocationplan").content.decode()
    assert '<td class="field-object_type_shown">配额分配方案</td>' in plans
    assert "allocation.allocationplan</td>" not in plans
    jobs = client.get("/admin/core/auditevent/?actor_label=system").content.decode()
    assert '<td class="field-actor_label_shown">系统</td>' in jobs
    users = client.get("/admin/accounts/user/?role=national_regulator").content.decode()
    assert "国家主管部门" in users and "regulator2" in users and "trader001" not in users
