from django.urls import path

from . import link_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("means/<int:pk>/renew/", views.means_renew, name="means_renew"),
    path("profile/", views.profile, name="profile"),
    path("links/<int:pk>/accept/", link_views.link_accept, name="link_accept"),
    path("links/<int:pk>/decline/", link_views.link_decline, name="link_decline"),
]
