from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

admin.site.site_header = _("National Carbon Allowance Registry: administration")
admin.site.site_title = _("Carbon registry admin")
admin.site.index_title = _("Registry, exchange and allocation")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("registry.api_urls")),
    path("api/v1/", include("trading.api_urls")),
    path("api/v1/", include("compliance.api_urls")),
    path("api/v1/", include("carryover.api_urls")),
    path("api/v1/", include("enforcement.api_urls")),
    path("api/v1/", include("offsets.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("accounts.urls")),
    path("", include("web.urls")),
    path("", include("registry.urls")),  # before reports: /disclosure/seal/ is not a period's disclosure
    path("", include("reports.urls")),
    path("", include("compliance.urls")),
    path("", include("offsets.urls")),
    path("", include("trading.urls")),
    path("", include("surveillance.urls")),
    path("", include("carryover.urls")),
    path("", include("enforcement.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
