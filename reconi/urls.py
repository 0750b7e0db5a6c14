from allauth.account.decorators import secure_admin_login
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from reconi import views
from users.views import language_switch

# Staff log in through allauth (rate limits, second factor), never the admin's own form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("i18n/setlang/", language_switch, name="set_language"),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("requests_app.urls")),
    path("", include("portal.urls")),
    path("", include("users.urls")),
    prefix_default_language=False,
)

handler403 = "reconi.views.permission_denied"
handler404 = "reconi.views.page_not_found"
handler500 = "reconi.views.server_error"
