from allauth.account.decorators import reauthentication_required, secure_admin_login
from allauth.account.views import password_change
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
    # Changing the password asks for the strongest factor again, like the email address and
    # the second factor do in allauth (the old password alone is not enough).
    path(
        "accounts/password/change/",
        reauthentication_required(password_change, allow_get=True, app="allauth.account"),
        name="account_change_password",
    ),
    path("accounts/", include("allauth.urls")),
    path("manage/users/", include("users.manage_urls")),
    path("manage/requests/", include("requests_app.urls")),
    path("manage/", include("authorizations.urls")),
    path("", include("requests_app.public_urls")),
    path("", include("users.urls")),
    prefix_default_language=False,
)

handler403 = "reconi.views.permission_denied"
handler404 = "reconi.views.page_not_found"
handler500 = "reconi.views.server_error"
