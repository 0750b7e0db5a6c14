from django.urls import path

from . import manage_views

urlpatterns = [
    path("", manage_views.users_list, name="users_list"),
    path("add/", manage_views.users_add, name="users_add"),
    path("add/preview/", manage_views.users_add_preview, name="users_add_preview"),
    path("add/template.csv", manage_views.users_add_template, name="users_add_template"),
    path("renew-means/", manage_views.users_means_renew, name="users_means_renew"),
    path("<int:pk>/upgrade/", manage_views.users_upgrade, name="users_upgrade"),
]
