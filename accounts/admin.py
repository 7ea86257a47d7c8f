from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import ApiToken, Membership, User
from accounts.roles import Role
from accounts.selectors import rows_in_scope
from accounts.services import api_token_revoke
from core.admin import AuditedModelAdmin, ReadOnlyAdmin


class RoleFilter(admin.SimpleListFilter):
    """The users by role, named in the reader's language (the groups' own names are codes)."""

    title = _("role")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return Role.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        return queryset.filter(groups__name=self.value()) if self.value() else queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "roles"]
    list_filter = ["is_active", "is_staff", RoleFilter, "memberships__organization__province"]

    @admin.display(description=_("Roles"))
    def roles(self, user: User) -> str:
        """The roles by their names in the reader's language (a group that is no role, by its own name)."""
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(group.name, group.name)) for group in user.groups.all())

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("groups")


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "organization", "created_at"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "organization__name", "organization__uscc"]
    list_filter = ["organization__province", "organization__kind"]
    autocomplete_fields = ["user", "organization"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return rows_in_scope(super().get_queryset(request), request.user, "organization")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are created by their users (/profile/tokens/, the key is shown once); staff can only revoke."""

    list_display = ["name", "user", "token_key", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix", "user__username"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    @admin.display(description=_("Key"))
    def token_key(self, token: ApiToken) -> str:
        return token.display_key

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token, actor=request.user)
        self.message_user(request, ngettext("Revoked %(count)s token.", "Revoked %(count)s tokens.", len(tokens))
                          % {"count": len(tokens)}, messages.SUCCESS)
