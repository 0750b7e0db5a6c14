from django.urls import path

from .views import branches, overview, permissions, wizard

urlpatterns = [
    path("", overview.overview, name="manage_overview"),
    path("permissions/", permissions.permission_list, name="permission_list"),
    path("permissions/renew/", permissions.permission_renew_many, name="permission_renew_many"),
    path("permissions/<int:pk>/revoke/", permissions.permission_revoke, name="permission_revoke"),
    path("permissions/<int:pk>/renew/", permissions.permission_renew, name="permission_renew"),
    path("permissions/<int:pk>/activate/", permissions.permission_activate, name="permission_activate"),
    path("permissions/new/", wizard.permission_new, name="permission_new"),
    path("branches/", branches.branch_list, name="branch_list"),
]
