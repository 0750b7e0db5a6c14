"""Every page of My Reconi and its Manage tab. Names and paths are part of the contract."""

from django.urls import path

from .views import (
    home,
    manage_branches,
    manage_overview,
    manage_permission_new,
    manage_permissions,
    manage_requests,
    manage_users,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("means/<int:pk>/renew/", home.means_renew, name="means_renew"),
    path("links/<int:pk>/accept/", home.link_accept, name="link_accept"),
    path("links/<int:pk>/decline/", home.link_decline, name="link_decline"),
    path("manage/", manage_overview.overview, name="manage_overview"),
    path("manage/permissions/", manage_permissions.permission_list, name="permission_list"),
    path("manage/permissions/renew/", manage_permissions.permission_renew_many, name="permission_renew_many"),
    path("manage/permissions/<int:pk>/revoke/", manage_permissions.permission_revoke, name="permission_revoke"),
    path("manage/permissions/<int:pk>/renew/", manage_permissions.permission_renew, name="permission_renew"),
    path("manage/permissions/<int:pk>/activate/", manage_permissions.permission_activate, name="permission_activate"),
    path("manage/branches/", manage_branches.branch_list, name="branch_list"),
    path("manage/permissions/new/", manage_permission_new.permission_new, name="permission_new"),
    path("manage/users/", manage_users.users_list, name="users_list"),
    path("manage/users/add/", manage_users.users_add, name="users_add"),
    path("manage/users/add/preview/", manage_users.users_add_preview, name="users_add_preview"),
    path("manage/users/renew-means/", manage_users.users_means_renew, name="users_means_renew"),
    path("manage/users/<int:pk>/upgrade/", manage_users.users_upgrade, name="users_upgrade"),
    path("manage/requests/", manage_requests.request_list, name="request_list"),
    path("manage/requests/new/", manage_requests.request_new, name="request_new"),
    path("manage/requests/<int:pk>/", manage_requests.request_detail, name="request_detail"),
]
