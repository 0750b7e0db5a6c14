from django.urls import path

from .views import overview, wizard

urlpatterns = [
    path("", overview.overview, name="manage_overview"),
    path("permissions/new/", wizard.permission_new, name="permission_new"),
    # Added by the Permissions work (issue 3):
    #   permissions/                      permission_list        views.permissions
    #   permissions/new/                  permission_new         views.wizard
    #   permissions/<int:pk>/revoke/      permission_revoke      views.permissions
    #   permissions/<int:pk>/renew/       permission_renew       views.permissions
    #   permissions/renew/                permission_renew_many  views.permissions
    #   permissions/<int:pk>/activate/    permission_activate    views.permissions
]
