from django.urls import path

from . import manage_views

urlpatterns = [
    path("", manage_views.request_list, name="request_list"),
    path("new/", manage_views.request_new, name="request_new"),
    path("<int:pk>/", manage_views.request_detail, name="request_detail"),
]
